"""Make the services tests' ``service_helpers`` importable for the reports tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "services"))
