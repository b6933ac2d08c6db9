"""The ``openrehab`` command line: a thin shell over the packages.

Each concern registers its own commands (``register(app)``) so this file stays small and
the packages stay independent of each other.
"""

from __future__ import annotations

import sys

import typer

from openrehab import __version__

app = typer.Typer(
    name="openrehab",
    help="OpenRehab: home rehabilitation for people living with spasticity. Not a medical device.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"openrehab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version_callback,
        is_eager=True,
        help="Show the version and exit.",
    ),
) -> None:
    """OpenRehab command line."""


def _register_all() -> None:
    # Imported here so that `openrehab --version` stays fast and one package's import
    # problem is reported clearly instead of breaking every command.
    from openrehab.care import commands as care_commands
    from openrehab.exercises import commands as exercise_commands
    from openrehab.motion import commands as motion_commands
    from openrehab.pose import commands as pose_commands
    from openrehab.program import commands as program_commands
    from openrehab.reports import commands as report_commands
    from openrehab.web import commands as web_commands

    web_commands.register(app)
    motion_commands.register(app)
    pose_commands.register(app)  # after motion: adds `bench video` to its bench group
    web_commands.register_bench(app)  # adds `bench api` to the same group
    exercise_commands.register(app)
    program_commands.register(app)
    care_commands.register(app)  # `tardieu`, and `bench tardieu` in the bench group
    report_commands.register(app)  # `report`, `export csv`


_register_all()


def main() -> None:
    """Entry point of the ``openrehab`` console script."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        sys.exit(130)
