"""analyze_video / analyze-video on real footage with the bundled models.

* OpenCV's sample ``vtest.avi`` (Debian package ``opencv-doc``; skipped when absent);
* the research clips of ``../shared/videos`` (skipped when absent; read in place):
  landmarks agree with the reference MediaPipe Pose landmarks, counts are within one of
  the inspected count;
* HandLandmarker on OpenCV sample photos that show a hand.

Needs the ``video`` extra (MediaPipe, OpenCV); skipped without it.
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from openrehab.cli import app
from openrehab.motion.commands import resolve_spec
from openrehab.motion.engine import analyse_recording
from openrehab.motion.recordings import (
    MEDIAPIPE_LANDMARKS,
    RecordingError,
    read_landmarks_jsonl,
    write_landmarks_jsonl,
)
from openrehab.pose.assets import model_path
from openrehab.pose.video import analyze_video

cv2 = pytest.importorskip("cv2")
mp = pytest.importorskip("mediapipe")

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
VTEST = OPENCV_DATA / "vtest.avi"
SHARED = Path(__file__).parents[2].parent / "shared"
VIDEOS = SHARED / "videos"
CHANNELS = tuple(f"{n}_{a}" for n in MEDIAPIPE_LANDMARKS for a in ("x", "y", "z", "v"))

runner = CliRunner()

needs_vtest = pytest.mark.skipif(not VTEST.exists(), reason="opencv-doc's vtest.avi absent")
needs_videos = pytest.mark.skipif(
    not (VIDEOS / "manifest.csv").exists(), reason="../shared/videos absent"
)


def manifest() -> list[dict]:
    with (VIDEOS / "manifest.csv").open(newline="") as fh:
        return sorted(csv.DictReader(fh), key=lambda r: r["file"])


@needs_vtest
def test_vtest_pose_in_most_frames_and_landmarks_out(tmp_path: Path) -> None:
    out = tmp_path / "vtest.jsonl"
    res = runner.invoke(app, ["analyze-video", str(VTEST), "--json", "--landmarks-out", str(out)])
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert result["frames"] == 795
    assert result["frames_with_pose"] >= 0.4 * result["frames"], result["frames_with_pose"]
    # The landmark file is what `count` reads, and `count` gives the same JSON (without the
    # two frame counts).
    rec = read_landmarks_jsonl(out)
    assert rec.n_samples == result["frames"]
    assert int((~np.isnan(rec.data).any(axis=1)).sum()) == result["frames_with_pose"]
    assert rec.aspect == pytest.approx(768 / 576)
    assert rec.channels == CHANNELS
    counted = runner.invoke(app, ["count", str(out), "--json"])
    assert counted.exit_code == 0, counted.output
    again = json.loads(counted.stdout)
    assert set(result) == set(again) | {"frames", "frames_with_pose"}
    assert again["signal"] == result["signal"]
    assert abs(again["reps"] - result["reps"]) <= 1  # landmarks rounded to 5 digits


@needs_videos
def test_recording_layout_is_the_landmark_file_layout(tmp_path: Path) -> None:
    rec, stats = analyze_video(VIDEOS / "squat_correct_008.avi", model="lite")
    assert stats.frames == rec.n_samples == 27
    assert (stats.width, stats.height) == (1280, 720)
    assert rec.kind == "pose" and rec.channels == CHANNELS
    assert rec.aspect == pytest.approx(1280 / 720)
    assert np.allclose(np.diff(rec.t_s), 1 / stats.fps)
    assert stats.inference_s > 0 and stats.loop_s >= stats.inference_s
    back = read_landmarks_jsonl(write_landmarks_jsonl(rec, tmp_path / "x.jsonl"))
    assert back.channels == rec.channels and back.kind == rec.kind
    assert back.aspect == pytest.approx(rec.aspect)
    assert back.data.shape == rec.data.shape
    assert np.array_equal(np.isnan(back.data), np.isnan(rec.data))
    assert np.allclose(back.data, rec.data, atol=1e-5, equal_nan=True)
    assert np.allclose(back.t_s, rec.t_s, atol=1e-6)
    assert back.warnings == rec.warnings


@needs_videos
def test_full_model_reproduces_the_reference_landmarks() -> None:
    """The clips' landmark files were made with MediaPipe Pose (full): the rebuilt bundle
    must give the same landmarks (a wrong input normalisation would not)."""
    ref = read_landmarks_jsonl(VIDEOS / "landmarks" / "squat_correct_007.jsonl", aspect=16 / 9)
    rec, _ = analyze_video(VIDEOS / "squat_correct_007.mp4", model="full")
    assert rec.n_samples == ref.n_samples
    a = rec.data.reshape(-1, 33, 4)
    b = ref.data.reshape(-1, 33, 4)
    visible = (a[..., 3] > 0.5) & (b[..., 3] > 0.5)
    assert visible.mean() > 0.5
    diff = np.abs(a[..., :2] - b[..., :2])[visible]
    assert np.median(diff) < 0.005 and np.percentile(diff, 90) < 0.02


@needs_videos
def test_counts_on_the_shared_clips() -> None:
    """Within one of the inspected count on most clips (lite model, ``--exercise`` = the
    clip's category, the path analyze-video takes). A third of the clips keeps the test
    short (all categories; ``OPENREHAB_TEST_ALL_VIDEOS=1`` runs all of them); the
    benchmark (``openrehab bench video``) scores every clip with both models."""
    rows = manifest()
    if os.environ.get("OPENREHAB_TEST_ALL_VIDEOS") != "1":
        rows = rows[2::3]
    results = []
    for r in rows:
        try:
            rec, _ = analyze_video(VIDEOS / r["file"], model="lite")
            pred = analyse_recording(rec, resolve_spec(r["category"])).count
        except RecordingError:
            pred = None
        results.append((r["file"], int(r["reps"]), pred))
    obo = sum(p is not None and abs(p - t) <= 1 for _, t, p in results) / len(results)
    assert obo >= 0.8, results
    planks = [p for f, _, p in results if f.startswith("plank")]
    assert planks and all(p == 0 for p in planks), results


@pytest.mark.parametrize("image", ["right04.jpg", "messi5.jpg"])
def test_hand_landmarker_finds_a_hand(image: str) -> None:
    path = OPENCV_DATA / image
    if not path.exists():
        pytest.skip(f"{path} absent (Debian package opencv-doc)")
    from mediapipe.tasks.python import BaseOptions, vision

    from openrehab.pose.video import native_stderr_silenced

    bgr = cv2.imread(str(path))
    frame = mp.Image(image_format=mp.ImageFormat.SRGB, data=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    options = vision.HandLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model_path("hand"))), num_hands=2
    )
    with native_stderr_silenced(), vision.HandLandmarker.create_from_options(options) as hl:
        result = hl.detect(frame)
    assert len(result.hand_landmarks) >= 1
    hand = result.hand_landmarks[0]
    assert len(hand) == 21
    assert all(-0.1 <= lm.x <= 1.1 and -0.1 <= lm.y <= 1.1 for lm in hand)


def write_blank_video(path: Path, frames: int = 15, fps: float = 25.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (160, 120))
    assert writer.isOpened()
    for i in range(frames):
        writer.write(np.full((120, 160, 3), 40 + i, dtype=np.uint8))
    writer.release()
    return path


def test_video_without_a_person_is_a_clear_error(tmp_path: Path) -> None:
    video = write_blank_video(tmp_path / "empty.avi")
    with pytest.raises(RecordingError, match=r"only 0 frame\(s\) with a pose"):
        analyze_video(video)
    res = runner.invoke(app, ["analyze-video", str(video)])
    assert res.exit_code == 2
    assert "only 0 frame(s) with a pose" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_max_frames_and_stats(tmp_path: Path) -> None:
    from openrehab.pose.video import VideoStats, _run, native_stderr_silenced

    video = write_blank_video(tmp_path / "empty.avi", frames=12)
    cap = cv2.VideoCapture(str(video))
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model_path("pose_lite"))),
        running_mode=vision.RunningMode.VIDEO,
    )
    stats = VideoStats()
    with native_stderr_silenced(), vision.PoseLandmarker.create_from_options(options) as lm:
        rows = _run(cap, lm, mp, cv2, 25.0, stats, max_frames=5)
    cap.release()
    assert len(rows) == stats.frames == 5 and rows == [None] * 5
    assert (stats.width, stats.height) == (160, 120)
    assert len(stats.frame_times) == 5
    assert stats.decode_s > 0 and stats.inference_s > 0
    assert 0 <= stats.outside_model_share <= 1 and math.isfinite(stats.ms_per_frame)
    assert set(stats.to_dict()) >= {"ms_per_frame", "outside_model_share", "frames"}


def test_decoder_thread_stops_when_inference_fails(tmp_path: Path) -> None:
    import threading

    from openrehab.pose.video import VideoStats, _run

    class Failing:
        def detect_for_video(self, image, timestamp_ms):
            raise RuntimeError("model failed")

    cap = cv2.VideoCapture(str(write_blank_video(tmp_path / "v.avi", frames=30)))
    with pytest.raises(RuntimeError, match="model failed"):
        _run(cap, Failing(), mp, cv2, 25.0, VideoStats(), None)
    cap.release()
    assert not any(t.name == "openrehab-video-decode" for t in threading.enumerate())
