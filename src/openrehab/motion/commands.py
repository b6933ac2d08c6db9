"""Command-line commands of the motion package (registered by openrehab.cli).

``openrehab count PATH [--exercise ID] [--json]`` and ``openrehab bench count``.
Bad input exits with status 2 and a one-line reason on stderr (no traceback).
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import typer

EXIT_BAD_INPUT = 2


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(EXIT_BAD_INPUT)


def resolve_spec(exercise: str | None):  # -> SignalSpec
    """``--exercise`` value -> SignalSpec: a signal name (``elbow_flexion[:left]``), ``auto``,
    an exercise id from the exercise library (looked up lazily so the motion core never
    imports the exercises package), or an everyday exercise name (``"biceps curls"``,
    ``deep_squat``: :data:`~.signals.EXERCISE_NAMES`). A bad value exits 2 with a reason."""
    from pydantic import ValidationError

    from .signals import (
        AUTO,
        EXERCISE_NAMES,
        SIGNAL_NAMES,
        SIGNALS,
        SignalSpec,
        normalise_name,
        signal_for_name,
    )

    if not exercise:
        return SignalSpec()
    name, _, side = exercise.partition(":")

    def spec(signal: str, side: str | None, vmax: float | None = None) -> SignalSpec:
        sdef = SIGNALS.get(signal)
        if side and (sdef is None or not sdef.sided):
            raise _fail(f"--exercise {exercise!r}: signal {signal!r} has no left or right side")
        try:
            return SignalSpec(signal=signal, side=side or None, max_velocity_deg_s=vmax)  # type: ignore[arg-type]
        except ValidationError as exc:
            raise _fail(f"--exercise {exercise!r}: {exc.errors()[0]['msg']}") from None

    if name in SIGNAL_NAMES or name == AUTO:
        return spec(name, side)
    hint = "list valid exercise ids with `openrehab exercises`, or pass a signal name such as "
    hint += "elbow_flexion:left"
    try:
        from openrehab.exercises.library import load_library  # type: ignore[import-not-found]
    except ImportError:
        common = signal_for_name(name)
        if common is not None:
            return spec(common, side)
        raise _fail(
            f"unknown signal {name!r} and the exercise library is not available; " + hint
        ) from None
    try:
        lib = load_library()
        items = list(lib.values() if isinstance(lib, dict) else lib)
        key = normalise_name(name)
        found = next((e for e in items if getattr(e, "id", None) in (name, key)), None)
    except Exception as exc:  # a broken library must not crash counting with a traceback
        raise _fail(f"cannot load the exercise library ({exc}); {hint}") from None
    if found is None:
        common = signal_for_name(name)
        if common is not None:  # an everyday name: "biceps curl", "deep_squat", "push-ups"
            return spec(common, side)
        known = [*(getattr(e, "id", "") for e in items), *SIGNAL_NAMES, *EXERCISE_NAMES]
        close = difflib.get_close_matches(key, known, n=3)
        maybe = f" (did you mean {', '.join(close)}?)" if close else ""
        raise _fail(f"unknown exercise or signal {name!r}{maybe}; {hint}")
    sensing = getattr(found, "sensing", None)
    sig = getattr(sensing, "signal", None)
    if sig not in SIGNAL_NAMES:
        raise _fail(f"exercise {name!r} has no countable signal ({sig!r})")
    vmax = getattr(sensing, "max_velocity_deg_s", None)
    ex_side = getattr(sensing, "side", None)
    return spec(sig, side or ex_side or None, vmax)


def _parse_image_size(text: str) -> float:
    """``"1280x720"`` -> 1.777...; a bad value exits 2 with a reason."""
    w, sep, h = text.lower().replace("*", "x").partition("x")
    try:
        width, height = float(w), float(h)
    except ValueError:
        width = height = math.nan
    if not sep or not (width > 0 and height > 0) or not 0.1 <= width / height <= 10:
        raise _fail(f"--image-size {text!r}: expected WIDTHxHEIGHT in pixels, e.g. 1280x720")
    return width / height


def _table(result: dict) -> str:
    lines = [
        f"signal: {result['signal']}   sample rate: {result['sample_rate_hz']:g} Hz   "
        f"reps: {result['reps']}"
    ]
    reps = result["repetitions"]
    if reps:
        unit = reps[0]["rom_unit"]
        hdr = (
            f"{'#':>3} {'start s':>8} {'end s':>8} {'dur s':>6} {'ROM ' + unit:>10} "
            f"{'peak vel':>9} {'SPARC':>7} {'LDLJ':>7} {'vel pk':>6} {'too fast':>8}"
        )
        lines += [hdr, "-" * len(hdr)]

        def f(v: float | None, spec: str) -> str:
            if v is None or (isinstance(v, float) and math.isnan(v)):
                return format("-", ">" + spec.split(".")[0])  # not measured, column kept
            return format(v, spec)

        for i, r in enumerate(reps, 1):
            lines.append(
                f"{i:>3} {f(r['start_s'], '8.2f')} {f(r['end_s'], '8.2f')} "
                f"{f(r['duration_s'], '6.2f')} {f(r['rom'], '10.1f')} "
                f"{f(r['peak_velocity'], '9.1f')} {f(r['sparc'], '7.2f')} "
                f"{f(r['ldlj'], '7.2f')} {r['velocity_peaks']:>6} "
                f"{'yes' if r['too_fast'] else 'no':>8}"
            )
    for w in result.get("warnings", []):
        lines.append(f"warning: {w}")
    return "\n".join(lines)


def count_command(
    path: Path = typer.Argument(..., help="Recording: .csv, .csv.gz or landmark .jsonl"),
    exercise: str | None = typer.Option(
        None,
        "--exercise",
        "-e",
        help="Exercise id (see `openrehab exercises`) or signal name, e.g. elbow_flexion:left.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print exactly one JSON object."),
    image_size: str | None = typer.Option(
        None,
        "--image-size",
        metavar="WxH",
        help="Video frame size of a landmark file, e.g. 1280x720 (overrides the file's "
        "width/height; without either, 16:9 is assumed). Ignored for CSV files.",
    ),
) -> None:
    """Count repetitions in a recording and measure each one."""
    from .engine import analyse_recording
    from .recordings import read_recording

    spec = resolve_spec(exercise)
    aspect = _parse_image_size(image_size) if image_size else None
    with analysis_errors(path):
        rec = read_recording(path, aspect=aspect)
        result = analyse_recording(rec, spec)
    print_result(result.to_dict(), as_json)


@contextmanager
def analysis_errors(path: Path) -> Iterator[None]:
    """Reading or analysing the recording at ``path`` fails with one line, never a traceback."""
    import numpy as np

    from .recordings import RecordingError

    try:
        yield
    except RecordingError as exc:
        raise _fail(str(exc)) from None
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
        # Not expected after validation; still one line, never a traceback.
        raise _fail(
            f"{path}: cannot analyse this recording ({type(exc).__name__}: {exc})"
        ) from None


def print_result(out: dict, as_json: bool, heading: str | None = None) -> None:
    """A result as exactly one JSON object, or as a table (under ``heading``)."""
    if as_json:
        typer.echo(json.dumps(out, allow_nan=False))
    else:
        if heading is not None:
            typer.echo(heading)
        typer.echo(_table(out))


def find_bench_dir() -> Path | None:
    """The source checkout's ``bench/`` folder, or None when installed elsewhere."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        cand = parent / "bench" / "count.py"
        if cand.exists() and (parent / "pyproject.toml").exists():
            return cand.parent
    return None


def load_bench(path: Path) -> ModuleType:
    """Import a benchmark harness from the checkout's ``bench/`` folder."""
    spec = importlib.util.spec_from_file_location(f"openrehab_bench_{path.stem}", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses in the harness look their module up
    spec.loader.exec_module(mod)
    return mod


def bench_count_command(
    data: Path | None = typer.Option(
        None,
        "--data",
        help="Shared data folder (holds datasets/ and videos/); default "
        "../shared beside the repository or $OPENREHAB_SHARED_DIR.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Benchmark repetition counting on the shared datasets (writes bench/results/count.md)."""
    bench = find_bench_dir()
    if bench is None:
        raise _fail("bench/ not found: run `openrehab bench count` from a source checkout")
    mod = load_bench(bench / "count.py")
    try:
        mod.main(data, as_json=as_json)
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from None


def bench_live_command(
    sessions: str = typer.Option(
        "10", "--sessions", help="Concurrent live sessions, or a sweep: 10,50,100,200."
    ),
    seconds: float = typer.Option(30.0, "--seconds", min=1.0, help="Streaming time per load."),
    url: str | None = typer.Option(
        None, "--url", help="A running server (default: start one on a free local port)."
    ),
    workers: int = typer.Option(1, "--workers", min=1, help="uvicorn workers of its own server."),
    batch: int = typer.Option(2, "--batch", min=1, max=300, help="Frames per message."),
    profile: bool = typer.Option(False, "--profile", help="Where the server's CPU goes."),
    label: str = typer.Option("", "--label", help="Tag for these rows of the results."),
    append: bool = typer.Option(False, "--append", help="Keep earlier rows in the results."),
    out: Path | None = typer.Option(None, "--out", help="Results folder (default bench/results)."),
) -> None:
    """Load-test live sessions over WebSockets (writes bench/results/live.md)."""
    bench = find_bench_dir()
    if bench is None:
        raise _fail("bench/ not found: run `openrehab bench live` from a source checkout")
    mod = load_bench(bench / "live.py")
    try:
        counts = mod.parse_sessions(sessions)
        mod.run(
            counts,
            seconds=seconds,
            url=url,
            workers=workers,
            batch=batch,
            profile=profile,
            label=label,
            append=append,
            out_dir=out or bench / "results",
            echo=typer.echo,
        )
    except (ValueError, RuntimeError, OSError) as exc:
        raise _fail(str(exc)) from None


def register(app: typer.Typer) -> None:
    """Add this package's commands to the ``openrehab`` CLI."""
    app.command("count")(count_command)
    bench_app = typer.Typer(help="Benchmarks (from a source checkout).", no_args_is_help=True)
    bench_app.command("count")(bench_count_command)
    bench_app.command("live")(bench_live_command)
    app.add_typer(bench_app, name="bench")
