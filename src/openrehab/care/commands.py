"""Command-line commands of the care package (registered by openrehab.cli).

``openrehab tardieu --slow SLOW.csv --fast FAST.csv [--fast ...] [--json] [--decreasing]``
and ``openrehab bench tardieu``. Bad input exits with status 2 and a one-line reason on
stderr (no traceback).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from openrehab.motion.commands import EXIT_BAD_INPUT, find_bench_dir, load_bench


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(EXIT_BAD_INPUT)


def _num(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:.1f} {unit}"


def report_text(out: dict) -> str:
    """A short plain-words report of a ``TardieuResult.to_json()`` object."""
    lines = [
        f"Slow stretch (V1): range R2 = {_num(out['r2_deg'], 'deg')} "
        f"at up to {_num(out['v_slow_deg_s'], 'deg/s')}",
    ]
    if out["catch_detected"]:
        lines.append(
            f"Fast stretch (V3): catch at R1 = {_num(out['r1_deg'], 'deg')}; "
            f"R2 - R1 = {_num(out['dynamic_component_deg'], 'deg')} (dynamic component)"
        )
    else:
        lines.append("Fast stretch (V3): no catch found")
    for i, trial in enumerate(out["trials"], start=1):
        catch = trial["catch_angle_deg"]
        what = f"catch at {catch:.1f} deg" if catch is not None else trial["note"]
        lines.append(f"  trial {i}: {_num(trial['velocity_deg_s'], 'deg/s')}, {what}")
    pooled = out.get("pooled")
    if pooled:
        lines.append(f"  trials pooled: {pooled['rule']}")
    slope = out.get("catch_velocity_slope")
    if slope:
        lines.append(
            f"Catch angle vs speed: {slope['deg_per_deg_s']:+.3f} deg per deg/s "
            f"({slope['method']}, n={slope['n']})"
        )
    quality = out["quality"]
    lines.append(f"Quality: {quality['score']:.2f} (1 = no problem found)")
    lines += [f"  - {issue['message']}" for issue in quality["issues"]]
    lines.append(f"Reaction: {out['reaction_hint']}")
    lines.append("A measurement aid, not a diagnosis; not a medical device.")
    return "\n".join(lines)


def tardieu_command(
    slow: Path = typer.Option(..., "--slow", help="Slow (V1) stretch recording, CSV."),
    fast: list[Path] = typer.Option(
        ..., "--fast", help="Fast (V3) stretch recording, CSV; repeat for more trials."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print exactly one JSON object."),
    decreasing: bool = typer.Option(
        False, "--decreasing", help="The angle decreases as the muscle is stretched."
    ),
) -> None:
    """Modified Tardieu from joint-angle recordings: catch angle R1, slow range R2, speeds.

    CSV: a header with a time column (t_s, t or time; seconds) and an angle column
    (angle_deg or angle; degrees), the angle increasing with stretch unless --decreasing.
    """
    from .tardieu import AngleSeries, TardieuInputError, analyse_tardieu

    try:
        slow_series = AngleSeries.from_csv(slow)
        fast_series = [AngleSeries.from_csv(p) for p in fast]
        result = analyse_tardieu(slow_series, fast_series, increasing=not decreasing)
    except TardieuInputError as exc:
        raise _fail(str(exc)) from None
    except (ValueError, ArithmeticError) as exc:  # not expected after validation
        raise _fail(f"cannot analyse these recordings ({type(exc).__name__}: {exc})") from None
    out = result.to_json()
    typer.echo(json.dumps(out, allow_nan=False) if as_json else report_text(out))


def bench_tardieu_command(
    cases: int = typer.Option(
        1200, "--cases", min=20, help="Simulated examinations (spread over the grid)."
    ),
    seed: int = typer.Option(0, "--seed", help="First random seed."),
) -> None:
    """Benchmark the Tardieu analysis on simulated joints (writes bench/results/tardieu.md)."""
    bench = find_bench_dir()
    if bench is None or not (bench / "tardieu.py").exists():
        raise _fail("bench/ not found: run `openrehab bench tardieu` from a source checkout")
    mod = load_bench(bench / "tardieu.py")
    mod.main(bench / "results", cases=cases, seed=seed)


def register(app: typer.Typer) -> None:
    """Add ``tardieu``, and ``tardieu`` in the ``bench`` group (made here if absent)."""
    app.command("tardieu")(tardieu_command)
    group = next((g.typer_instance for g in app.registered_groups if g.name == "bench"), None)
    if group is None:
        group = typer.Typer(help="Benchmarks (from a source checkout).", no_args_is_help=True)
        app.add_typer(group, name="bench")
    group.command("tardieu")(bench_tardieu_command)
