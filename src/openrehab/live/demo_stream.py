"""A simulated person doing an exercise, as the landmark frames a browser would send.

Used by the live page's "Watch a demo" (no camera needed) and by ``openrehab demo``. The
figure is drawn in image coordinates: a seated person seen from the front (MediaPipe Pose's
33 landmarks) or a hand (MediaPipe Hand's 21), and the exercise's own signal is animated
between its rest and its level-1 target with minimum-jerk movements at the level's tempo, so
the real engine counts it exactly like a camera stream.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from openrehab.exercises.schema import Exercise
from openrehab.motion.hand_model import hand_frame_points, rotation, to_image
from openrehab.motion.recordings import MEDIAPIPE_LANDMARKS
from openrehab.motion.signals import SIGNALS
from openrehab.program.music import rep_duration_s

FPS = 30.0
ASPECT = 16 / 9
DEMO_REPS = 5
_LEAD_IN_S = 2.0
_PAUSE_S = 1.0
_REACH = 1.15
_DEMO_S = 60.0

# A seated person facing the camera, in "square" image units (x already times the aspect),
# y down; the person's left is on the image's right.
_BODY: dict[str, tuple[float, float]] = {
    "nose": (0.0, 0.20),
    "left_eye_inner": (0.012, 0.19),
    "left_eye": (0.022, 0.19),
    "left_eye_outer": (0.032, 0.19),
    "right_eye_inner": (-0.012, 0.19),
    "right_eye": (-0.022, 0.19),
    "right_eye_outer": (-0.032, 0.19),
    "left_ear": (0.05, 0.2),
    "right_ear": (-0.05, 0.2),
    "mouth_left": (0.015, 0.235),
    "mouth_right": (-0.015, 0.235),
    "left_shoulder": (0.12, 0.34),
    "right_shoulder": (-0.12, 0.34),
    "left_elbow": (0.14, 0.50),
    "right_elbow": (-0.14, 0.50),
    "left_wrist": (0.15, 0.64),
    "right_wrist": (-0.15, 0.64),
    "left_pinky": (0.16, 0.68),
    "right_pinky": (-0.16, 0.68),
    "left_index": (0.15, 0.69),
    "right_index": (-0.15, 0.69),
    "left_thumb": (0.14, 0.67),
    "right_thumb": (-0.14, 0.67),
    "left_hip": (0.08, 0.62),
    "right_hip": (-0.08, 0.62),
    "left_knee": (0.10, 0.78),
    "right_knee": (-0.10, 0.78),
    "left_ankle": (0.10, 0.94),
    "right_ankle": (-0.10, 0.94),
    "left_heel": (0.09, 0.96),
    "right_heel": (-0.09, 0.96),
    "left_foot_index": (0.12, 0.98),
    "right_foot_index": (-0.12, 0.98),
}
#: Points that move with a joint (everything further along the limb).
_CHAIN: dict[str, tuple[str, ...]] = {
    "shoulder": ("elbow", "wrist", "pinky", "index", "thumb"),
    "elbow": ("wrist", "pinky", "index", "thumb"),
    "wrist": ("pinky", "index", "thumb"),
    "hip": ("knee", "ankle", "heel", "foot_index"),
    "knee": ("ankle", "heel", "foot_index"),
    "ankle": ("heel", "foot_index"),
}
_MP_NAME = {"toes": "foot_index"}


def demo_available(exercise: Exercise) -> bool:
    """Whether a demo stream can show this exercise's own movement (wrist deviation needs the
    forearm from the body pose as well, which the simulated hand does not carry)."""
    signal = exercise.sensing.signal
    return SIGNALS[signal].method in _ANIMATORS and signal not in _NOT_SHOWN


_NOT_SHOWN = frozenset({"wrist_deviation"})


def demo_stream(exercise: Exercise, side: str = "right", reps: int | None = None) -> dict[str, Any]:
    """Frames ``{"t", "pose", "hands"}`` at 30 frames/s of ``reps`` repetitions at the
    level-1 tempo (default: 5, or as many as fit in about a minute, at least 2)."""
    sdef = SIGNALS[exercise.sensing.signal]
    animate = _ANIMATORS.get(sdef.method)
    if animate is None or not demo_available(exercise):
        raise ValueError(f"There is no demo for {exercise.name} yet.")
    level = exercise.level(1)
    rep_s = max(2.0, rep_duration_s(level.tempo_bpm, level.beats_per_rep, level.hold_s))
    if reps is None:
        reps = max(2, min(DEMO_REPS, int(_DEMO_S // (rep_s + _PAUSE_S))))
    total_s = _LEAD_IN_S + reps * (rep_s + _PAUSE_S) + 1.0
    t = np.arange(0.0, total_s, 1 / FPS)
    phase = np.zeros_like(t)  # 0 at rest, 1 at the target
    for k in range(reps):
        phase += _bump(t, _LEAD_IN_S + k * (rep_s + _PAUSE_S), rep_s)
    rng = np.random.default_rng(7)
    # The simulated person goes a little past the level-1 target, as a person reaching it
    # comfortably does (the filtered range a camera measures falls a few degrees short).
    rest = exercise.sensing.rest
    target = rest + _REACH * (exercise.level_target(1) - rest)
    frames = []
    joints = tuple(j.replace("{side}", side) for j in sdef.joints)
    for tk, pk in zip(t.tolist(), phase.tolist(), strict=True):
        value = rest + pk * (target - rest)
        pose, hands = animate(joints, value, side)
        frames.append({"t": round(tk, 4), "pose": _jitter(pose, rng), "hands": _jitter(hands, rng)})
    return {"aspect": ASPECT, "fps": FPS, "reps": reps, "side": side, "frames": frames}


def _bump(t: np.ndarray, start: float, dur: float) -> np.ndarray:
    """Out and back, minimum jerk each way (Flash & Hogan 1985)."""
    half = dur / 2

    def mj(tau: np.ndarray) -> np.ndarray:
        return 10 * tau**3 - 15 * tau**4 + 6 * tau**5

    return mj(np.clip((t - start) / half, 0, 1)) - mj(np.clip((t - start - half) / half, 0, 1))


def _jitter(points: Any, rng: np.random.Generator) -> Any:
    """Tracking noise of about a pixel, so the stream looks like a camera's."""
    if points is None:
        return None
    if isinstance(points, dict):
        return {k: _jitter(v, rng) for k, v in points.items()}
    arr = np.asarray(points, dtype=float)
    arr[:, :2] += rng.normal(0, 0.0008, (arr.shape[0], 2))
    return np.round(arr, 5).tolist()


def _pose_rows(body: dict[str, np.ndarray]) -> list[list[float]]:
    return [[0.5 + body[n][0] / ASPECT, body[n][1], 0.0, 0.99] for n in MEDIAPIPE_LANDMARKS]


def _body() -> dict[str, np.ndarray]:
    return {k: np.array(v, dtype=float) for k, v in _BODY.items()}


def _split(joint: str) -> tuple[str, str]:
    side, _, part = joint.partition("_")
    return side, _MP_NAME.get(part, part)


def _rotate_chain(body: dict[str, np.ndarray], joint: str, angle_rad: float) -> None:
    """Turn everything beyond ``joint`` about it by ``angle_rad`` in the image plane."""
    side, part = _split(joint)
    centre = body[f"{side}_{part}"]
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    rot = np.array([[c, -s], [s, c]])
    for name in _CHAIN.get(part, ()):
        key = f"{side}_{name}"
        body[key] = centre + rot @ (body[key] - centre)


def _heading(v: np.ndarray) -> float:
    return math.atan2(v[1], v[0])


def _angle3(joints: tuple[str, ...], value: float, side: str, flexion: bool = False) -> Any:
    """Interior angle at the middle joint = ``value`` (or 180 - value for flexion)."""
    body = _body()
    a, b, c = (f"{_split(j)[0]}_{_split(j)[1]}" for j in joints[:3])
    interior = math.radians(180.0 - value if flexion else value)
    now = _heading(body[a] - body[b]) - _heading(body[c] - body[b])
    # Bend away from the body so the limb stays clear of the trunk.
    sign = 1.0 if body[b][0] < 0 else -1.0
    _rotate_chain(body, joints[1], now - sign * interior if sign > 0 else now + interior)
    return _pose_rows(body), None


def _flexion3(joints: tuple[str, ...], value: float, side: str) -> Any:
    return _angle3(joints, value, side, flexion=True)


def _segment(joints: tuple[str, ...], value: float, side: str) -> Any:
    """Segment ``a -> b`` at ``value`` degrees from hanging straight down, away from the body."""
    body = _body()
    a, b = (f"{_split(j)[0]}_{_split(j)[1]}" for j in joints[:2])
    outward = 1.0 if body[a][0] > 0 else -1.0
    target = math.atan2(math.cos(math.radians(value)), outward * math.sin(math.radians(value)))
    _rotate_chain(body, joints[0], target - _heading(body[b] - body[a]))
    return _pose_rows(body), None


#: The simulated hand: palm towards the camera, slightly turned, in the lower middle.
_HAND_VIEW = rotation(10, 20, 5)


def _hand(side: str, **pose: float) -> list[list[float]]:
    hand, _elbow = to_image(
        hand_frame_points(**pose), _HAND_VIEW, aspect=ASPECT, mirror=side == "left"
    )
    return hand.tolist()


def _hand_angle(joints: tuple[str, ...], value: float, side: str) -> Any:
    """Finger flexion (or extension from a fist: the same PIP angle) of ``value`` deg."""
    return None, {side: _hand(side, pip_deg=value)}


def _hand_distance(joints: tuple[str, ...], value: float, side: str) -> Any:
    """Thumb tip ``value`` palm sizes from the index tip (or the little fingertip)."""
    key = "oppose" if joints[-1].endswith("pinky_tip") else "pinch"
    return None, {side: _hand(side, pip_deg=10.0, **{key: max(value, 0.02)})}


_ANIMATORS = {
    "angle3": _angle3,
    "flexion3": _flexion3,
    "segment_vs_vertical": _segment,
    "segment_vs_vertical_frontal": _segment,
    "hand_angle": _hand_angle,
    "hand_distance": _hand_distance,
}
