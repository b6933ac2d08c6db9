"""``openrehab exercises [--region R] [--json]``: print the exercise library."""

from __future__ import annotations

import json

import typer

from openrehab.exercises.library import ExerciseLibraryError, load_library
from openrehab.exercises.schema import REGIONS

REGION_CHOICES = (*REGIONS, "functional")


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def register(app: typer.Typer) -> None:
    """Add this package's commands to the ``openrehab`` CLI."""

    @app.command("exercises")
    def exercises_command(
        region: str | None = typer.Option(
            None, "--region", help=f"Only this region: {', '.join(REGION_CHOICES)}."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON (a list of objects)."),
    ) -> None:
        """List the exercise library (not a medical device: follow your therapist's advice)."""
        if region is not None and region not in REGION_CHOICES:
            typer.echo(
                f"error: --region: unknown region {region!r}; choose one of "
                f"{', '.join(REGION_CHOICES)}",
                err=True,
            )
            raise typer.Exit(2)
        try:
            library = load_library()
        except ExerciseLibraryError as exc:
            typer.echo(f"error: exercise library: {exc}", err=True)
            raise typer.Exit(1) from None
        chosen = list(library.by_region(region) if region else library)
        if as_json:
            typer.echo(json.dumps([e.public_dict() for e in chosen], indent=2))
            return
        rows = [
            [
                e.id,
                e.name,
                ",".join(e.regions),
                ",".join(e.positions),
                ",".join(m.replace("active_assisted", "assisted") for m in e.modes),
                str(e.max_level),
                ", ".join(f"{p.exercise}>={p.level}" for p in e.prerequisites),
            ]
            for e in chosen
        ]
        typer.echo(
            _table(rows, ["id", "name", "regions", "positions", "modes", "levels", "unlocks after"])
        )
        typer.echo(f"\n{len(chosen)} exercises.")
