"""Signal selection: turn recording rows into the 1-D signal that is counted.

An :class:`Extractor` is built once per recording layout (channel names, kind) and a
:class:`~openrehab.motion.signals.SignalSpec`. ``extractor.rows(data)`` maps an ``(n, c)``
array of raw rows to an ``(n, m)`` array of signal channels: ``m == 1`` for a named signal
(e.g. a joint angle in degrees), ``m > 1`` when an automatic choice follows (the channels
then go through :class:`OnlinePCA`). The streaming engine calls the very same function with
one row at a time, so streaming and file analysis see identical values.

Rows whose needed landmarks are missing (NaN, or MediaPipe visibility < ``MIN_VISIBILITY``;
a hand MediaPipe Hand did not find) give NaN and are skipped by the engine.

Hand signals (``sensor == "hand"``) read the ``<side>_hand_<landmark>_{x,y,z}`` channels of a
landmark recording (``recordings.LANDMARK_CHANNELS``) in 3-D: MediaPipe's normalised x and y
are fractions of the image width and height, and z is at the scale of x, so x and z are
multiplied by the image aspect (width / height) like pose landmarks, and y is flipped (up).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .recordings import (
    HAND_SIDES,
    MEDIAPIPE_LANDMARKS,
    Recording,
    RecordingError,
    hand_channel,
)
from .signals import AUTO, SignalDef, SignalSpec

MIN_VISIBILITY = 0.3

#: Generic joint name -> MediaPipe landmark name(s) (averaged when several).
_MP_JOINTS: dict[str, tuple[str, ...]] = {
    **{
        f"{s}_{j}": (f"{s}_{j}",)
        for s in ("left", "right")
        for j in ("shoulder", "elbow", "wrist", "index", "hip", "knee", "ankle", "heel")
    },
    "left_toes": ("left_foot_index",),
    "right_toes": ("right_foot_index",),
    "mouth": ("mouth_left", "mouth_right"),
    "nose": ("nose",),
    "head": ("nose",),
}

#: Generic joint name -> Kinect-style skeleton joint (shared-dataset naming).
_SKEL_JOINTS: dict[str, tuple[str, ...]] = {
    "mouth": ("head",),
    "nose": ("head",),
    "left_index": ("left_hand", "left_wrist"),
    "right_index": ("right_hand", "right_wrist"),
    "left_heel": ("left_ankle",),
    "right_heel": ("right_ankle",),
}

# Floors for the minimum repetition amplitude, by signal unit (see docs/motion.md).
UNIT_FLOOR: dict[str, float] = {"deg": 8.0, "m": 0.04, "norm": 0.08, "m/s^2": 1.0}
#: Floors of MediaPipe Hand signals: finger joint angles (deg) and hand distances (palm
#: sizes). Fingers are small in the image: the middle phalanx of a hand whose palm spans a
#: quarter of the image height is about 0.08 of it, so landmark jitter of 0.0015-0.002 of
#: the image (about 1 px at 640 x 480, twice that in depth) moves the mean PIP angle of four
#: fingers by 3.5-5 deg (sd per frame) and a fingertip distance by 0.02-0.03 palm sizes. With
#: the unit floors (8 deg, 0.08) a still hand counted 6-15 false reps in 36 s; with these,
#: none (tests/motion/test_hand.py). Level-1 hand reps ask for 28-48 deg or 0.2-0.4 palm
#: sizes; within a set the floor still relaxes to 0.5 A_ref.
HAND_FLOOR: dict[str, float] = {"deg": 15.0, "norm": 0.15}


@dataclass
class Extractor:
    """Maps raw rows ``(n, c)`` to signal channels ``(n, m)``.

    Attributes: ``label`` (what is counted, e.g. ``"elbow_flexion:left"``), ``unit``
    (``"deg"``, ``"m"``, ``"norm"`` or ``"m/s^2"``), ``n_out`` (m), ``kind`` (recording kind),
    ``accel_idx`` (indices of ax, ay, az in the raw row for LDLJ-A, IMU only),
    ``gyro_idx`` (gx, gy, gz, if present), ``noise_weighted`` (many landmark coordinates
    whose tracking noise differs: the online PCA weighs channels by smoothness),
    ``average_sides`` (two channels, the left and right side of one signal in one unit: the
    online PCA takes their weighted mean and a missing side follows the visible one).
    """

    label: str
    unit: str
    n_out: int
    kind: str
    fn: Callable[[np.ndarray], np.ndarray]
    accel_idx: tuple[int, ...] = ()
    gyro_idx: tuple[int, ...] = ()
    min_amplitude: float = 0.0
    repetitive_only: bool = False
    noise_weighted: bool = False
    average_sides: bool = False

    def rows(self, data: np.ndarray) -> np.ndarray:
        """Signal channels for each row of ``data`` (2-D in, 2-D out)."""
        return self.fn(data)


def _angle_between(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Angle in degrees between vectors ``u`` and ``v`` along the last axis (``(n, d)`` or
    ``(n, k, d)`` -> ``(n,)`` or ``(n, k)``)."""
    dot = np.sum(u * v, axis=-1)
    nu = np.sqrt(np.sum(u * u, axis=-1))
    nv = np.sqrt(np.sum(v * v, axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        c = dot / (nu * nv)
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))


class _Layout:
    """Where each generic joint's coordinates live in a raw row."""

    def __init__(self, rec_channels: tuple[str, ...], kind: str, aspect: float):
        self.kind = kind
        self.aspect = aspect
        self.index = {c: i for i, c in enumerate(rec_channels)}
        self.dims = ("x", "y") if kind == "pose" else ("x", "y", "z")

    def has_joint(self, joint: str) -> bool:
        """Whether the recording has this generic joint or hand landmark (``side_hand:name``)."""
        hand = _hand_joint(joint)
        if hand is not None:
            return self.kind == "pose" and hand_channel(*hand, "x") in self.index
        return self._sources(joint) is not None

    def hand_points(self, joints: tuple[str, ...]) -> Callable[[np.ndarray], np.ndarray]:
        """Gather for hand landmarks (``"left_hand:index_pip"``, ...): rows ``(n, c)`` ->
        positions ``(n, k, 3)`` in image heights, x right, y up, z away from the camera (x
        and z times the aspect); NaN where the hand was not found. One fancy index per call
        (it runs per frame in live sessions)."""
        cols = []
        for joint in joints:
            hand = _hand_joint(joint)
            if hand is None:
                raise KeyError(joint)
            cols.append([self.index[hand_channel(*hand, a)] for a in "xyz"])
        gather = np.array(cols)
        scale = np.array([self.aspect, -1.0, self.aspect])
        return lambda data: np.asarray(data, dtype=float)[:, gather] * scale

    def _sources(self, joint: str) -> tuple[str, ...] | None:
        table = _MP_JOINTS if self.kind == "pose" else _SKEL_JOINTS
        cands = table.get(joint, (joint,))
        if self.kind == "pose":
            ok = tuple(c for c in cands if f"{c}_x" in self.index)
            return ok if len(ok) == len(cands) else None
        for c in cands:
            if f"{c}_x" in self.index:
                return (c,)
        return None

    def xyz(self, data: np.ndarray, joint: str) -> np.ndarray:
        """Joint positions ``(n, d)`` (y up; pose x scaled by aspect); NaN if not visible."""
        src = self._sources(joint)
        if src is None:
            raise KeyError(joint)
        acc = None
        for s in src:
            cols = [self.index[f"{s}_{a}"] for a in self.dims]
            p = data[:, cols].astype(float, copy=True)
            if self.kind == "pose":
                p[:, 0] *= self.aspect
                p[:, 1] = -p[:, 1]  # image y points down
                vis = data[:, self.index[f"{s}_v"]]
                p[vis < MIN_VISIBILITY] = np.nan
            acc = p if acc is None else acc + p
        assert acc is not None
        return acc / len(src)

    def x_depth(self, data: np.ndarray, joint: str) -> np.ndarray | None:
        """Pose only: ``(n, 2)`` horizontal image coordinate (x aspect-scaled) and MediaPipe's
        depth ``z`` (same scale as x, smaller = nearer the camera), NaN if not visible;
        ``None`` when the recording has no depth column."""
        src = self._sources(joint)
        if self.kind != "pose" or src is None or any(f"{s}_z" not in self.index for s in src):
            return None
        acc = None
        for s in src:
            p = data[:, [self.index[f"{s}_x"], self.index[f"{s}_z"]]].astype(float, copy=True)
            p *= self.aspect  # z is on the scale of x
            p[data[:, self.index[f"{s}_v"]] < MIN_VISIBILITY] = np.nan
            acc = p if acc is None else acc + p
        assert acc is not None
        return acc / len(src)


def _hand_joint(joint: str) -> tuple[str, str] | None:
    """``"left_hand:index_pip"`` -> ``("left", "index_pip")``; ``None`` for body joints."""
    where, sep, landmark = joint.partition(":")
    if not sep or not where.endswith("_hand"):
        return None
    return where[: -len("_hand")], landmark


def _trunk_down(lay: _Layout, data: np.ndarray) -> np.ndarray:
    """Unit-free trunk axis pointing down (shoulder midpoint -> hip midpoint)."""
    sh = (lay.xyz(data, "left_shoulder") + lay.xyz(data, "right_shoulder")) / 2
    hip = (lay.xyz(data, "left_hip") + lay.xyz(data, "right_hip")) / 2
    return hip - sh


def _scale(lay: _Layout, data: np.ndarray) -> np.ndarray:
    """Body scale for normalised image distances: shoulder width, else torso length."""
    d = np.linalg.norm(_trunk_down(lay, data), axis=1)
    return d


_TRUNK_POINTS = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")


#: Palm size, the unit of hand distances: wrist to middle-finger MCP.
PALM: tuple[str, str] = ("wrist", "middle_mcp")
#: Wrist deviation needs the palm to face the camera at least this much (|cosine| of the
#: angle between the palm's normal and the viewing axis); nearer edge-on the deviation turns
#: in depth and is not measured (NaN).
MIN_PALM_FACING = 0.2


def _norm(v: np.ndarray) -> np.ndarray:
    """Euclidean length along the last axis."""
    return np.sqrt(np.sum(v * v, axis=-1))


def _min_amplitude(sdef: SignalDef, unit: str) -> float:
    """Smallest rep amplitude of a named signal, in its unit: ``UNIT_FLOOR``, or for finger
    angles and hand distances :data:`HAND_FLOOR` (wrist deviation moves long segments: the
    unit floor)."""
    fingers = sdef.method == "hand_distance" or sdef.extra.get("angle") in ("flexion", "extension")
    return HAND_FLOOR[unit] if sdef.sensor == "hand" and fingers else UNIT_FLOOR[unit]


def _hand_named(lay: _Layout, sdef: SignalDef, side: str) -> Callable[[np.ndarray], np.ndarray]:
    """One-side function rows -> (n,) for a MediaPipe Hand signal (``hand_angle``: degrees;
    ``hand_distance``: palm sizes)."""
    joints = sdef.joints_for(side)
    if sdef.method == "hand_distance":
        return _hand_distance(lay, joints[0], joints[1], side)
    angle = sdef.extra.get("angle")
    if angle == "deviation":
        return _wrist_deviation(lay, joints[0], joints[1:])
    if angle in ("flexion", "extension"):
        return _joint_angles(lay, joints, flexion=angle == "flexion")
    raise ValueError(f"signal {sdef.name!r}: no hand computation for {sdef.method}/{angle}")


def _hand_distance(lay: _Layout, a: str, b: str, side: str) -> Callable[[np.ndarray], np.ndarray]:
    """Distance between hand landmarks ``a`` and ``b`` / palm size (3-D, unit ``norm``)."""
    pts = lay.hand_points((a, b, *(f"{side}_hand:{n}" for n in PALM)))

    def f(data: np.ndarray) -> np.ndarray:
        p = pts(data)
        d, palm = _norm(p[:, 0] - p[:, 1]), _norm(p[:, 2] - p[:, 3])
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(palm > 0, d / palm, np.nan)

    return f


def _joint_angles(
    lay: _Layout, joints: tuple[str, ...], *, flexion: bool
) -> Callable[[np.ndarray], np.ndarray]:
    """Mean angle (degrees, 3-D) at the middle point of each triple of ``joints``; as
    flexion (180 - angle: 0 = straight) or as the angle itself (180 = straight)."""
    pts = lay.hand_points(joints)
    k = len(joints) // 3

    def f(data: np.ndarray) -> np.ndarray:
        p = pts(data).reshape(-1, k, 3, 3)  # (n, triple, point, xyz)
        mid = p[:, :, 1]
        ang = _angle_between(p[:, :, 0] - mid, p[:, :, 2] - mid).mean(axis=1)
        return 180.0 - ang if flexion else ang

    return f


def _wrist_deviation(
    lay: _Layout, elbow: str, hand: tuple[str, ...]
) -> Callable[[np.ndarray], np.ndarray]:
    """Radial (+) / ulnar (-) deviation in degrees: the signed angle, in the palm's plane,
    from the forearm to the hand axis (wrist -> middle MCP). ``hand`` = wrist, middle MCP,
    index MCP, little-finger MCP.

    The forearm comes from the body pose (elbow -> the hand's wrist) in the image plane:
    pose and hand depths have different origins, so its depth is taken such that it lies
    in the palm's plane (the hand flat on the table, in line with the forearm; image
    coordinates are the x, y of 3-D vectors under MediaPipe's weak perspective). An oblique
    view then still gives the true angle; a palm seen nearly edge-on gives NaN."""
    pts = lay.hand_points(hand)

    def f(data: np.ndarray) -> np.ndarray:
        p = pts(data)
        wrist, mid, index, pinky = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
        radial = index - pinky  # in the palm's plane, towards the thumb
        normal = np.cross(index - wrist, pinky - wrist)
        with np.errstate(invalid="ignore", divide="ignore"):
            normal = normal / _norm(normal)[:, None]
            fore = np.empty_like(wrist)
            fore[:, :2] = wrist[:, :2] - lay.xyz(data, elbow)
            fore[:, 2] = -(normal[:, 0] * fore[:, 0] + normal[:, 1] * fore[:, 1]) / normal[:, 2]
            fore = fore / _norm(fore)[:, None]
            radial = radial - np.sum(radial * fore, axis=1, keepdims=True) * fore
            axis = mid - wrist
            axis = axis - np.sum(axis * normal, axis=1, keepdims=True) * normal
            ang = np.degrees(
                np.arctan2(
                    np.sum(axis * radial, axis=1) / _norm(radial), np.sum(axis * fore, axis=1)
                )
            )
            return np.where(np.abs(normal[:, 2]) >= MIN_PALM_FACING, ang, np.nan)

    return f


def _named(lay: _Layout, sdef: SignalDef, side: str) -> Callable[[np.ndarray], np.ndarray]:
    """One-side function rows -> (n,) for a named pose or hand signal."""
    if sdef.sensor == "hand":
        return _hand_named(lay, sdef, side)
    j = sdef.joints_for(side)
    m = sdef.method
    other = "left" if side == "right" else "right"

    def f(data: np.ndarray) -> np.ndarray:
        if m in ("angle3", "flexion3"):
            a, b, c = (lay.xyz(data, x) for x in j)
            ang = _angle_between(a - b, c - b)
            return 180.0 - ang if m == "flexion3" else ang
        if m.startswith("segment_vs_vertical"):
            a, b = lay.xyz(data, j[0]), lay.xyz(data, j[1])
            seg = b - a
            down = _trunk_down(lay, data)
            if m.endswith("frontal") or (m.endswith("sagittal") and seg.shape[1] == 2):
                seg, down = seg[:, :2], down[:, :2]
            elif m.endswith("sagittal"):
                seg, down = seg[:, 1:], down[:, 1:]
            return _angle_between(seg, down)
        if m == "rotation_about_segment":
            sh, el, wr = (lay.xyz(data, x) for x in j)
            if sh.shape[1] == 2:  # no depth: forearm vs trunk axis in the frontal plane
                return _angle_between(wr - el, _trunk_down(lay, data))
            hum = el - sh
            hum = hum / np.linalg.norm(hum, axis=1, keepdims=True)
            fore = wr - el
            # Body frame: lateral = towards this side's shoulder, up = trunk axis,
            # forward = up x lateral (for the right side; mirrored for the left).
            lat = lay.xyz(data, f"{side}_shoulder") - lay.xyz(data, f"{other}_shoulder")
            up = -_trunk_down(lay, data)
            fwd = np.cross(up, lat) if side == "right" else np.cross(lat, up)

            def perp(v: np.ndarray) -> np.ndarray:
                return v - np.sum(v * hum, axis=1, keepdims=True) * hum

            f_p, fw_p, lat_p = perp(fore), perp(fwd), perp(lat)
            ang = np.degrees(
                np.arctan2(
                    np.sum(f_p * lat_p, axis=1) / np.maximum(np.linalg.norm(lat_p, axis=1), 1e-12),
                    np.sum(f_p * fw_p, axis=1) / np.maximum(np.linalg.norm(fw_p, axis=1), 1e-12),
                )
            )
            # The rotation is undefined with a straight elbow (forearm along the humerus):
            # fade it to 0 between 35 and 20 deg of elbow flexion, so a passive straight arm
            # gives a still signal rather than direction noise.
            sin_flex = np.linalg.norm(f_p, axis=1) / np.maximum(np.linalg.norm(fore, axis=1), 1e-12)
            w = np.clip(
                (sin_flex - math.sin(math.radians(20)))
                / (math.sin(math.radians(35)) - math.sin(math.radians(20))),
                0.0,
                1.0,
            )
            return ang * w
        if m in ("trunk_lean_sagittal", "trunk_lean_frontal"):
            up = -_trunk_down(lay, data)
            vert = np.zeros_like(up)
            vert[:, 1] = 1.0
            if m == "trunk_lean_frontal" or up.shape[1] == 2:
                return _angle_between(up[:, :2], vert[:, :2])
            return _angle_between(up[:, 1:], vert[:, 1:])
        if m == "trunk_rotation":
            xz = [lay.x_depth(data, k) for k in _TRUNK_POINTS]
            if all(p is not None for p in xz):
                # Signed: the shoulder line's angle in the horizontal (x, depth) plane minus
                # the hip line's. MediaPipe's depth is noisy but signed, so twists to either
                # side are told apart (a width ratio cannot), and turning the whole body
                # (hips with shoulders) is not trunk rotation.
                ls, rs, lh, rh = xz  # type: ignore[misc]
                sh, hp = rs - ls, rh - lh
                d = np.arctan2(sh[:, 1], sh[:, 0]) - np.arctan2(hp[:, 1], hp[:, 0])
                return np.degrees((d + np.pi) % (2 * np.pi) - np.pi)
            sh = lay.xyz(data, "right_shoulder") - lay.xyz(data, "left_shoulder")
            hp = lay.xyz(data, "right_hip") - lay.xyz(data, "left_hip")
            if sh.shape[1] == 2:  # image only: shoulder width relative to hip width
                return np.degrees(
                    np.arccos(
                        np.clip(np.abs(sh[:, 0]) / np.maximum(np.abs(hp[:, 0]) * 1.3, 1e-9), -1, 1)
                    )
                )
            return _angle_between(sh[:, [0, 2]], hp[:, [0, 2]])
        if m in ("distance", "distance_from_trunk"):
            d = np.linalg.norm(lay.xyz(data, j[0]) - lay.xyz(data, j[1]), axis=1)
            return d / _scale(lay, data) if lay.kind == "pose" else d
        if m == "shoulder_retraction":
            sh = np.linalg.norm(
                lay.xyz(data, "left_shoulder") - lay.xyz(data, "right_shoulder"), axis=1
            )
            hp = np.linalg.norm(lay.xyz(data, "left_hip") - lay.xyz(data, "right_hip"), axis=1)
            return sh / hp
        if m == "vertical_position":
            if sdef.name == "sit_to_stand":
                hip = (lay.xyz(data, "left_hip") + lay.xyz(data, "right_hip")) / 2
                ank = (lay.xyz(data, "left_ankle") + lay.xyz(data, "right_ankle")) / 2
                return (hip[:, 1] - ank[:, 1]) / np.linalg.norm(_trunk_down(lay, data), axis=1)
            heel = lay.xyz(data, j[0])
            toe = lay.xyz(data, j[1])
            shank = np.linalg.norm(lay.xyz(data, j[3]) - lay.xyz(data, j[2]), axis=1)
            return (heel[:, 1] - toe[:, 1]) / shank
        if m == "lateral_shift":
            hip = (lay.xyz(data, "left_hip") + lay.xyz(data, "right_hip")) / 2
            ank = (lay.xyz(data, "left_ankle") + lay.xyz(data, "right_ankle")) / 2
            w = np.linalg.norm(lay.xyz(data, "left_hip") - lay.xyz(data, "right_hip"), axis=1)
            return (hip[:, 0] - ank[:, 0]) / w
        raise ValueError(
            f"signal {sdef.name!r}: method {m!r} cannot be computed from body landmarks"
        )

    return f


#: Landmarks of the period-based counter in automatic mode (:func:`periodic_body_features`):
#: the limbs' ends and middles and the head, enough for any whole-body or limb exercise;
#: fewer channels than ``_body_channels`` keep its per-window statistics cheap.
PERIODIC_JOINTS = (
    "nose",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
_SKELETON_HEAD = {"nose": "head"}


def periodic_body_features(
    rec_channels: tuple[str, ...], kind: str, aspect: float
) -> tuple[Callable[[np.ndarray], np.ndarray], int] | None:
    """Features of the period-based counter in automatic mode on body landmarks: the
    :data:`PERIODIC_JOINTS` relative to the hip midpoint (image coordinates divided by the
    torso length, as ``auto:body``); ``None`` when the recording lacks one of them."""
    if kind not in ("pose", "skeleton"):
        return None
    lay = _Layout(rec_channels, kind, aspect)
    joints = [j if kind == "pose" else _SKELETON_HEAD.get(j, j) for j in PERIODIC_JOINTS]
    center = ("left_hip", "right_hip") if kind == "pose" else ("waist",)
    if any(f"{j}_x" not in lay.index for j in (*joints, *center)):
        return None
    f, n, _unit = _body_channels(lay, rec_channels, joints, center)
    return f, n


def _all_body_joints(lay: _Layout, rec_channels: tuple[str, ...]) -> tuple[list[str], tuple]:
    """Every body joint (MediaPipe: without the face details) and the centre joints."""
    if lay.kind == "pose":
        joints = [
            n
            for n in MEDIAPIPE_LANDMARKS
            if n not in ("left_hip", "right_hip")
            and not n.startswith(("left_eye", "right_eye", "mouth", "left_ear", "right_ear"))
        ]
        return joints, ("left_hip", "right_hip")
    names = sorted({c[:-2] for c in rec_channels if c.endswith("_x")})
    center = ("waist",) if "waist_x" in lay.index else tuple(names[:1])
    return [j for j in names if j not in center], center


def _body_channels(
    lay: _Layout,
    rec_channels: tuple[str, ...],
    joints: list[str] | None = None,
    center: tuple[str, ...] | None = None,
) -> tuple[Callable, int, str]:
    """All joint coordinates (or ``joints``) relative to the hip midpoint (removes whole-body
    translation and camera drift); image coordinates are divided by the torso length."""
    if joints is None or center is None:
        joints, center = _all_body_joints(lay, rec_channels)
    n_out = len(joints) * len(lay.dims)

    # One fancy index for all joints (a pose frame is read in a single gather: this runs
    # per frame in automatic mode). Same values as ``_raw_xyz`` joint by joint.
    nd = len(lay.dims)
    jcols = np.array([[lay.index[f"{j}_{a}"] for a in lay.dims] for j in joints])
    ccols = np.array([[lay.index[f"{j}_{a}"] for a in lay.dims] for j in center])
    scols = (
        np.array(
            [[lay.index[f"{j}_{a}"] for a in lay.dims] for j in ("left_shoulder", "right_shoulder")]
        )
        if lay.kind == "pose"
        else None
    )
    sc = np.ones(nd)
    if lay.kind == "pose":
        sc[0] = lay.aspect
        sc[1] = -1.0

    cw = sc / len(ccols)  # mean of the centre joints (sum, then one multiply: per frame)

    def f(data: np.ndarray) -> np.ndarray:
        d = np.asarray(data, dtype=float)
        c = d[:, ccols].sum(axis=1) * cw  # (n, nd)
        out = d[:, jcols] * sc - c[:, None, :]  # (n, joints, nd)
        if scols is not None:
            sh = d[:, scols].sum(axis=1) * (0.5 * sc)
            torso = np.sqrt(((sh - c) ** 2).sum(axis=1))
            out = out / torso[:, None, None]
        return out.reshape(d.shape[0], len(joints) * nd)

    return f, n_out, ("norm" if lay.kind == "pose" else "m")


def _raw_xyz(lay: _Layout, data: np.ndarray, joint: str) -> np.ndarray:
    """Landmark coordinates without the visibility mask (auto mode tolerates occlusion)."""
    cols = [lay.index[f"{joint}_{a}"] for a in lay.dims]
    p = data[:, cols].astype(float, copy=True)
    if lay.kind == "pose":
        p[:, 0] *= lay.aspect
        p[:, 1] = -p[:, 1]
    return p


def build_extractor(rec: Recording | tuple, spec: SignalSpec) -> Extractor:
    """Build the extractor for a recording (or ``(channels, kind, aspect[, path])``).

    Raises :class:`~openrehab.motion.recordings.RecordingError` when the recording lacks
    the sensor the signal needs (e.g. finger signals without MediaPipe Hand landmarks).
    """
    if isinstance(rec, Recording):
        channels, kind, aspect, path = rec.channels, rec.kind, rec.aspect, rec.path
    else:
        channels, kind, aspect = rec[:3]
        path = rec[3] if len(rec) > 3 else None
    idx = {c: i for i, c in enumerate(channels)}
    sdef = spec.definition
    if spec.signal == "imu_auto" and kind != "imu":
        raise RecordingError(path, "signal 'imu_auto' needs an IMU recording (ax, ay, az)")
    if sdef is not None and sdef.sensor not in ("any",) and spec.signal != "wrist_path":
        need = sdef.sensor
        have = {
            "pose": ("pose", "skeleton"),
            "imu": ("imu",),
            "angle": ("angle",),
            "hand": ("pose",),
        }[need]
        # An IMU worn on the moving segment turns with it: a body-pose signal (a joint angle,
        # a reach) is then counted from the IMU's own movement (automatic IMU mode, ROM as
        # the sensor's rotation in degrees). Hand signals are not: fingers hardly move a
        # wrist-worn sensor.
        imu_for_body = kind == "imu" and need == "pose"
        if kind not in have and not (kind == "angle" and need == "pose") and not imu_for_body:
            what = {
                "hand": "MediaPipe Hand landmarks (21 points per hand)",
                "imu": "an IMU (ax, ay, az, gx, gy, gz)",
                "pose": "body pose landmarks or a skeleton",
                "angle": "an 'angle' column",
            }
            raise RecordingError(
                path,
                f"signal {spec.signal!r} needs {what[need]}; "
                f"this is {'an' if kind[0] in 'aeiou' else 'a'} {kind} recording",
            )
        if need == "hand" and not any(hand_channel(s, "wrist", "x") in idx for s in HAND_SIDES):
            raise RecordingError(
                path,
                f"signal {spec.signal!r} needs MediaPipe Hand landmarks (21 points per hand); "
                "this landmark recording has none (a 'hands' key per frame, see "
                "docs/recordings.md)",
            )
    # A goniometer column is the signal, whatever joint it measures.
    if kind == "angle" and (spec.signal == AUTO or (sdef and sdef.unit == "deg")):
        j = idx["angle"]
        return Extractor(
            spec.label() if spec.signal != AUTO else "angle",
            "deg",
            1,
            kind,
            lambda d: d[:, j : j + 1].astype(float),
            min_amplitude=UNIT_FLOOR["deg"],
        )
    if kind == "imu":
        acc = tuple(idx[c] for c in ("ax", "ay", "az"))
        gyr = tuple(idx[c] for c in ("gx", "gy", "gz") if c in idx)
        if spec.signal in ("forearm_rotation", "toe_curl"):
            if not gyr:
                raise RecordingError(path, f"signal {spec.signal!r} needs a gyroscope (gx, gy, gz)")
            # Angle about the dominant rotation axis: PCA of the gyro, integrated later.
            cols = list(gyr)
            return Extractor(
                spec.label(),
                "deg",
                len(cols),
                kind,
                lambda d: np.degrees(d[:, cols].astype(float)),
                acc,
                gyr,
                UNIT_FLOOR["deg"],
                repetitive_only=False,
            )
        cols = list(acc)
        body = sdef is not None and sdef.sensor == "pose"
        return Extractor(
            f"imu_auto:{spec.label()}" if body else "imu_auto",
            "m/s^2",
            len(cols),
            kind,
            lambda d: d[:, cols].astype(float),
            acc,
            gyr,
            UNIT_FLOOR["m/s^2"],
            repetitive_only=True,
        )
    if kind in ("pose", "skeleton"):
        lay = _Layout(channels, kind, aspect)
        if spec.signal in (AUTO, "wrist_path") or sdef is None:
            if spec.signal == "wrist_path":
                sides = [spec.side] if spec.side else ["left", "right"]
                js = [f"{s}_wrist" for s in sides]

                def fwrist(d: np.ndarray) -> np.ndarray:
                    c = (
                        (_raw_xyz(lay, d, "left_hip") + _raw_xyz(lay, d, "right_hip")) / 2
                        if lay.kind == "pose"
                        else _raw_xyz(lay, d, "waist")
                    )
                    return np.concatenate([_raw_xyz(lay, d, j) - c for j in js], axis=1)

                n = len(js) * len(lay.dims)
                unit = "norm" if kind == "pose" else "m"
                return Extractor(
                    spec.label(),
                    unit,
                    n,
                    kind,
                    fwrist,
                    min_amplitude=UNIT_FLOOR[unit] * (0.5 if unit == "norm" else 1),
                )
            f, n, unit = _body_channels(lay, channels)
            return Extractor(
                "auto:body",
                unit,
                n,
                kind,
                f,
                min_amplitude=UNIT_FLOOR[unit] * 2,
                noise_weighted=True,
            )
        missing = [j for s in ("left", "right") for j in sdef.joints_for(s) if not lay.has_joint(j)]
        if missing:
            raise RecordingError(
                path,
                f"signal {spec.signal!r} needs joint(s) {', '.join(sorted(set(missing)))}"
                f" which this {kind} recording lacks",
            )
        unit = "norm" if (sdef.unit == "m" and kind == "pose") else sdef.unit
        if sdef.sided and spec.side is None:
            fl, fr = _named(lay, sdef, "left"), _named(lay, sdef, "right")
            # Both sides: the online PCA weighs them (bilateral exercises average, one-sided
            # ones follow the moving side). Angles and hand signals are averaged, so a side
            # out of view follows the other (usually only one hand is in the picture).
            return Extractor(
                spec.signal,
                unit,
                2,
                kind,
                lambda d: np.column_stack([fl(d), fr(d)]),
                min_amplitude=_min_amplitude(sdef, unit),
                average_sides=unit == "deg" or sdef.sensor == "hand",
            )
        f1 = _named(lay, sdef, spec.side or "right")
        return Extractor(
            spec.label(),
            unit,
            1,
            kind,
            lambda d: f1(d)[:, None],
            min_amplitude=_min_amplitude(sdef, unit),
        )
    # generic numeric channels
    if spec.signal != AUTO:
        raise RecordingError(
            path,
            f"signal {spec.signal!r} cannot be computed from channels {', '.join(channels[:5])}...",
        )
    cols = list(range(len(channels)))
    return Extractor(
        "auto:channels",
        "norm",
        len(cols),
        kind,
        lambda d: d[:, cols].astype(float),
        min_amplitude=0.0,
    )


def nan_to_skip(x: np.ndarray) -> bool:
    """True when a signal row cannot be used (any NaN)."""
    return bool(np.isnan(x).any())


__all__ = [
    "PERIODIC_JOINTS",
    "UNIT_FLOOR",
    "Extractor",
    "build_extractor",
    "nan_to_skip",
    "periodic_body_features",
]
