"""Command-line commands of the pose package (registered by openrehab.cli).

``openrehab analyze-video PATH [--exercise ID] [--model lite|full] [--json]
[--landmarks-out FILE.jsonl]`` and ``openrehab bench video``. Bad input exits with status 2
and a one-line reason on stderr (no traceback). MediaPipe and OpenCV are imported only
when a command runs.
"""

from __future__ import annotations

from pathlib import Path

import typer

from openrehab.motion.commands import EXIT_BAD_INPUT, load_bench, resolve_spec


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(EXIT_BAD_INPUT)


def analyze_video_command(
    path: Path = typer.Argument(..., help="Video file (.mp4, .avi, .mov, ... what OpenCV reads)"),
    exercise: str | None = typer.Option(
        None,
        "--exercise",
        "-e",
        help="Exercise id (see `openrehab exercises`), everyday name (squat) or signal "
        "name, e.g. elbow_flexion:left. Default: automatic.",
    ),
    model: str = typer.Option(
        "lite", "--model", "-m", help="Pose model: lite (faster) or full (more accurate)."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print exactly one JSON object (`count --json` + frames)."
    ),
    landmarks_out: Path | None = typer.Option(
        None,
        "--landmarks-out",
        metavar="FILE.jsonl",
        help="Also write the landmarks as JSON Lines (readable by `openrehab count`).",
    ),
) -> None:
    """Find the pose in every frame of a video (offline), then count repetitions."""
    from openrehab.motion.commands import analysis_errors, print_result
    from openrehab.motion.engine import analyse_recording
    from openrehab.motion.recordings import RecordingError, write_landmarks_jsonl

    from .assets import AssetMissingError
    from .video import POSE_MODELS, VideoError, analyze_video

    if model not in POSE_MODELS:
        raise _fail(f"--model {model!r}: expected one of {', '.join(POSE_MODELS)}")
    spec = resolve_spec(exercise)  # a bad --exercise fails before decoding the video
    try:
        rec, stats = analyze_video(path, model=model)  # type: ignore[arg-type]
    except (VideoError, RecordingError, AssetMissingError) as exc:
        raise _fail(str(exc)) from None
    except (RuntimeError, ValueError, OSError) as exc:  # MediaPipe / OpenCV failures
        raise _fail(f"{path}: cannot analyse this video ({type(exc).__name__}: {exc})") from None
    if landmarks_out is not None:
        try:
            write_landmarks_jsonl(rec, landmarks_out)
        except OSError as exc:
            raise _fail(f"--landmarks-out {landmarks_out}: {exc.strerror or exc}") from None
    with analysis_errors(path):
        result = analyse_recording(rec, spec)
    out = result.to_dict()
    out["frames"] = stats.frames
    out["frames_with_pose"] = stats.frames_with_pose
    heading = (
        f"video: {stats.frames} frames at {stats.fps:g} fps, {stats.width}x{stats.height}, "
        f"pose found in {stats.frames_with_pose} ({model} model, "
        f"{stats.ms_per_frame:.1f} ms/frame)"
    )
    print_result(out, as_json, heading)


def find_bench_video() -> Path | None:
    """The source checkout's ``bench/video.py``, or None when installed elsewhere."""
    for parent in Path(__file__).resolve().parents:
        cand = parent / "bench" / "video.py"
        if cand.exists() and (parent / "pyproject.toml").exists():
            return cand
    return None


def bench_video_command(
    data: Path | None = typer.Option(
        None,
        "--data",
        help="Shared data folder (holds videos/); default ../shared beside the repository "
        "or $OPENREHAB_SHARED_DIR.",
    ),
    models: str = typer.Option("lite,full", "--models", help="Comma-separated: lite,full."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Benchmark analyze-video: speed, time outside the model, counts (bench/results/video.md)."""
    from .video import POSE_MODELS, MediaPipeUnavailableError

    bench = find_bench_video()
    if bench is None:
        raise _fail("bench/ not found: run `openrehab bench video` from a source checkout")
    chosen = [m.strip() for m in models.split(",") if m.strip()]
    bad = [m for m in chosen if m not in POSE_MODELS]
    if bad or not chosen:
        raise _fail(f"--models {models!r}: expected a comma-separated list of lite, full")
    mod = load_bench(bench)
    try:
        mod.main(data, models=chosen, as_json=as_json)
    except (FileNotFoundError, MediaPipeUnavailableError) as exc:
        raise _fail(str(exc)) from None


def register(app: typer.Typer) -> None:
    """Add this package's commands to the ``openrehab`` CLI: ``analyze-video``, and
    ``video`` in the ``bench`` group (created by the motion package; made here if absent)."""
    app.command("analyze-video")(analyze_video_command)
    bench_app = next((g.typer_instance for g in app.registered_groups if g.name == "bench"), None)
    if bench_app is None:
        bench_app = typer.Typer(help="Benchmarks (from a source checkout).", no_args_is_help=True)
        app.add_typer(bench_app, name="bench")
    bench_app.command("video")(bench_video_command)
