from openrehab.cli import main

main()
