"""Named body signals against the geometry of the pose they are computed from.

Each signal is a clinical angle or distance between named joints (docs/motion.md,
``signals.py``). The tests place a body's joints in 3-D ("true" coordinates: x to the
person's left as seen by the camera, i.e. image right, y up, z away from the camera) and
write them out as a MediaPipe landmark row (normalised image coordinates: x / aspect, y
flipped downwards, z on the scale of x; 2-D, depth only for trunk rotation) and as a
Kinect-style skeleton row (metres, 3-D, x mirrored: Kinect's x points to the person's
right). The signal must equal the angle or distance
computed here from the true coordinates, in the plane the signal's definition names.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from openrehab.motion.features import MIN_PALM_FACING, MIN_VISIBILITY, build_extractor
from openrehab.motion.recordings import (
    LANDMARK_CHANNELS,
    MEDIAPIPE_LANDMARKS,
    POSE_CHANNELS,
    hand_channel,
)
from openrehab.motion.signals import SignalSpec

ASPECT = 16 / 9
N = 12  # poses per check
SKELETON_JOINTS = (
    "head",
    "waist",
    *(
        f"{s}_{j}"
        for s in ("left", "right")
        for j in ("shoulder", "elbow", "wrist", "hand", "hip", "knee", "ankle", "toes")
    ),
)
# The skeleton's joint for each MediaPipe landmark used here.
_AS_SKELETON = {
    "nose": "head",
    "left_index": "left_hand",
    "right_index": "right_hand",
    "left_foot_index": "left_toes",
    "right_foot_index": "right_toes",
}


def _bodies(seed: int = 0) -> dict[str, np.ndarray]:
    """N standing, sitting or moving bodies: true positions ``(N, 3)`` per landmark."""
    rng = np.random.default_rng(seed)

    def jitter(scale: float) -> np.ndarray:
        return rng.normal(0.0, scale, (N, 3))

    base = {
        "nose": (0.0, 0.75, 0.0),
        "mouth_left": (0.02, 0.7, 0.0),
        "mouth_right": (-0.02, 0.7, 0.0),
        "left_shoulder": (0.18, 0.55, 0.02),
        "right_shoulder": (-0.18, 0.55, -0.02),
        "left_elbow": (0.22, 0.3, 0.05),
        "right_elbow": (-0.22, 0.3, -0.05),
        "left_wrist": (0.25, 0.08, 0.15),
        "right_wrist": (-0.25, 0.08, 0.12),
        "left_index": (0.26, 0.0, 0.2),
        "right_index": (-0.27, 0.0, 0.18),
        "left_hip": (0.12, 0.0, 0.0),
        "right_hip": (-0.12, 0.0, 0.01),
        "left_knee": (0.13, -0.45, 0.08),
        "right_knee": (-0.13, -0.45, 0.05),
        "left_ankle": (0.14, -0.88, 0.0),
        "right_ankle": (-0.14, -0.88, 0.02),
        "left_heel": (0.14, -0.92, -0.05),
        "right_heel": (-0.14, -0.92, -0.04),
        "left_foot_index": (0.15, -0.95, 0.15),
        "right_foot_index": (-0.15, -0.95, 0.14),
    }
    return {k: np.array(v) + jitter(0.06) for k, v in base.items()}


def _pose_rows(body: dict[str, np.ndarray], visibility: float = 0.99) -> np.ndarray:
    """MediaPipe rows (POSE_CHANNELS) of the bodies, on a 16:9 image."""
    rows = np.zeros((N, len(MEDIAPIPE_LANDMARKS), 4))
    rows[:, :, 3] = visibility
    for name, p in body.items():
        i = MEDIAPIPE_LANDMARKS.index(name)
        rows[:, i, 0] = 0.5 + p[:, 0] / ASPECT
        rows[:, i, 1] = 0.5 - p[:, 1]
        rows[:, i, 2] = p[:, 2] / ASPECT
    return rows.reshape(N, -1)


def _skeleton(body: dict[str, np.ndarray]) -> tuple[tuple[str, ...], np.ndarray]:
    """Skeleton channels and rows of the bodies (no heel: it falls back to the ankle), in
    Kinect camera space: x towards the person's right (the sensor's left), y up, z away
    from the sensor; a right-handed frame, the image's x mirrored."""
    mirror = np.array([-1.0, 1.0, 1.0])
    pts = {_AS_SKELETON.get(k, k): v * mirror for k, v in body.items() if not k.startswith("mouth")}
    pts["waist"] = (body["left_hip"] + body["right_hip"]) / 2
    names = [j for j in SKELETON_JOINTS if j in pts]
    channels = tuple(f"{j}_{a}" for j in names for a in "xyz")
    return channels, np.concatenate([pts[j] for j in names], axis=1)


def _signal(kind: str, signal: str, side: str | None, body: dict[str, np.ndarray]) -> np.ndarray:
    if kind == "pose":
        ex = build_extractor((POSE_CHANNELS, "pose", ASPECT), SignalSpec(signal=signal, side=side))
        return ex.rows(_pose_rows(body))[:, 0]
    channels, rows = _skeleton(body)
    ex = build_extractor((channels, "skeleton", 1.0), SignalSpec(signal=signal, side=side))
    return ex.rows(rows)[:, 0]


def _angle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Unsigned angle between row vectors, degrees."""
    c = np.sum(u * v, axis=1) / np.linalg.norm(u, axis=1) / np.linalg.norm(v, axis=1)
    return np.degrees(np.arccos(np.clip(c, -1, 1)))


def _expected(signal: str, side: str, b: dict[str, np.ndarray], kind: str) -> np.ndarray:
    """The signal's definition on the true coordinates (image plane only for landmarks)."""
    if kind == "pose":
        p = {k: v[:, :2] for k, v in b.items()}  # MediaPipe pose signals are 2-D
    else:
        p = dict(b)
        p["left_heel"], p["right_heel"] = b["left_ankle"], b["right_ankle"]
        p["mouth_left"] = p["mouth_right"] = b["nose"]  # the skeleton's head
    s = side
    down = (p["left_hip"] + p["right_hip"]) / 2 - (p["left_shoulder"] + p["right_shoulder"]) / 2
    torso = np.linalg.norm(down, axis=1)
    vertical_plane = slice(0, 2) if kind == "pose" else slice(1, 3)  # sagittal: y, z
    if signal == "elbow_flexion":
        return 180 - _angle(p[f"{s}_shoulder"] - p[f"{s}_elbow"], p[f"{s}_wrist"] - p[f"{s}_elbow"])
    if signal == "wrist_flexion":
        return 180 - _angle(p[f"{s}_elbow"] - p[f"{s}_wrist"], p[f"{s}_index"] - p[f"{s}_wrist"])
    if signal == "knee_extension":
        return _angle(p[f"{s}_hip"] - p[f"{s}_knee"], p[f"{s}_ankle"] - p[f"{s}_knee"])
    if signal == "hip_extension_bridge":
        return _angle(p[f"{s}_shoulder"] - p[f"{s}_hip"], p[f"{s}_knee"] - p[f"{s}_hip"])
    if signal == "ankle_dorsiflexion":
        return _angle(p[f"{s}_knee"] - p[f"{s}_ankle"], p[f"{s}_foot_index"] - p[f"{s}_ankle"])
    if signal == "shoulder_abduction":
        return _angle(p[f"{s}_elbow"] - p[f"{s}_shoulder"], down)
    if signal == "hip_flexion":
        return _angle(p[f"{s}_knee"] - p[f"{s}_hip"], down)
    if signal == "shoulder_flexion":
        seg = p[f"{s}_elbow"] - p[f"{s}_shoulder"]
        return _angle(seg[:, vertical_plane], down[:, vertical_plane])
    if signal == "hip_abduction":
        return _angle((p[f"{s}_knee"] - p[f"{s}_hip"])[:, :2], down[:, :2])
    up = -down
    if signal == "trunk_forward_lean":
        return _angle(
            up[:, vertical_plane], np.tile([1.0, 0.0] if kind != "pose" else [0, 1.0], (N, 1))
        )
    if signal == "trunk_lateral_lean":
        return _angle(up[:, :2], np.tile([0.0, 1.0], (N, 1)))
    if signal == "reach_distance":
        d = np.linalg.norm(p[f"{s}_shoulder"] - p[f"{s}_wrist"], axis=1)
        return d / torso if kind == "pose" else d
    if signal == "hand_to_mouth_distance":
        mouth = (p["mouth_left"] + p["mouth_right"]) / 2
        d = np.linalg.norm(p[f"{s}_wrist"] - mouth, axis=1)
        return d / torso if kind == "pose" else d
    if signal == "scapular_retraction":
        return np.linalg.norm(p["left_shoulder"] - p["right_shoulder"], axis=1) / np.linalg.norm(
            p["left_hip"] - p["right_hip"], axis=1
        )
    if signal == "sit_to_stand":
        hip = (p["left_hip"] + p["right_hip"]) / 2
        ankle = (p["left_ankle"] + p["right_ankle"]) / 2
        return (hip[:, 1] - ankle[:, 1]) / torso
    if signal == "heel_raise":
        # heel height above the toe over the hip-knee length (the signal's joints)
        lift = p[f"{s}_heel"][:, 1] - p[f"{s}_foot_index"][:, 1]
        return lift / np.linalg.norm(p[f"{s}_knee"] - p[f"{s}_hip"], axis=1)
    if signal == "weight_shift":
        hip = (p["left_hip"] + p["right_hip"]) / 2
        ankle = (p["left_ankle"] + p["right_ankle"]) / 2
        shift = (hip[:, 0] - ankle[:, 0]) / np.linalg.norm(p["left_hip"] - p["right_hip"], axis=1)
        return -shift if kind == "skeleton" else shift  # Kinect's x is mirrored
    raise AssertionError(signal)


SIDED = [
    "elbow_flexion",
    "wrist_flexion",
    "knee_extension",
    "hip_extension_bridge",
    "ankle_dorsiflexion",
    "shoulder_abduction",
    "hip_flexion",
    "shoulder_flexion",
    "hip_abduction",
    "reach_distance",
    "hand_to_mouth_distance",
    "heel_raise",
]
UNSIDED = [
    "trunk_forward_lean",
    "trunk_lateral_lean",
    "scapular_retraction",
    "sit_to_stand",
    "weight_shift",
]


@pytest.mark.parametrize("kind", ["pose", "skeleton"])
@pytest.mark.parametrize(
    ("signal", "side"),
    [(s, side) for s in SIDED for side in ("left", "right")] + [(s, None) for s in UNSIDED],
)
def test_named_signal_is_its_geometric_definition(kind: str, signal: str, side: str | None) -> None:
    """Each named signal equals its definition on the pose: joint angles at the named joint,
    segments against the trunk axis (shoulder midpoint -> hip midpoint) in the named plane,
    distances over the torso length (image landmarks) or in metres (skeletons); image
    landmarks are aspect-corrected (x times width / height) and turned y-up first."""
    body = _bodies()
    expected = _expected(signal, side or "right", body, kind)
    assert _signal(kind, signal, side, body) == pytest.approx(expected, rel=1e-6, abs=1e-6)


def test_trunk_rotation_is_the_signed_shoulder_line_against_the_hip_line() -> None:
    """Trunk rotation from landmarks with depth is the shoulder line's angle in the
    horizontal (x, depth) plane minus the hip line's, in (-180, 180]: a twist to either side
    is told apart, and turning the whole body is not trunk rotation. Skeletons: the
    unsigned angle between the two lines in that plane."""
    body = _bodies(1)
    sh = body["right_shoulder"] - body["left_shoulder"]
    hp = body["right_hip"] - body["left_hip"]
    signed = np.degrees(np.arctan2(sh[:, 2], sh[:, 0]) - np.arctan2(hp[:, 2], hp[:, 0]))
    signed = (signed + 180) % 360 - 180
    assert _signal("pose", "trunk_rotation", None, body) == pytest.approx(signed, abs=1e-6)
    unsigned = _angle(sh[:, [0, 2]], hp[:, [0, 2]])
    assert _signal("skeleton", "trunk_rotation", None, body) == pytest.approx(unsigned, abs=1e-6)


def test_trunk_rotation_without_depth_is_the_shoulder_width_against_the_hips() -> None:
    """Landmarks without a depth column: the shoulders' image width relative to 1.3 x the
    hips' width, as the angle whose cosine it is (0 when facing the camera with shoulders
    1.3 x the hips, 60 deg when they look half as wide)."""
    body = _bodies(2)
    channels = tuple(c for c in POSE_CHANNELS if not c.endswith("_z"))
    rows = _pose_rows(body).reshape(N, -1, 4)[:, :, [0, 1, 3]].reshape(N, -1)
    ex = build_extractor((channels, "pose", ASPECT), SignalSpec(signal="trunk_rotation"))
    sh = np.abs(body["right_shoulder"][:, 0] - body["left_shoulder"][:, 0])
    hp = np.abs(body["right_hip"][:, 0] - body["left_hip"][:, 0])
    expected = np.degrees(np.arccos(np.clip(sh / (1.3 * hp), -1, 1)))
    assert ex.rows(rows)[:, 0] == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize(
    ("forearm", "rotation"),
    [((0, 0, -1), 0.0), ("out", 90.0), ("in", -90.0), ((0, -1, 0), 0.0)],
)
def test_shoulder_external_rotation_of_a_hanging_arm(
    side: str, forearm: object, rotation: float
) -> None:
    """Upper arm hanging along the trunk, elbow bent 90 deg: the forearm pointing forward
    (towards the camera) is 0, turned outwards (away from the body's midline) +90 deg
    (external rotation), inwards -90 deg; a straight elbow reads 0 (the rotation is
    undefined along the humerus)."""
    body = _bodies()
    sign = 1.0 if side == "left" else -1.0
    direction = {"out": (sign, 0, 0), "in": (-sign, 0, 0)}.get(forearm, forearm)  # type: ignore[arg-type]
    for name, p in (
        ("left_shoulder", (0.2, 0.5, 0.0)),
        ("right_shoulder", (-0.2, 0.5, 0.0)),
        ("left_hip", (0.15, 0.0, 0.0)),
        ("right_hip", (-0.15, 0.0, 0.0)),
    ):
        body[name] = np.tile(p, (N, 1)).astype(float)
    body[f"{side}_elbow"] = body[f"{side}_shoulder"] + (0, -0.3, 0)
    body[f"{side}_wrist"] = body[f"{side}_elbow"] + 0.25 * np.array(direction, dtype=float)
    got = _signal("skeleton", "shoulder_external_rotation", side, body)
    assert got == pytest.approx(np.full(N, rotation), abs=1e-6)


def test_shoulder_external_rotation_from_the_image_is_the_forearm_against_the_trunk() -> None:
    """Without depth (image landmarks) the rotation falls back to the forearm (elbow ->
    wrist) angle against the trunk axis in the image."""
    body = _bodies(3)
    down = (body["left_hip"] + body["right_hip"]) / 2 - (
        body["left_shoulder"] + body["right_shoulder"]
    ) / 2
    fore = body["left_wrist"] - body["left_elbow"]
    expected = _angle(fore[:, :2], down[:, :2])
    got = _signal("pose", "shoulder_external_rotation", "left", body)
    assert got == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("signal", "side"), [("elbow_flexion", "left"), ("trunk_rotation", None)])
def test_a_landmark_under_the_visibility_threshold_is_missing(
    signal: str, side: str | None
) -> None:
    """A landmark MediaPipe sees with visibility under MIN_VISIBILITY (0.3) is not used: the
    signal is NaN (the engine skips the row); at exactly the threshold it is used. Image
    positions and depths (trunk rotation) alike."""
    body = _bodies()
    ex = build_extractor((POSE_CHANNELS, "pose", ASPECT), SignalSpec(signal=signal, side=side))
    assert np.isnan(ex.rows(_pose_rows(body, math.nextafter(MIN_VISIBILITY, 0)))).all()
    assert np.isfinite(ex.rows(_pose_rows(body, MIN_VISIBILITY))).all()
    assert ex.rows(_pose_rows(body, MIN_VISIBILITY))[:, 0] == pytest.approx(
        _signal("pose", signal, side, body)
    )
    if signal == "elbow_flexion":
        expected = _expected(signal, "left", body, "pose")
        assert ex.rows(_pose_rows(body, MIN_VISIBILITY))[:, 0] == pytest.approx(expected)


def _hand_row(
    points: dict[str, tuple[float, float, float]], elbow: tuple[float, float]
) -> np.ndarray:
    """A landmark row (pose and hands, square image) with the right hand's landmarks given
    in MediaPipe's coordinates (x right, y down, z on the scale of x) and the pose's right
    elbow at ``elbow``; the other landmarks at 0."""
    row = np.zeros(len(LANDMARK_CHANNELS))
    row[[POSE_CHANNELS.index(f"{n}_v") for n in MEDIAPIPE_LANDMARKS]] = 0.99
    row[POSE_CHANNELS.index("right_elbow_x")] = elbow[0]
    row[POSE_CHANNELS.index("right_elbow_y")] = elbow[1]
    for name, xyz in points.items():
        for axis, value in zip("xyz", xyz, strict=True):
            row[LANDMARK_CHANNELS.index(hand_channel("right", name, axis))] = value
    return row[None, :]


def _hand_signal(signal: str, row: np.ndarray) -> float:
    ex = build_extractor((LANDMARK_CHANNELS, "pose", 1.0), SignalSpec(signal=signal, side="right"))
    return float(ex.rows(row)[0, 0])


@pytest.mark.parametrize(("tilt", "measured"), [(math.sqrt(24.0), True), (5.0, False)])
def test_wrist_deviation_needs_the_palm_facing_the_camera_at_least_cos_0_2(
    tilt: float, measured: bool
) -> None:
    """Wrist deviation is measured while the palm's normal makes |cos| >= MIN_PALM_FACING
    (0.2) with the viewing axis; nearer edge-on the deviation turns in depth and is NaN.
    Palm spanned by wrist -> index MCP (0, 1, 0) and wrist -> little-finger MCP
    (-1, 0, tilt) (y up): normal (tilt, 0, 1) / sqrt(tilt^2 + 1), cos exactly 1/5 for
    tilt = sqrt(24), 1/sqrt(26) for tilt = 5."""
    assert MIN_PALM_FACING == 0.2
    row = _hand_row(
        {
            "wrist": (0.0, 0.0, 0.0),
            "index_mcp": (0.0, -1.0, 0.0),
            "pinky_mcp": (-1.0, 0.0, tilt),
            "middle_mcp": (-0.5, -1.0, tilt / 2),
        },
        elbow=(0.0, 2.0),
    )
    assert math.isfinite(_hand_signal("wrist_deviation", row)) is measured


def test_a_collapsed_hand_gives_nan_silently() -> None:
    """A hand whose landmarks collapse (palm size 0, no palm plane), or a palm seen exactly
    edge-on, gives NaN, not an infinite distance, and without a numpy warning per frame (30 a
    second in a live session)."""
    collapsed = {
        name: (0.3, 0.4, 0.0) for name in ("wrist", "middle_mcp", "index_mcp", "pinky_mcp")
    }
    apart = {**collapsed, "thumb_tip": (0.1, 0.1, 0.0), "index_tip": (0.2, 0.3, 0.0)}
    together = {**collapsed, "thumb_tip": (0.3, 0.4, 0.0), "index_tip": (0.3, 0.4, 0.0)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(_hand_signal("pinch_aperture", _hand_row(apart, (0.3, 0.9))))
        assert math.isnan(_hand_signal("pinch_aperture", _hand_row(together, (0.3, 0.9))))
        assert math.isnan(_hand_signal("wrist_deviation", _hand_row(collapsed, (0.3, 0.9))))
        edge_on = {  # palm normal (1, 0, 0): across the viewing axis
            "wrist": (0.0, 0.0, 0.0),
            "index_mcp": (0.0, -1.0, 0.0),
            "pinky_mcp": (0.0, 0.0, 1.0),
            "middle_mcp": (0.0, -1.0, 0.5),
        }
        assert math.isnan(_hand_signal("wrist_deviation", _hand_row(edge_on, (0.5, 2.0))))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize(("plane", "raise_deg"), [("abduction", 35.0), ("flexion", 60.0)])
@pytest.mark.parametrize(
    ("rotation", "elbow_deg", "fade"),
    [
        (-60.0, 90.0, 1.0),
        (45.0, 90.0, 1.0),
        (80.0, 50.0, 1.0),
        (45.0, 27.5, None),
        (45.0, 15.0, 0.0),
    ],
)
def test_shoulder_external_rotation_about_a_raised_humerus(
    side: str, plane: str, raise_deg: float, rotation: float, elbow_deg: float, fade: float | None
) -> None:
    """The rotation is the forearm's angle about the humerus, measured in the plane
    perpendicular to it from the body's forward direction towards this side (external +),
    for an upper arm raised sideways or forwards too. It fades to 0 between 35 and 20 deg
    of elbow flexion (sin-linear), where the forearm's direction about the humerus is
    noise. Built in Kinect camera space: x to the person's right, y up, z away from the
    sensor the person faces (forward = -z)."""
    up, forward = np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, -1.0])
    lateral = np.array([1.0, 0.0, 0.0]) if side == "right" else np.array([-1.0, 0.0, 0.0])
    a = math.radians(raise_deg)
    humerus = math.cos(a) * -up + math.sin(a) * (lateral if plane == "abduction" else forward)
    e_fwd = _unit(forward - (forward @ humerus) * humerus)
    e_lat = _unit(lateral - (lateral @ humerus) * humerus)
    theta, phi = math.radians(rotation), math.radians(elbow_deg)
    forearm = math.cos(phi) * humerus + math.sin(phi) * (
        math.cos(theta) * e_fwd + math.sin(theta) * e_lat
    )
    kinect = {
        "left_shoulder": np.array([-0.2, 0.5, 0.0]),
        "right_shoulder": np.array([0.2, 0.5, 0.0]),
        "left_hip": np.array([-0.15, 0.0, 0.0]),
        "right_hip": np.array([0.15, 0.0, 0.0]),
    }
    kinect[f"{side}_elbow"] = kinect[f"{side}_shoulder"] + 0.3 * humerus
    kinect[f"{side}_wrist"] = kinect[f"{side}_elbow"] + 0.25 * forearm
    body = _bodies()
    body.update({k: np.tile(v * [-1.0, 1.0, 1.0], (N, 1)) for k, v in kinect.items()})
    if fade is None:
        lo, hi = math.sin(math.radians(20)), math.sin(math.radians(35))
        fade = (math.sin(phi) - lo) / (hi - lo)
    got = _signal("skeleton", "shoulder_external_rotation", side, body)
    assert got == pytest.approx(np.full(N, rotation * fade), abs=1e-6)


def test_a_straight_or_folded_limb_has_a_defined_angle_or_none() -> None:
    """Collinear landmarks read exact angles: a straight arm 0 deg of flexion, a knee folded
    completely (the ankle back along the thigh) 0 deg (rounding must not push the cosine
    past +-1 into NaN); a wrist on the elbow has no forearm: NaN, silently."""
    body = _bodies(4)
    shoulder, elbow = body["left_shoulder"], body["left_elbow"]
    for reach in (0.3, 0.7, 1.3, 2.9):
        body["left_wrist"] = elbow + reach * (elbow - shoulder)
        flexion = _signal("pose", "elbow_flexion", "left", body)
        assert flexion == pytest.approx(np.zeros(N), abs=1e-5)
    hip, knee = body["right_hip"], body["right_knee"]
    for kind in ("pose", "skeleton"):
        for fold in (0.3, 0.7, 1.3):  # the ankle folded back along the thigh
            body["right_ankle"] = knee + fold * (hip - knee)
            angle = _signal(kind, "knee_extension", "right", body)
            assert angle == pytest.approx(np.zeros(N), abs=1e-5)
    body["left_wrist"] = elbow
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(_signal("pose", "elbow_flexion", "left", body)).all()
