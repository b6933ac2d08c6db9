"""The simulated person of the demo: every exercise it can show is counted by the real engine,
reaches the level-1 target and never trips a stretch's speed limit."""

from __future__ import annotations

import pytest

from openrehab.exercises.library import load_library
from openrehab.live.counting import LandmarkCounter
from openrehab.live.demo_stream import demo_available, demo_stream
from openrehab.live.protocol import Frame
from openrehab.motion.recordings import landmark_row

LIBRARY = load_library()
SHOWN = [e for e in LIBRARY if demo_available(e)]


def test_the_demo_covers_pose_and_hand_exercises() -> None:
    signals = {e.sensing.signal for e in SHOWN}
    assert {"elbow_flexion", "knee_extension", "finger_flexion", "pinch_aperture"} <= signals
    assert len(SHOWN) >= 25
    assert not demo_available(LIBRARY.get("forearm_pronation"))  # IMU only


@pytest.mark.parametrize("exercise", SHOWN, ids=lambda e: e.id)
def test_demo_stream_is_counted_as_it_was_made(exercise) -> None:  # type: ignore[no-untyped-def]
    side = "left" if exercise.laterality == "unilateral" else "right"
    mode = "stretch" if "stretch" in exercise.modes else exercise.modes[0]
    stream = demo_stream(exercise, side, reps=2)
    counter = LandmarkCounter(exercise, side, mode, 1, stream["fps"], stream["aspect"])
    frames = [Frame(**f) for f in stream["frames"]]
    counted = counter.push([f.t for f in frames], [landmark_row(f.pose, f.hands) for f in frames])
    reps = counted.reps + counter.finish()
    level = exercise.level(1)
    needed = level.target_range_pct / 100 * abs(exercise.sensing.target - exercise.sensing.rest)
    assert len(reps) == 2
    assert all(abs(r.rom) >= needed for r in reps), [r.rom for r in reps]
    assert not any(r.too_fast for r in reps)
    assert counter.tracking == "found"


def test_no_demo_for_what_it_cannot_show() -> None:
    with pytest.raises(ValueError, match="no demo"):
        demo_stream(LIBRARY.get("sit_to_stand"))
