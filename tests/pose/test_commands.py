"""CLI contract of `openrehab analyze-video`: bad input is one line on stderr and exit
status 2, never a traceback; `openrehab bench video` is registered."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openrehab.cli import app
from openrehab.pose import video

runner = CliRunner()


def assert_one_line_error(res, *phrases: str) -> None:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output + res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: ")
    for phrase in phrases:
        assert phrase in lines[0], lines[0]


def test_missing_file(tmp_path: Path) -> None:
    res = runner.invoke(app, ["analyze-video", str(tmp_path / "nope.mp4")])
    assert_one_line_error(res, "nope.mp4: file not found")


def test_directory(tmp_path: Path) -> None:
    res = runner.invoke(app, ["analyze-video", str(tmp_path)])
    assert_one_line_error(res, "not a file")


def test_bad_model_and_exercise(tmp_path: Path) -> None:
    clip = tmp_path / "x.mp4"
    clip.write_bytes(b"\0" * 10)
    assert_one_line_error(
        runner.invoke(app, ["analyze-video", str(clip), "--model", "heavy"]),
        "--model 'heavy'",
        "lite, full",
    )
    assert_one_line_error(
        runner.invoke(app, ["analyze-video", str(clip), "--exercise", "no_such_thing_at_all"]),
        "unknown exercise or signal",
    )


def test_no_mediapipe_installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clip = tmp_path / "x.mp4"
    clip.write_bytes(b"\0" * 10)
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # import mediapipe -> ImportError
    res = runner.invoke(app, ["analyze-video", str(clip)])
    assert_one_line_error(res, "MediaPipe is not installed", "pip install 'openrehab[video]'")


def test_mediapipe_releases_that_log_usage_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("cv2")
    fake = types.ModuleType("mediapipe")
    fake.__version__ = "1.2.3"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mediapipe", fake)
    with pytest.raises(video.MediaPipeUnavailableError, match="sends usage logs"):
        video.load_backends()
    assert video._version_tuple("0.10.32") < video.TELEMETRY_FROM
    assert video._version_tuple("0.10.35") >= video.TELEMETRY_FROM


def test_landmarks_out_to_a_missing_folder(tmp_path: Path) -> None:
    pytest.importorskip("mediapipe")
    vtest = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
    shared = Path(__file__).parents[2].parent / "shared" / "videos" / "squat_correct_008.avi"
    clip = shared if shared.exists() else vtest
    if not clip.exists():
        pytest.skip("no test video")
    res = runner.invoke(
        app, ["analyze-video", str(clip), "--landmarks-out", str(tmp_path / "no" / "x.jsonl")]
    )
    assert_one_line_error(res, "--landmarks-out")


def test_not_a_video_in_a_real_process(tmp_path: Path) -> None:
    """In a real process too, where OpenCV's and MediaPipe's native log lines would reach
    the terminal: exactly one line on stderr."""
    pytest.importorskip("mediapipe")
    clip = tmp_path / "notes.mp4"
    clip.write_text("this is not a video\n" * 50)
    env = {**os.environ, "NO_COLOR": "1"}
    res = subprocess.run(
        [sys.executable, "-m", "openrehab", "analyze-video", str(clip), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert res.returncode == 2, res.stderr
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "notes.mp4" in lines[0] and "not a video" in lines[0]


def test_bench_video_is_registered() -> None:
    res = runner.invoke(app, ["bench", "--help"])
    assert res.exit_code == 0
    assert "count" in res.stdout and "video" in res.stdout
    bad = runner.invoke(app, ["bench", "video", "--models", "heavy"])
    assert_one_line_error(bad, "--models 'heavy'")
