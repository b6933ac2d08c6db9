"""A kinematic hand: MediaPipe Hand landmarks of a hand in a known pose.

Used by the live demo stream (a simulated person for a session without a camera) and by the
tests, which check the engine's hand signals against this known geometry.
"""

from __future__ import annotations

import numpy as np

from .recordings import HAND_LANDMARKS

#: Kinematic hand, in metres in the hand's frame: r (radial, towards the thumb), u (distal,
#: wrist -> middle MCP), n (palmar). Finger MCP positions (r, u) and phalanx lengths
#: (proximal, middle, distal).
_FINGERS: dict[str, tuple[tuple[float, float], tuple[float, float, float]]] = {
    "index": ((0.022, 0.090), (0.040, 0.024, 0.018)),
    "middle": ((0.0, 0.092), (0.045, 0.028, 0.019)),
    "ring": ((-0.020, 0.087), (0.042, 0.026, 0.019)),
    "pinky": ((-0.038, 0.078), (0.032, 0.018, 0.016)),
}
PALM_M = 0.092  # wrist -> middle MCP
_THUMB_OPEN = {  # thumb landmarks of an open hand (r, u, n)
    "thumb_cmc": (0.022, 0.022, 0.01),
    "thumb_mcp": (0.045, 0.045, 0.015),
    "thumb_ip": (0.058, 0.070, 0.018),
    "thumb_tip": (0.066, 0.092, 0.02),
}
FOREARM_M = 0.25


def hand_frame_points(
    pip_deg: float,
    *,
    pinch: float | None = None,
    oppose: float | None = None,
    deviation_deg: float = 0.0,
) -> dict[str, np.ndarray]:
    """The 21 MediaPipe Hand landmarks (plus ``"elbow"``: the forearm's far end) in the
    hand's frame, metres. Every finger's PIP joint flexes by ``pip_deg`` (the DIP by 2/3 of
    it, the MCP by half: natural coupling, which does not change the PIP angle); ``pinch``
    puts the thumb tip that many palm sizes from the index tip, ``oppose`` from the little
    fingertip; ``deviation_deg`` turns the hand about the palm's normal towards the thumb
    (radial, +) relative to the forearm, which lies along -u."""
    r, u, n = np.eye(3)
    pts: dict[str, np.ndarray] = {"wrist": np.zeros(3), "elbow": -FOREARM_M * u}
    p = np.radians(pip_deg)
    for finger, ((rr, uu), lengths) in _FINGERS.items():
        pos = rr * r + uu * u
        pts[f"{finger}_mcp"] = pos
        theta = 0.0
        for name, length, flex in zip(
            ("pip", "dip", "tip"), lengths, (0.5 * p, p, 2 / 3 * p), strict=True
        ):
            theta += flex
            pos = pos + length * (np.cos(theta) * u + np.sin(theta) * n)
            pts[f"{finger}_{name}"] = pos
    for name, (a, b, c) in _THUMB_OPEN.items():
        pts[name] = a * r + b * u + c * n
    for aperture, target in ((pinch, "index_tip"), (oppose, "pinky_tip")):
        if aperture is not None:
            away = pts["thumb_tip"] - pts[target]
            tip = pts[target] + aperture * PALM_M * away / np.linalg.norm(away)
            pts["thumb_ip"] = pts["thumb_mcp"] + 0.55 * (tip - pts["thumb_mcp"]) + 0.01 * n
            pts["thumb_tip"] = tip
    c, s = np.cos(np.radians(deviation_deg)), np.sin(np.radians(deviation_deg))
    turn = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])  # u towards r
    return {k: (v if k == "elbow" else v @ turn) for k, v in pts.items()}


def rotation(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """Rotation matrix (rows: hand axes r, u, n in camera coordinates x right, y up, z away
    from the camera) from three angles; (0, 0, 0): fingers up, palm facing the camera."""
    a, b, g = np.radians([yaw_deg, pitch_deg, roll_deg])
    rz = np.array([[np.cos(g), -np.sin(g), 0], [np.sin(g), np.cos(g), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    palm_to_camera = np.diag([1.0, 1.0, -1.0])  # n (palmar) points at the camera
    return palm_to_camera @ rz.T @ rx.T @ ry.T


def to_image(
    pts: dict[str, np.ndarray],
    rot: np.ndarray,
    *,
    aspect: float = 16 / 9,
    centre: tuple[float, float] = (0.5, 0.55),
    scale: float = 3.0,
    mirror: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Hand landmarks ``(21, 3)`` in MediaPipe's normalised coordinates (x / width, y down /
    height, z relative to the wrist at the scale of x) and the elbow ``(x, y)``.
    ``scale``: image heights per metre; ``mirror``: a left hand (the mirror image)."""
    flip = np.diag([-1.0, 1.0, 1.0]) if mirror else np.eye(3)
    cam = {k: scale * (v @ flip @ rot) for k, v in pts.items()}  # image heights, y up
    w = cam["wrist"]

    def norm(p: np.ndarray) -> np.ndarray:
        return np.array(
            [centre[0] + (p[0] - w[0]) / aspect, centre[1] - (p[1] - w[1]), (p[2] - w[2]) / aspect]
        )

    hand = np.array([norm(cam[k]) for k in HAND_LANDMARKS])
    return hand, norm(cam["elbow"])[:2]


__all__ = ["FOREARM_M", "PALM_M", "hand_frame_points", "rotation", "to_image"]
