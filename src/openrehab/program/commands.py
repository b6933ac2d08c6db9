"""``openrehab plan --profile PROFILE.json [--json]``: print the daily program."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from openrehab.exercises.library import ExerciseLibraryError, load_library
from openrehab.program.planner import Overrides, PlanError, build_plan, parse_overrides
from openrehab.program.profile import ProfileError, load_profile


def _read_overrides(path: Path) -> Overrides:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanError(f"{path}: cannot read the overrides ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise PlanError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return parse_overrides(data, str(path))


def register(app: typer.Typer) -> None:
    """Add this package's commands to the ``openrehab`` CLI."""

    @app.command("plan")
    def plan_command(
        profile: Path = typer.Option(
            ..., "--profile", help="Patient profile JSON (docs/profile.md)."
        ),
        overrides: Path | None = typer.Option(
            None, "--overrides", help="Therapist overrides JSON (docs/program.md)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
    ) -> None:
        """Build today's program from a patient profile (not a medical device)."""
        try:
            patient = load_profile(profile)
            changes = _read_overrides(overrides) if overrides is not None else None
            plan = build_plan(patient, load_library(), changes)
        except (ProfileError, PlanError, ExerciseLibraryError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        if as_json:
            typer.echo(json.dumps(plan.to_json(), indent=2))
            return
        typer.echo(
            f"Daily target: {plan.daily_rep_target} repetitions (planned: {plan.planned_reps})\n"
        )
        header = f"{'#':>2}  {'exercise':<28} {'mode':<15} {'side':<5} {'sets x reps':<11} "
        header += f"{'level':<5} {'hold':<5} {'rest':<5} helper"
        typer.echo(header)
        typer.echo("-" * len(header))
        for number, item in enumerate(plan.items, start=1):
            helper = {"unaffected_side": "other side", "caregiver": "carer"}.get(
                item.assisted_by or "", ""
            )
            typer.echo(
                f"{number:>2}  {item.name[:28]:<28} {item.mode.replace('_', '-'):<15} "
                f"{item.side:<5} {f'{item.sets} x {item.reps}':<11} {item.level:<5} "
                f"{f'{item.hold_s:g}s':<5} {f'{item.rest_s}s':<5} {helper}".rstrip()
            )
        typer.echo("\nWhy:")
        for reason in plan.reasons:
            typer.echo(f"- {reason}")
        typer.echo("\nOpenRehab is not a medical device. Stop any exercise that hurts.")
