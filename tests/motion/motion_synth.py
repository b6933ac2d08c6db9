"""Synthetic recordings for motion tests (no shared data needed)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from scipy.signal import butter, filtfilt

from openrehab.motion.hand_model import (  # re-exported for the motion tests
    hand_frame_points,
    rotation,
    to_image,
)
from openrehab.motion.recordings import MEDIAPIPE_LANDMARKS, Recording

SHARED_DIR = Path(
    os.environ.get("OPENREHAB_SHARED_DIR", Path(__file__).resolve().parents[2] / ".." / "shared")
).resolve()


def min_jerk_bump(t: np.ndarray, start: float, dur: float, amp: float) -> np.ndarray:
    """Out-and-back rep: minimum-jerk rise over dur/2 and return over dur/2."""
    half = dur / 2
    tau1 = np.clip((t - start) / half, 0, 1)
    tau2 = np.clip((t - start - half) / half, 0, 1)

    def mj(tau: np.ndarray) -> np.ndarray:
        return 10 * tau**3 - 15 * tau**4 + 6 * tau**5

    return amp * (mj(tau1) - mj(tau2))


def angle_session(
    fs: float = 50.0,
    starts: tuple[float, ...] = (3, 7, 10, 16, 21, 24.5, 26, 33),
    durs: tuple[float, ...] = (2, 1, 3, 1.5, 2.5, 1.0, 1.2, 4),
    amp: float = 60.0,
    noise: float = 1.0,
    drift_per_s: float = 0.1,
    tail_s: float = 4.0,
    seed: int = 0,
    t0: float = 0.0,
) -> tuple[Recording, list[tuple[float, float]]]:
    """Goniometer-style angle recording (deg): reps with rests, noise and drift."""
    rng = np.random.default_rng(seed)
    end = max(s + d for s, d in zip(starts, durs, strict=True)) + tail_s
    t = np.arange(0, end, 1 / fs)
    x = 20.0 + drift_per_s * t + rng.normal(0, noise, t.size)
    for s, d in zip(starts, durs, strict=True):
        x += min_jerk_bump(t, s, d, amp)
    rec = Recording(t + t0, x[:, None], ("angle",), "angle")
    return rec, [(s + t0, s + d + t0) for s, d in zip(starts, durs, strict=True)]


def still_angle(
    fs: float = 30.0, dur: float = 30.0, noise: float = 1.5, seed: int = 1
) -> Recording:
    rng = np.random.default_rng(seed)
    t = np.arange(0, dur, 1 / fs)
    # Tracking noise plus a slow postural sway.
    x = 90 + rng.normal(0, noise, t.size) + 1.5 * np.sin(2 * np.pi * 0.1 * t)
    return Recording(t, x[:, None], ("angle",), "angle")


def imu_session(
    fs: float = 50.0,
    n_reps: int = 10,
    period: float = 2.0,
    g_units: bool = False,
    seed: int = 0,
    rest_s: float = 5.0,
) -> Recording:
    """Wrist IMU doing curls: forearm tilts 0 -> 120 deg and back each rep."""
    rng = np.random.default_rng(seed)
    dur = rest_s + n_reps * period + rest_s
    t = np.arange(0, dur, 1 / fs)
    ang = np.zeros_like(t)
    for k in range(n_reps):
        ang += min_jerk_bump(t, rest_s + k * period, period * 0.95, np.radians(120))
    g = 9.80665
    ax = g * np.sin(ang)
    ay = g * np.cos(ang)
    az = np.zeros_like(t)
    gx = np.gradient(ang, t)
    acc = np.column_stack([ax, ay, az]) + rng.normal(0, 0.15, (t.size, 3))
    gyr = np.column_stack([gx, 0 * t, 0 * t]) + rng.normal(0, 0.02, (t.size, 3))
    if g_units:
        acc = acc / g
    return Recording(t, np.column_stack([acc, gyr]), ("ax", "ay", "az", "gx", "gy", "gz"), "imu")


def elbow_pose_frames(flex: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """MediaPipe-style frames ``(n, 33, 4)`` of a standing person whose right forearm, hanging
    down at 0, rotates forward and up by ``flex`` radians (landmark jitter 0.002)."""
    base = np.zeros((33, 4))
    base[:, 3] = 0.99
    idx = {n: i for i, n in enumerate(MEDIAPIPE_LANDMARKS)}
    # Image coordinates: y grows downwards.
    for n, x, y in [
        ("nose", 0.5, 0.2),
        ("left_shoulder", 0.6, 0.35),
        ("right_shoulder", 0.4, 0.35),
        ("left_elbow", 0.62, 0.5),
        ("left_wrist", 0.63, 0.65),
        ("left_hip", 0.57, 0.65),
        ("right_hip", 0.43, 0.65),
        ("left_knee", 0.57, 0.8),
        ("right_knee", 0.43, 0.8),
        ("left_ankle", 0.57, 0.95),
        ("right_ankle", 0.43, 0.95),
        ("right_elbow", 0.38, 0.5),
    ]:
        base[idx[n], :2] = (x, y)
    frames = np.repeat(base[None], flex.size, axis=0)
    ex, ey = base[idx["right_elbow"], :2]
    frames[:, idx["right_wrist"], 0] = ex - 0.15 * np.sin(flex)
    frames[:, idx["right_wrist"], 1] = ey + 0.15 * np.cos(flex)
    for fr in frames:  # one draw per frame, in order (the recordings tests were made with)
        fr[:, :2] += rng.normal(0, 0.002, (33, 2))
    return frames


def pose_elbow_session(
    fs: float = 30.0, n_reps: int = 4, seed: int = 0
) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """MediaPipe-style frames (33 x 4) of a person flexing the right elbow n times."""
    rng = np.random.default_rng(seed)
    dur = 2 + 2.5 * n_reps + 2
    t = np.arange(0, dur, 1 / fs)
    flex = np.zeros_like(t)
    for k in range(n_reps):
        flex += min_jerk_bump(t, 2 + 2.5 * k, 2.0, np.radians(110))
    frames = elbow_pose_frames(flex, rng)
    # two frames without a pose
    return t, [None if i in (40, 41) else fr for i, fr in enumerate(frames)]


def _imu_from_angles(
    t: np.ndarray,
    ang: np.ndarray,
    roll: np.ndarray,
    lin: np.ndarray,
    rng: np.random.Generator,
    gyro: bool,
) -> Recording:
    """Wrist IMU from a forearm pitch angle ``ang``, a roll angle and a linear acceleration
    ``lin`` (n, 3), all in radians / m/s^2; gravity included, sensor noise added."""
    g = 9.80665
    ax = g * np.sin(ang) + lin[:, 0]
    ay = g * np.cos(ang) * np.cos(roll) + lin[:, 1]
    az = g * np.cos(ang) * np.sin(roll) + lin[:, 2]
    acc = np.column_stack([ax, ay, az]) + rng.normal(0, 0.15, (t.size, 3))
    if not gyro:
        return Recording(t, acc, ("ax", "ay", "az"), "imu")
    gyr = np.column_stack([np.gradient(ang, t), np.gradient(roll, t), 0 * t])
    gyr = gyr + rng.normal(0, 0.02, (t.size, 3))
    return Recording(t, np.column_stack([acc, gyr]), ("ax", "ay", "az", "gx", "gy", "gz"), "imu")


def imu_set_session(
    fs: float = 50.0,
    periods: tuple[float, ...] = (2.0,) * 8,
    amp_deg: float = 100.0,
    handling: bool = True,
    bump: float = 0.0,
    gyro: bool = True,
    seed: int = 0,
    lead_s: float = 6.0,
    tail_s: float = 6.0,
    roll: bool = False,
) -> tuple[Recording, list[tuple[float, float]]]:
    """A set of wrist-IMU reps (one per entry of ``periods``, each rep lasting 90 % of its
    period), optionally with handling before and after (picking the weight up: a slow
    60 deg roll, a translation jolt; putting it down likewise) and a secondary bump of
    ``bump`` x the amplitude in the middle of each rep (a hitch at the top). The reps tilt
    the forearm (pitch), or with ``roll`` turn it about its long axis (pronation and
    supination: the gyroscope reads the turn's rate in rad/s on one axis)."""
    rng = np.random.default_rng(seed)
    dur = lead_s + sum(periods) + tail_s
    t = np.arange(0, dur, 1 / fs)
    ang = np.zeros_like(t)
    turn = np.zeros_like(t)
    lin = np.zeros((t.size, 3))
    truth = []
    s = lead_s
    a = np.radians(amp_deg)
    reps = turn if roll else ang
    for p in periods:
        d = 0.9 * p
        reps += min_jerk_bump(t, s, d, a)
        if bump:
            reps += min_jerk_bump(t, s + 0.4 * d, 0.2 * d, bump * a)
        truth.append((s, s + d))
        s += p
    if handling:
        for t0 in (1.0, lead_s + sum(periods) + 1.5):
            turn += min_jerk_bump(t, t0, 3.0, np.radians(60))
            ang += min_jerk_bump(t, t0 + 0.5, 2.2, np.radians(35))
            lin[:, 1] += 3.0 * np.exp(-((t - t0 - 1.5) ** 2) / 0.02)
    return _imu_from_angles(t, ang, turn, lin, rng, gyro), truth


def imu_random_gestures(
    fs: float = 50.0, dur: float = 60.0, gyro: bool = True, seed: int = 0
) -> Recording:
    """Everyday wrist gestures: isolated movements of random duration (0.5-3 s), amplitude
    (20-120 deg), axis and spacing (pauses of 0.3-6 s): non-periodic motion, no reps."""
    rng = np.random.default_rng(seed)
    t = np.arange(0, dur, 1 / fs)
    ang = np.zeros_like(t)
    roll = np.zeros_like(t)
    lin = np.zeros((t.size, 3))
    s = 1.0
    while s < dur - 4:
        d = rng.uniform(0.5, 3.0)
        amp = np.radians(rng.uniform(20, 120))
        target = ang if rng.random() < 0.6 else roll
        if rng.random() < 0.5:  # out and back
            target += min_jerk_bump(t, s, d, amp * rng.choice([-1, 1]))
        else:  # move and stay
            tau = np.clip((t - s) / d, 0, 1)
            target += amp * rng.choice([-1, 1]) * (10 * tau**3 - 15 * tau**4 + 6 * tau**5)
        lin[:, rng.integers(3)] += rng.uniform(0.5, 3) * np.exp(-((t - s - d / 2) ** 2) / 0.05)
        s += d + rng.uniform(0.3, 6.0)
    return _imu_from_angles(t, ang, roll, lin, rng, gyro)


def imu_slow_set(
    period: float,
    n_reps: int = 8,
    gyro: bool = True,
    seed: int = 0,
    fs: float = 50.0,
    rom_deg: float = 60.0,
    rest_s: float = 5.0,
) -> Recording:
    """Slow rehabilitation set: the forearm tilts 0 -> ``rom_deg`` -> 0 per rep (a raised
    cosine of ``period`` seconds), with rest before and after (the lead's reproduction)."""
    rng = np.random.default_rng(seed)
    t = np.arange(0, rest_s + period * n_reps + rest_s, 1 / fs)
    phase = np.clip((t - rest_s) / period, 0, n_reps)
    inside = (t > rest_s) & (t < rest_s + period * n_reps)
    ang = np.where(inside, np.radians(rom_deg) * (1 - np.cos(2 * np.pi * phase)) / 2, 0.0)
    g = 9.81
    acc = np.column_stack([g * np.sin(ang), 0 * t, g * np.cos(ang)])
    acc += rng.normal(0, 0.05, acc.shape)
    if not gyro:
        return Recording(t, acc, ("ax", "ay", "az"), "imu")
    gyr = np.column_stack([np.gradient(ang, 1 / fs), 0 * t, 0 * t]) + rng.normal(0, 0.01, acc.shape)
    return Recording(t, np.column_stack([acc, gyr]), ("ax", "ay", "az", "gx", "gy", "gz"), "imu")


def imu_slow_set_after_pickup(
    period: float,
    n_reps: int = 8,
    rom_deg: float = 60.0,
    turn_deg: float = 100.0,
    seed: int = 0,
    fs: float = 50.0,
) -> Recording:
    """A slow set after picking the weight up: the wrist turns ``turn_deg`` about its long
    axis (1.5 s, then held) and the reps tilt it 0 -> ``rom_deg`` -> 0 about a
    perpendicular horizontal axis (minimum-jerk, each rep's period and range varying by
    +-10 % and +-15 %); it is turned back at the end. Gravity is rotated into the sensor
    frame (the reps move it as much as the turn did, in another plane)."""
    rng = np.random.default_rng(seed)
    lead, tail = 4.0, 5.0
    t = np.arange(0, lead + period * n_reps + tail, 1 / fs)

    def settle(t0: float) -> np.ndarray:
        tau = np.clip((t - t0) / 1.5, 0, 1)
        return 10 * tau**3 - 15 * tau**4 + 6 * tau**5

    turn = np.radians(turn_deg) * (settle(1.0) - settle(lead + period * n_reps + 1.0))
    tilt = np.zeros_like(t)
    s = lead
    for _ in range(n_reps):
        p = period * rng.uniform(0.9, 1.1)
        tilt += min_jerk_bump(t, s, 0.9 * p, np.radians(rom_deg) * rng.uniform(0.85, 1.15))
        s += p
    g = 9.81
    acc = np.column_stack(
        [g * np.sin(tilt), g * np.cos(tilt) * np.sin(turn), g * np.cos(tilt) * np.cos(turn)]
    )
    acc += rng.normal(0, 0.15, acc.shape)
    return Recording(t, acc, ("ax", "ay", "az"), "imu")


def imu_slow_wandering(fs: float = 50.0, dur: float = 120.0, seed: int = 0) -> Recording:
    """A sensor drifting slowly in orientation (posture shifts, no exercise): tilt and roll
    are smooth random walks (Brownian motion low-passed at 0.1 Hz, up to about 60 deg)."""
    rng = np.random.default_rng(seed)
    t = np.arange(0, dur, 1 / fs)
    b, a = butter(2, 0.1, fs=fs)
    walks = []
    for _ in range(2):
        w = filtfilt(b, a, np.cumsum(rng.normal(0, 1, t.size)))
        w = w - w[0]
        walks.append(np.radians(60.0) * w / max(np.abs(w).max(), 1e-9))
    ang, roll = walks
    g = 9.81
    acc = np.column_stack(
        [g * np.sin(ang), g * np.cos(ang) * np.sin(roll), g * np.cos(ang) * np.cos(roll)]
    )
    acc += rng.normal(0, 0.05, acc.shape)
    gyr = np.column_stack([np.gradient(ang, t), np.gradient(roll, t), 0 * t])
    gyr += rng.normal(0, 0.01, gyr.shape)
    return Recording(t, np.column_stack([acc, gyr]), ("ax", "ay", "az", "gx", "gy", "gz"), "imu")


# --------------------------------------------------------------------- MediaPipe Hand
# The kinematic hand lives in openrehab.motion.hand_model (the live demo uses it too).


def base_pose() -> np.ndarray:
    """A still seated person (33 x 4, visibility 0.99) for hand streams that carry a pose."""
    rows = np.zeros((33, 4))
    rows[:, 3] = 0.99
    rng = np.random.default_rng(3)
    rows[:, 0] = 0.5 + rng.uniform(-0.15, 0.15, 33)
    rows[:, 1] = np.linspace(0.1, 0.95, 33)
    return rows


def hand_session(
    values: np.ndarray,
    *,
    what: str = "pip_deg",
    side: str = "right",
    fs: float = 30.0,
    aspect: float = 16 / 9,
    rot: np.ndarray | None = None,
    noise: float = 0.001,
    other: np.ndarray | None = None,
    with_pose: bool = False,
    seed: int = 0,
) -> list[tuple[float, np.ndarray | None, dict[str, np.ndarray | None]]]:
    """Frames ``(t, pose or None, hands)`` of one hand moving through ``values`` (one per
    frame) of ``what`` (a :func:`hand_frame_points` argument); ``other``: PIP flexion of the
    other hand per frame (else it is not in view). Tracking noise ``noise`` (x, y; twice
    that in z). A NaN value means the hand is not found in that frame."""
    rng = np.random.default_rng(seed)
    rot = rotation(10, 20, 5) if rot is None else rot
    frames = []
    for i, v in enumerate(values):
        hands: dict[str, np.ndarray | None] = {"left": None, "right": None}
        pose = base_pose() if with_pose else None
        other_side = "left" if side == "right" else "right"
        for s, val, key in ((side, v, what), (other_side, np.nan, "pip_deg")):
            if s == other_side and other is not None:
                val = other[i]
            if np.isnan(val):
                continue
            kw = {"pip_deg": 10.0, key: float(val)}
            pts = hand_frame_points(**kw)
            hand, elbow = to_image(
                pts,
                rot,
                aspect=aspect,
                mirror=s == "left",
                centre=(0.35 if s == "left" else 0.65, 0.55),
            )
            hand = hand + rng.normal(0, noise, hand.shape) * np.array([1.0, 1.0, 2.0])
            hands[s] = hand
            if pose is not None:
                pose[MEDIAPIPE_LANDMARKS.index(f"{s}_elbow"), :2] = elbow
                pose[MEDIAPIPE_LANDMARKS.index(f"{s}_wrist"), :2] = hand[0, :2]
        frames.append((i / fs, pose, hands))
    return frames


def raised_cosine_set(
    n_reps: int, period_s: float, amp: float, base: float, fs: float = 30.0, rest_s: float = 2.0
) -> np.ndarray:
    """``base`` at rest, then ``n_reps`` raised-cosine excursions of ``amp`` (one per
    ``period_s``), then rest: one value per frame."""
    t = np.arange(0, rest_s + n_reps * period_s + rest_s, 1 / fs)
    phase = np.clip((t - rest_s) / period_s, 0, n_reps)
    return base + amp * (1 - np.cos(2 * np.pi * phase)) / 2
