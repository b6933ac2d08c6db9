"""Hand signals from MediaPipe Hand landmarks, landmark files with hands, live frame rows.

Synthetic hands come from a kinematic model (``motion_synth.hand_frame_points``): fingers
whose PIP joints flex by a known angle, a thumb tip at a known distance from a fingertip, a
hand turned by a known deviation against the forearm, seen from any direction.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from motion_synth import (
    base_pose,
    hand_frame_points,
    hand_session,
    min_jerk_bump,
    pose_elbow_session,
    raised_cosine_set,
    rotation,
    to_image,
)
from typer.testing import CliRunner

from openrehab.cli import app
from openrehab.exercises.library import load_library
from openrehab.motion.engine import AnalysisResult, MotionEngine, analyse_recording
from openrehab.motion.features import build_extractor
from openrehab.motion.recordings import (
    HAND_CHANNELS,
    HAND_LANDMARKS,
    LANDMARK_CHANNELS,
    MEDIAPIPE_LANDMARKS,
    POSE_CHANNELS,
    Recording,
    RecordingError,
    landmark_row,
    read_recording,
    write_landmarks_jsonl,
)
from openrehab.motion.signals import SignalSpec

FS = 30.0
ASPECT = 16 / 9
LIBRARY = load_library()

# Exercise -> (what the synthetic hand moves, rest value, excursion of each rep, ROM
# tolerance in the signal's unit).
EXERCISES = {
    "finger_flexion_grip": ("pip_deg", 10.0, 70.0, 5.0),
    "finger_extension_release": ("pip_deg", 80.0, -70.0, 5.0),
    "pinch_thumb_index": ("pinch", 1.0, -0.8, 0.05),
    "thumb_opposition": ("oppose", 1.1, -0.8, 0.05),
    "finger_tapping": ("pinch", 0.1, 0.5, 0.05),
    "wrist_deviation": ("deviation_deg", 0.0, 25.0, 3.0),
}


def rows_of(frames: list) -> np.ndarray:
    """Engine rows of ``(t, pose, hands)`` frames."""
    return np.array([landmark_row(pose, hands) for _, pose, hands in frames])


def stream(frames: list, spec: SignalSpec, aspect: float = ASPECT) -> AnalysisResult:
    """Live path: one :func:`landmark_row` per frame pushed into the engine."""
    eng = MotionEngine(LANDMARK_CHANNELS, "pose", FS, spec, aspect=aspect)
    for t, pose, hands in frames:
        eng.push(t, landmark_row(pose, hands))
    eng.finish()
    return eng.result()


def recording(frames: list, aspect: float = ASPECT) -> Recording:
    t = np.array([f[0] for f in frames])
    return Recording(t, rows_of(frames), LANDMARK_CHANNELS, "pose", aspect=aspect)


def reps_json(res: AnalysisResult) -> list[dict]:
    return res.to_dict()["repetitions"]


# ------------------------------------------------------------------------------- layout


def test_channel_layout() -> None:
    assert len(HAND_LANDMARKS) == 21 and HAND_LANDMARKS[8] == "index_tip"
    assert len(LANDMARK_CHANNELS) == 33 * 4 + 2 * 21 * 3
    assert LANDMARK_CHANNELS[: len(POSE_CHANNELS)] == POSE_CHANNELS
    assert POSE_CHANNELS[:4] == ("nose_x", "nose_y", "nose_z", "nose_v")
    assert HAND_CHANNELS[:3] == ("left_hand_wrist_x", "left_hand_wrist_y", "left_hand_wrist_z")
    assert HAND_CHANNELS[-1] == "right_hand_pinky_tip_z"


# ----------------------------------------------------------------------------- geometry

SIGNAL_TRUTH = {
    "finger_flexion": ("pip_deg", lambda v: v),
    "finger_extension": ("pip_deg", lambda v: 180.0 - v),
    "pinch_aperture": ("pinch", lambda v: v),
    "finger_tapping": ("pinch", lambda v: v),
    "thumb_opposition": ("oppose", lambda v: v),
    "wrist_deviation": ("deviation_deg", lambda v: v),
}


@settings(max_examples=60, deadline=None)
@given(
    signal=st.sampled_from(sorted(SIGNAL_TRUTH)),
    side=st.sampled_from(["left", "right"]),
    value=st.floats(0.0, 1.0),
    angles=st.tuples(st.floats(-50, 50), st.floats(-50, 50), st.floats(-180, 180)),
    aspect=st.sampled_from([16 / 9, 4 / 3, 1.0, 9 / 16]),
    scale=st.floats(0.8, 4.0),
)
def test_signals_equal_the_hand_geometry(
    signal: str,
    side: str,
    value: float,
    angles: tuple[float, float, float],
    aspect: float,
    scale: float,
) -> None:
    """Any view of the hand, any image aspect and size: the signal is the true angle or
    distance (x and y have different scales in normalised coordinates, z that of x)."""
    what, truth = SIGNAL_TRUTH[signal]
    v = {"pip_deg": 100 * value, "pinch": 0.05 + value, "oppose": 0.1 + value}.get(
        what, 60 * value - 30
    )
    pts = hand_frame_points(**{"pip_deg": 10.0, what: v})
    hand, elbow = to_image(
        pts, rotation(*angles), aspect=aspect, scale=scale, mirror=side == "left"
    )
    pose = base_pose()
    pose[MEDIAPIPE_LANDMARKS.index(f"{side}_elbow"), :2] = elbow
    row = landmark_row(pose, {side: hand})
    ex = build_extractor((LANDMARK_CHANNELS, "pose", aspect), SignalSpec(signal=signal, side=side))
    got = float(ex.rows(row[None, :])[0, 0])
    if signal == "wrist_deviation" and math.isnan(got):
        # Only a palm seen nearly edge-on is not measured.
        normal = np.cross(pts["index_mcp"], pts["pinky_mcp"]) @ rotation(*angles)
        assert abs(normal[2]) / np.linalg.norm(normal) < 0.2 + 1e-9
        return
    # arccos near 0 and 180 deg resolves angles to about 1e-6 deg in float64 (sqrt of the
    # machine epsilon): a straight finger read as 179.999999 is exact, not an error.
    assert got == pytest.approx(truth(v), abs=1e-5)


def test_missing_hand_and_hidden_elbow_give_nan() -> None:
    frames = hand_session(np.array([30.0, np.nan]), with_pose=True)
    rows = rows_of(frames)
    for sig in ("finger_flexion", "pinch_aperture", "wrist_deviation"):
        ex = build_extractor((LANDMARK_CHANNELS, "pose", ASPECT), SignalSpec.parse(f"{sig}:right"))
        out = ex.rows(rows)[:, 0]
        assert np.isfinite(out[0]) and np.isnan(out[1])
    rows[0, POSE_CHANNELS.index("right_elbow_v")] = 0.1  # elbow hidden: no forearm
    ex = build_extractor((LANDMARK_CHANNELS, "pose", ASPECT), SignalSpec.parse("wrist_deviation"))
    assert np.isnan(ex.rows(rows[:1])).all()


# ----------------------------------------------------------------------------- counting


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
@pytest.mark.parametrize("side", ["left", "right"])
def test_live_engine_counts_hand_exercises(exercise_id: str, side: str) -> None:
    what, rest, excursion, tol = EXERCISES[exercise_id]
    spec = LIBRARY.get(exercise_id).signal_spec(side, "active", 1)
    values = raised_cosine_set(8, 2.5, excursion, rest)
    res = stream(hand_session(values, what=what, side=side, with_pose=True), spec)
    assert res.count == 8
    assert res.signal == f"{spec.signal}:{side}"
    assert all(r.rom == pytest.approx(abs(excursion), abs=tol) for r in res.reps)
    assert res.reps[0].rom_unit == ("deg" if what.endswith("deg") else "norm")


def test_live_engine_counts_a_pose_exercise_from_landmark_rows() -> None:
    t, frames = pose_elbow_session(n_reps=5)
    spec = LIBRARY.get("elbow_flexion").signal_spec("right", "active", 1)
    res = stream([(float(tk), fr, None) for tk, fr in zip(t, frames, strict=True)], spec)
    assert res.count == 5


def test_the_requested_side_is_counted() -> None:
    """Left hand: 8 grips of 70 deg; right hand at the same time: 5 of 40 deg."""
    left = raised_cosine_set(8, 2.5, 70.0, 10.0)
    right = np.full(left.size, 10.0)
    right[60 : 60 + 5 * 90] = raised_cosine_set(5, 3.0, 40.0, 10.0, rest_s=0.0)
    frames = hand_session(left, side="left", other=right)
    for side, n, rom in (("left", 8, 70.0), ("right", 5, 40.0)):
        res = stream(frames, SignalSpec.parse(f"finger_flexion:{side}"))
        assert res.count == n, side
        assert all(r.rom == pytest.approx(rom, abs=4.0) for r in res.reps)


def test_either_hand_when_no_side_is_given() -> None:
    """No side: whichever hand is in view is counted (a hand out of view follows the
    other, as a hidden arm does for pose angles)."""
    for side in ("left", "right"):
        values = raised_cosine_set(6, 2.5, -0.8, 1.0)
        res = stream(
            hand_session(values, what="pinch", side=side), SignalSpec.parse("pinch_aperture")
        )
        assert res.count == 6


@pytest.mark.parametrize("seed", range(3))
def test_a_still_hand_counts_nothing(seed: int) -> None:
    """A still hand with landmark jitter of 0.002 of the image (about 1.3 px at 640 x 480;
    twice that in depth): finger angles jitter by about 4 deg per frame, no reps."""
    frames = hand_session(
        np.full(int(40 * FS), 25.0), side="right", noise=0.002, seed=seed, with_pose=True
    )
    rec = recording(frames)
    for sig in SIGNAL_TRUTH:
        assert analyse_recording(rec, SignalSpec.parse(sig)).count == 0, sig


def test_hand_lost_for_1_5_s_between_reps() -> None:
    """Grips of 2 s every 4 s; the hand leaves the picture for 1.5 s in a rest: every grip
    counts (frames without the hand are skipped, detection restarts after the gap)."""
    t = np.arange(0, 2 + 8 * 4 + 2, 1 / FS)
    values = 10.0 + sum(min_jerk_bump(t, 2 + 4 * k, 2.0, 70.0) for k in range(8))
    lost = (t >= 16.4) & (t < 17.9)  # between the 4th grip (ends at 16 s) and the 5th
    values[lost] = np.nan
    frames = hand_session(values, side="left")
    live = stream(frames, SignalSpec.parse("finger_flexion:left"))
    assert live.count == 8
    assert not live.warnings  # 4 % of the frames: no "could not be computed" warning
    assert all(r.rom == pytest.approx(70, abs=4.0) for r in live.reps)
    whole = analyse_recording(recording(frames), SignalSpec.parse("finger_flexion:left"))
    assert reps_json(whole) == reps_json(live)


def test_hand_lost_mid_rep_loses_only_that_rep() -> None:
    t = np.arange(0, 2 + 8 * 4 + 2, 1 / FS)
    values = 10.0 + sum(min_jerk_bump(t, 2 + 4 * k, 2.0, 70.0) for k in range(8))
    values[(t >= 14.5) & (t < 16.0)] = np.nan  # most of the 4th grip
    res = stream(hand_session(values, side="right"), SignalSpec.parse("finger_flexion:right"))
    assert res.count == 7


def test_file_round_trip_and_cli(tmp_path: Path) -> None:
    values = raised_cosine_set(8, 2.5, 70.0, 10.0)
    frames = hand_session(values, side="left", with_pose=True, other=np.full(values.size, 20.0))
    path = write_landmarks_jsonl(frames, tmp_path / "grip.jsonl.gz", aspect=ASPECT)
    rec = read_recording(path)
    assert rec.channels == LANDMARK_CHANNELS and rec.aspect == pytest.approx(ASPECT)
    assert np.allclose(rec.data, rows_of(frames), atol=1e-5, equal_nan=True)
    spec = SignalSpec.parse("finger_flexion:left")
    res = analyse_recording(rec, spec)
    assert res.count == 8
    assert reps_json(res) == reps_json(analyse_recording(rec, spec, streaming=True))
    out = CliRunner().invoke(
        app, ["count", str(path), "--exercise", "finger_flexion_grip:left", "--json"]
    )
    assert out.exit_code == 0, out.output
    got = json.loads(out.stdout)
    assert got["reps"] == 8 and got["signal"] == "finger_flexion:left"
    # A recording written back keeps its hands.
    again = read_recording(write_landmarks_jsonl(rec, tmp_path / "again.jsonl"))
    assert again.channels == LANDMARK_CHANNELS
    assert np.allclose(again.data, rec.data, atol=1e-5, equal_nan=True)


def test_reader_accepts_hand_only_lines_and_object_landmarks(tmp_path: Path) -> None:
    values = raised_cosine_set(4, 2.5, 70.0, 10.0)
    lines = []
    for i, (t, _pose, hands) in enumerate(hand_session(values, side="right")):
        right = [dict(zip("xyz", p, strict=True)) for p in hands["right"].tolist()]
        line = (
            {"t": t, "hands": {"right": right}}
            if i % 2
            else {"t": t, "landmarks": None, "hands": {"left": None, "right": right}}
        )
        lines.append(json.dumps(line))
    p = tmp_path / "h.jsonl"
    p.write_text("\n".join(lines) + "\n")
    rec = read_recording(p, aspect=ASPECT)
    assert rec.channels == LANDMARK_CHANNELS
    assert not any("without" in w for w in rec.warnings)  # every frame has a hand
    assert analyse_recording(rec, SignalSpec.parse("finger_flexion:right")).count == 4
    # No pose anywhere: body signals have nothing to count and say so.
    body = analyse_recording(rec, SignalSpec.parse("elbow_flexion:right"))
    assert body.count == 0 and any("could not be computed" in w for w in body.warnings)


@pytest.mark.parametrize(
    ("hands", "message"),
    [
        ([1, 2], "hands: expected an object"),
        ({"Left": None}, "hands: unknown key 'Left'"),
        ({"right": [[0.1, 0.2, 0.0]] * 20}, "right hand: expected a list of 21 points"),
        ({"left": [[0.1, 0.2, None]] * 21}, "left hand: coordinates must be numbers"),
    ],
)
def test_reader_reports_bad_hands_with_the_line(
    tmp_path: Path, hands: object, message: str
) -> None:
    good = [json.dumps({"t": i / 30, "landmarks": None, "hands": None}) for i in range(20)]
    good[3] = json.dumps({"t": 0.1, "landmarks": None, "hands": hands})
    p = tmp_path / "bad.jsonl"
    p.write_text("\n".join(good) + "\n")
    with pytest.raises(RecordingError, match=f"row 4: {message}"):
        read_recording(p)


def test_too_few_frames_with_a_pose_or_a_hand(tmp_path: Path) -> None:
    frames = hand_session(np.full(30, np.nan))
    frames[:5] = hand_session(np.full(5, 20.0))
    with pytest.raises(RecordingError, match="only 5 frame\\(s\\) with a pose or a hand"):
        read_recording(write_landmarks_jsonl(frames, tmp_path / "few.jsonl"))


def test_hand_signals_need_hand_landmarks(tmp_path: Path) -> None:
    t, frames = pose_elbow_session(n_reps=2)
    rec = read_recording(write_landmarks_jsonl(zip(t, frames, strict=True), tmp_path / "p.jsonl"))
    assert rec.channels == POSE_CHANNELS
    with pytest.raises(RecordingError, match=r"needs MediaPipe Hand landmarks.*has none"):
        analyse_recording(rec, SignalSpec.parse("finger_flexion:left"))
    skel = Recording(rec.t_s, rec.data[:, :3], ("waist_x", "waist_y", "waist_z"), "skeleton")
    with pytest.raises(RecordingError, match="MediaPipe Hand"):
        analyse_recording(skel, SignalSpec.parse("pinch_aperture"))


# ------------------------------------------------------------- pose results are unchanged


def test_pose_results_unchanged_with_landmark_channels(tmp_path: Path) -> None:
    """The same pose frames with the hand channels (hands moving, absent or null in the
    file) count exactly as the pose-only recording, in both paths."""
    t, frames = pose_elbow_session(n_reps=4)
    pose_only = read_recording(
        write_landmarks_jsonl(zip(t, frames, strict=True), tmp_path / "p.jsonl", aspect=ASPECT)
    )
    grip = hand_session(raised_cosine_set(6, 2.0, 60.0, 10.0, rest_s=1.0)[: t.size], side="left")
    with_hands = [
        (tk, fr, grip[i][2] if i < len(grip) else None)
        for i, (tk, fr) in enumerate(zip(t, frames, strict=True))
    ]
    full = read_recording(write_landmarks_jsonl(with_hands, tmp_path / "h.jsonl", aspect=ASPECT))
    nulls = read_recording(
        write_landmarks_jsonl(
            [(tk, fr, None) for tk, fr in zip(t, frames, strict=True)],
            tmp_path / "n.jsonl",
            aspect=ASPECT,
        )
    )
    assert pose_only.channels == POSE_CHANNELS
    assert full.channels == nulls.channels == LANDMARK_CHANNELS
    assert len(pose_only.warnings) == len(nulls.warnings)  # "without a pose (or a hand)"
    for spec in (
        "elbow_flexion:right",
        "elbow_flexion",
        "auto",
        "shoulder_abduction",
        "wrist_path",
    ):
        s = SignalSpec.parse(spec)
        for streaming in (False, True):
            want = analyse_recording(pose_only, s, streaming=streaming)
            assert want.count > 0 or spec in ("shoulder_abduction", "wrist_path")
            for rec in (full, nulls):
                got = analyse_recording(rec, s, streaming=streaming)
                assert (got.signal, got.unit, got.reps) == (want.signal, want.unit, want.reps)


# -------------------------------------------------------------------------- landmark_row


def test_landmark_row_places_every_part() -> None:
    pose = np.random.default_rng(0).uniform(0, 1, (33, 4))
    hand = np.random.default_rng(1).uniform(0, 1, (21, 3))
    row = landmark_row(pose.tolist(), {"right": hand.tolist(), "left": None})
    assert row.shape == (len(LANDMARK_CHANNELS),) and row.dtype == np.float64
    i = LANDMARK_CHANNELS.index
    assert row[i("left_elbow_v")] == pose[MEDIAPIPE_LANDMARKS.index("left_elbow"), 3]
    assert row[i("right_hand_index_tip_y")] == hand[8, 1]
    assert np.isnan(row[i("left_hand_wrist_x") : i("left_hand_pinky_tip_z") + 1]).all()
    # [x, y, z] landmarks: visibility 1; nothing found: all NaN; out is filled in place.
    out = np.empty(len(LANDMARK_CHANNELS))
    assert landmark_row(pose[:, :3].tolist(), None, out) is out
    assert (out[3 : 33 * 4 : 4] == 1.0).all() and np.isnan(out[33 * 4 :]).all()
    assert np.isnan(landmark_row(None, None)).all()
    assert np.isnan(landmark_row(None, {})).all()
    ints = landmark_row([[0, 1, 0, 1]] * 33, None)  # JSON integers are numbers too
    assert ints[1] == 1.0


POSE = [[0.5, 0.5, 0.0, 0.9]] * 33
HAND = [[0.5, 0.5, 0.0]] * 21


@pytest.mark.parametrize(
    ("pose", "hands", "message"),
    [
        (POSE[:32], None, "pose: expected a list of 33 points of 4 or 3 numbers, got shape"),
        ([[*p, 1.0] for p in POSE], None, "got shape \\(33, 5\\)"),
        ([[0.5, 0.5]] * 33, None, "got shape"),
        ([*POSE[:-1], [0.5, 0.5, 0.0]], None, "lists of different lengths"),
        ([*POSE[:-1], [0.5, math.nan, 0.0, 1.0]], None, "pose: coordinates must be finite"),
        ([*POSE[:-1], [0.5, math.inf, 0.0, 1.0]], None, "finite"),
        ([*POSE[:-1], [0.5, "0.5", 0.0, 1.0]], None, "pose: coordinates must be numbers"),
        ([["a", "b", "c", "d"]] * 33, None, "coordinates must be numbers"),
        ([*POSE[:-1], [0.5, None, 0.0, 1.0]], None, "must be numbers"),
        ([[True, False, True, True]] * 33, None, "must be numbers"),
        ("x" * 33, None, "pose: expected a list .* got str"),
        ({"x": 1}, None, "got dict"),
        (7, None, "got int"),
        ([POSE] * 1, None, "got shape \\(1, 33, 4\\)"),
        (None, HAND, "hands: expected an object .* got list"),
        (None, {"middle": HAND}, "unknown key 'middle'"),
        (None, {"left": HAND[:20]}, "left hand: expected a list of 21 points of 3 numbers"),
        (None, {"right": [[*h, 1.0] for h in HAND]}, "right hand: .* got shape \\(21, 4\\)"),
        (None, {"right": [*HAND[:-1], [0.1, -math.inf, 0.0]]}, "right hand: .* finite"),
        (None, {"left": "oops"}, "left hand: expected .* got str"),
    ],
)
def test_landmark_row_rejects_bad_input(pose: object, hands: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        landmark_row(pose, hands)


def test_landmark_row_checks_out() -> None:
    for bad in (np.empty(10), np.empty(len(LANDMARK_CHANNELS), dtype=np.float32), [0.0] * 258):
        with pytest.raises(ValueError, match="out: expected a float64 array"):
            landmark_row(None, None, bad)  # type: ignore[arg-type]


JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=40) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=200,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pose=JSON | st.lists(st.lists(st.floats(), min_size=3, max_size=4), min_size=33, max_size=33),
    hands=JSON
    | st.dictionaries(
        st.sampled_from(["left", "right"]),
        st.none()
        | st.lists(st.lists(st.floats(), min_size=3, max_size=3), min_size=21, max_size=21),
    ),
)
def test_landmark_row_on_untrusted_json_only_raises_value_error(
    pose: object, hands: object
) -> None:
    try:
        row = landmark_row(pose, hands)
    except ValueError:
        return
    assert row.shape == (len(LANDMARK_CHANNELS),)
    present = ~np.isnan(row)
    assert np.isfinite(row[present]).all()
