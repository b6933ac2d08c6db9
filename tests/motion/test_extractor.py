"""What ``build_extractor`` chooses for each recording kind and signal: the channels, their
unit (degrees, metres, torso lengths, m/s^2), the smallest rep amplitude, and the clear error
when the recording lacks the sensor the signal needs."""

from __future__ import annotations

import numpy as np
import pytest

from openrehab.motion.features import (
    HAND_FLOOR,
    UNIT_FLOOR,
    build_extractor,
    nan_to_skip,
    periodic_body_features,
)
from openrehab.motion.recordings import (
    LANDMARK_CHANNELS,
    MEDIAPIPE_LANDMARKS,
    POSE_CHANNELS,
    Recording,
    RecordingError,
)
from openrehab.motion.signals import SignalSpec

IMU = ("t", "ax", "ay", "az", "gx", "gy", "gz")
SKELETON = tuple(
    f"{j}_{a}"
    for j in (
        "waist",
        "head",
        *(f"{s}_{p}" for s in ("left", "right") for p in ("shoulder", "elbow", "wrist", "hip")),
    )
    for a in "xyz"
)


def _spec(text: str) -> SignalSpec:
    return SignalSpec.parse(text)


@pytest.mark.parametrize(
    ("signal", "unit", "floor"),
    [
        ("elbow_flexion", "deg", UNIT_FLOOR["deg"]),
        ("reach_distance", "norm", UNIT_FLOOR["norm"]),  # image distances: torso lengths
        ("scapular_retraction", "norm", UNIT_FLOOR["norm"]),
        ("finger_flexion", "deg", HAND_FLOOR["deg"]),  # small finger joints: jitter floor
        ("finger_extension", "deg", HAND_FLOOR["deg"]),
        ("pinch_aperture", "norm", HAND_FLOOR["norm"]),
        ("wrist_deviation", "deg", UNIT_FLOOR["deg"]),  # long segments: the unit floor
    ],
)
def test_landmark_signals_units_and_smallest_reps(signal: str, unit: str, floor: float) -> None:
    """A named landmark signal reports in its unit (image distances in torso lengths,
    "norm") and counts reps from that unit's floor; finger angles and hand distances from the
    hand floors (finger landmark jitter), wrist deviation from the degree floor."""
    ex = build_extractor((LANDMARK_CHANNELS, "pose", 1.5), _spec(f"{signal}:left"))
    assert (ex.unit, ex.min_amplitude, ex.n_out, ex.label) == (unit, floor, 1, f"{signal}:left")
    assert (ex.kind, ex.average_sides, ex.noise_weighted, ex.repetitive_only) == (
        "pose",
        False,
        False,
        False,
    )


def test_skeleton_distances_are_in_metres() -> None:
    """A skeleton (Kinect, metres) reports distances in metres with the metre floor."""
    ex = build_extractor((SKELETON, "skeleton", 1.0), _spec("reach_distance:right"))
    assert (ex.unit, ex.min_amplitude) == ("m", UNIT_FLOOR["m"])


@pytest.mark.parametrize(
    ("signal", "averaged"),
    [("elbow_flexion", True), ("finger_flexion", True), ("reach_distance", False)],
)
def test_both_sides_without_a_side(signal: str, averaged: bool) -> None:
    """Without a side a sided signal gives both sides, left then right; angles and hand
    signals are averaged (a side out of view follows the other), body distances are not."""
    ex = build_extractor((LANDMARK_CHANNELS, "pose", 1.5), _spec(signal))
    assert (ex.n_out, ex.label, ex.average_sides, ex.kind) == (2, signal, averaged, "pose")
    assert ex.min_amplitude == (HAND_FLOOR if signal.startswith("finger") else UNIT_FLOOR)[ex.unit]
    left = build_extractor((LANDMARK_CHANNELS, "pose", 1.5), _spec(f"{signal}:left"))
    right = build_extractor((LANDMARK_CHANNELS, "pose", 1.5), _spec(f"{signal}:right"))
    rows = np.random.default_rng(0).uniform(0.2, 0.8, (5, len(LANDMARK_CHANNELS)))
    both = ex.rows(rows)
    np.testing.assert_allclose(both[:, 0], left.rows(rows)[:, 0])
    np.testing.assert_allclose(both[:, 1], right.rows(rows)[:, 0])


def test_a_goniometer_column_is_the_signal() -> None:
    """An "angle" recording (a goniometer) is counted from its column, in degrees, for the
    automatic choice and for any signal in degrees; a distance cannot come from it."""
    channels = ("t", "angle", "marker")
    rows = np.array([[0.0, 12.5, 7.0], [0.1, 40.0, 7.0]])
    for text, label in (("auto", "angle"), ("knee_extension:left", "knee_extension:left")):
        ex = build_extractor((channels, "angle", 1.0), _spec(text))
        assert (ex.label, ex.unit, ex.n_out, ex.kind, ex.min_amplitude) == (
            label,
            "deg",
            1,
            "angle",
            UNIT_FLOOR["deg"],
        )
        np.testing.assert_array_equal(ex.rows(rows), [[12.5], [40.0]])
    with pytest.raises(RecordingError, match="'reach_distance' cannot be computed"):
        build_extractor((channels, "angle", 1.0), _spec("reach_distance"))


@pytest.mark.parametrize("signal", ["forearm_rotation", "toe_curl"])
def test_gyroscope_signals_are_in_degrees(signal: str) -> None:
    """A gyroscope reads rad/s; the rotation signals turn it into deg/s once, from the gx,
    gy, gz columns, and keep the accelerometer and gyroscope columns for LDLJ-A."""
    ex = build_extractor((IMU, "imu", 1.0), _spec(signal))
    rows = np.array([[0.0, 0.1, 0.2, 9.8, np.pi, -np.pi / 2, 0.5]])
    np.testing.assert_allclose(ex.rows(rows), [[180.0, -90.0, np.degrees(0.5)]])
    assert (ex.unit, ex.n_out, ex.accel_idx, ex.gyro_idx) == ("deg", 3, (1, 2, 3), (4, 5, 6))
    assert (ex.min_amplitude, ex.repetitive_only) == (UNIT_FLOOR["deg"], False)
    assert (ex.label, ex.kind) == (signal, "imu")
    with pytest.raises(RecordingError) as err:
        build_extractor((IMU[:4], "imu", 1.0, "a.csv"), _spec(signal))
    assert str(err.value) == f"a.csv: signal '{signal}' needs a gyroscope (gx, gy, gz)"


@pytest.mark.parametrize(("text", "label"), [("auto", "imu_auto"), ("imu_auto", "imu_auto")])
def test_imu_automatic_mode_counts_the_accelerometer(text: str, label: str) -> None:
    """IMU automatic mode counts the accelerometer (m/s^2) and only repetitive movement."""
    ex = build_extractor((IMU, "imu", 1.0), _spec(text))
    rows = np.array([[0.0, 0.1, 0.2, 9.8, 1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(ex.rows(rows), [[0.1, 0.2, 9.8]])
    assert (ex.label, ex.unit, ex.n_out, ex.repetitive_only) == (label, "m/s^2", 3, True)
    assert ex.kind == "imu"
    assert (ex.min_amplitude, ex.accel_idx, ex.gyro_idx) == (
        UNIT_FLOOR["m/s^2"],
        (1, 2, 3),
        (4, 5, 6),
    )


def test_an_imu_on_the_limb_counts_a_body_signal_from_its_own_movement() -> None:
    """A body-pose signal from an IMU worn on the moving segment is counted in IMU
    automatic mode, labelled with the signal; hand signals are not (fingers hardly move a
    wrist-worn sensor)."""
    ex = build_extractor((IMU[:4], "imu", 1.0), _spec("elbow_flexion:left"))
    assert (ex.label, ex.unit, ex.gyro_idx) == ("imu_auto:elbow_flexion:left", "m/s^2", ())
    with pytest.raises(RecordingError, match=r"needs MediaPipe Hand landmarks .*an imu recording"):
        build_extractor((IMU, "imu", 1.0), _spec("finger_flexion"))


def test_generic_channels_are_all_counted_in_automatic_mode() -> None:
    """A recording of other numeric channels is counted from all of them (automatic mode
    only, no floor); a named signal cannot be computed from them."""
    ex = build_extractor((("a", "b"), "generic", 1.0), _spec("auto"))
    assert (ex.label, ex.unit, ex.n_out, ex.min_amplitude) == ("auto:channels", "norm", 2, 0.0)
    assert ex.kind == "generic"
    np.testing.assert_array_equal(ex.rows(np.array([[1, 2]])), [[1.0, 2.0]])
    with pytest.raises(RecordingError) as err:
        build_extractor((tuple("abcdefg"), "generic", 1.0), _spec("wrist_path"))
    assert str(err.value).endswith("cannot be computed from channels a, b, c, d, e...")


@pytest.mark.parametrize(
    ("spec", "kind", "message"),
    [
        ("imu_auto", "pose", "signal 'imu_auto' needs an IMU recording (ax, ay, az)"),
        (
            "forearm_rotation",
            "pose",
            "signal 'forearm_rotation' needs an IMU (ax, ay, az, gx, gy, gz); this is a pose "
            "recording",
        ),
        (
            "finger_flexion",
            "pose",
            "signal 'finger_flexion' needs MediaPipe Hand landmarks (21 points per hand); this "
            "landmark recording has none (a 'hands' key per frame, see docs/recordings.md)",
        ),
        (
            "elbow_flexion",
            "generic",
            "signal 'elbow_flexion' needs body pose landmarks or a skeleton; this is a generic "
            "recording",
        ),
        (
            "knee_extension",
            "skeleton",
            "signal 'knee_extension' needs joint(s) left_ankle, left_knee, right_ankle, "
            "right_knee which this skeleton recording lacks",
        ),
        ("wrist_path", "generic", "signal 'wrist_path' cannot be computed from channels a..."),
    ],
)
def test_a_signal_without_its_sensor_is_a_clear_error(spec: str, kind: str, message: str) -> None:
    """A signal whose sensor or joints the recording lacks is refused with a one-line
    message naming the file and what is missing, rather than counting garbage; the same
    for a recording given as (channels, kind, aspect, path)."""
    channels = {"pose": POSE_CHANNELS, "generic": ("a",), "skeleton": SKELETON}[kind]
    rec = Recording(np.zeros(2), np.zeros((2, len(channels))), channels, kind, path="s.csv")  # type: ignore[arg-type]
    for source in (rec, (channels, kind, 1.0, "s.csv")):
        with pytest.raises(RecordingError) as err:
            build_extractor(source, _spec(spec))
        assert str(err.value) == f"s.csv: {message}"
    with pytest.raises(RecordingError) as err:
        build_extractor((channels, kind, 1.0), _spec(spec))
    assert str(err.value) == f"<stream>: {message}"


@pytest.mark.parametrize(
    ("kind", "unit", "floor"), [("pose", "norm", 0.04), ("skeleton", "m", 0.04)]
)
def test_wrist_path_is_the_wrists_relative_to_the_hips(kind: str, unit: str, floor: float) -> None:
    """The wrist path is each wrist's position relative to the hip midpoint (image
    landmarks: aspect-corrected, y up; skeletons: the waist), both wrists without a side."""
    channels = POSE_CHANNELS if kind == "pose" else SKELETON
    rows = np.random.default_rng(1).uniform(0.1, 0.9, (4, len(channels)))
    ex = build_extractor((channels, kind, 2.0), _spec("wrist_path"))
    one = build_extractor((channels, kind, 2.0), _spec("wrist_path:left"))
    assert (ex.unit, ex.min_amplitude, ex.n_out) == (unit, floor, 2 * one.n_out)
    assert (ex.kind, ex.label, one.label) == (kind, "wrist_path", "wrist_path:left")
    idx = {c: i for i, c in enumerate(channels)}
    dims = "xy" if kind == "pose" else "xyz"
    scale = np.array([2.0, -1.0]) if kind == "pose" else np.ones(3)

    def at(joint: str) -> np.ndarray:
        return rows[:, [idx[f"{joint}_{a}"] for a in dims]] * scale

    centre = (at("left_hip") + at("right_hip")) / 2 if kind == "pose" else at("waist")
    expected = np.concatenate([at("left_wrist") - centre, at("right_wrist") - centre], axis=1)
    np.testing.assert_allclose(ex.rows(rows), expected)
    np.testing.assert_allclose(one.rows(rows), expected[:, : one.n_out])


def test_automatic_body_mode_weights_noise_and_doubles_the_floor() -> None:
    """Automatic mode on body landmarks counts every joint relative to the hips, weighting
    channels by their tracking noise, with twice the unit floor (whole-body noise)."""
    ex = build_extractor((POSE_CHANNELS, "pose", 1.5), _spec("auto"))
    assert (ex.label, ex.unit, ex.min_amplitude, ex.noise_weighted) == (
        "auto:body",
        "norm",
        2 * UNIT_FLOOR["norm"],
        True,
    )
    assert ex.kind == "pose"
    sk = build_extractor((SKELETON, "skeleton", 1.0), _spec("auto"))
    assert (sk.unit, sk.min_amplitude, sk.n_out) == (
        "m",
        2 * UNIT_FLOOR["m"],
        3 * (len(SKELETON) // 3 - 1),
    )


def test_a_row_with_any_missing_channel_is_skipped() -> None:
    assert nan_to_skip(np.array([1.0, np.nan]))
    assert not nan_to_skip(np.array([1.0, 2.0]))


FACE_DETAILS = ("left_eye", "right_eye", "mouth", "left_ear", "right_ear")


def _image_xy(rows: np.ndarray, joint: str, aspect: float) -> np.ndarray:
    """A landmark's image position in image heights, x aspect-corrected, y up."""
    i = POSE_CHANNELS.index(f"{joint}_x")
    return rows[:, [i, i + 1]] * np.array([aspect, -1.0])


def test_automatic_body_channels_are_the_joints_relative_to_the_hips() -> None:
    """Automatic mode on landmarks: every body joint but the hips and the face details
    (eyes, ears, mouth: they move with the head), relative to the hip midpoint (whole-body
    translation and camera drift removed) and divided by the torso length (shoulder
    midpoint to hip midpoint: the person's distance from the camera removed)."""
    aspect = 1.5
    rows = np.random.default_rng(2).uniform(0.1, 0.9, (6, len(POSE_CHANNELS)))
    ex = build_extractor((POSE_CHANNELS, "pose", aspect), _spec("auto"))
    joints = [
        n
        for n in MEDIAPIPE_LANDMARKS
        if n not in ("left_hip", "right_hip") and not n.startswith(FACE_DETAILS)
    ]
    hips = (_image_xy(rows, "left_hip", aspect) + _image_xy(rows, "right_hip", aspect)) / 2
    shoulders = (
        _image_xy(rows, "left_shoulder", aspect) + _image_xy(rows, "right_shoulder", aspect)
    ) / 2
    torso = np.linalg.norm(shoulders - hips, axis=1)[:, None]
    expected = np.concatenate([(_image_xy(rows, j, aspect) - hips) / torso for j in joints], axis=1)
    assert ex.n_out == 2 * len(joints) == 2 * 21
    np.testing.assert_allclose(ex.rows(rows), expected)


def test_automatic_skeleton_channels_are_the_joints_relative_to_the_waist() -> None:
    """Automatic mode on a skeleton: every joint but the waist, in metres from the waist."""
    rows = np.random.default_rng(3).uniform(-1.0, 1.0, (5, len(SKELETON)))
    ex = build_extractor((SKELETON, "skeleton", 1.0), _spec("auto"))
    joints = sorted({c[:-2] for c in SKELETON} - {"waist"})
    expected = np.concatenate(
        [rows[:, [SKELETON.index(f"{j}_{a}") for a in "xyz"]] - rows[:, :3] for j in joints],
        axis=1,
    )
    np.testing.assert_allclose(ex.rows(rows), expected)


@pytest.mark.parametrize("kind", ["pose", "skeleton"])
def test_periodic_features_are_the_limbs_relative_to_the_hips(kind: str) -> None:
    """The period-based counter reads the head (nose or the skeleton's head) and the
    limbs' middles and ends relative to the hips, as automatic mode does."""
    joints = [
        "nose",
        *(
            f"{s}_{j}"
            for j in ("shoulder", "elbow", "wrist", "knee", "ankle")
            for s in ("left", "right")
        ),
    ]
    if kind == "pose":
        rows = np.random.default_rng(4).uniform(0.1, 0.9, (5, len(POSE_CHANNELS)))
        f, n = periodic_body_features(POSE_CHANNELS, "pose", 1.5)  # type: ignore[misc]
        hips = (_image_xy(rows, "left_hip", 1.5) + _image_xy(rows, "right_hip", 1.5)) / 2
        shoulders = (
            _image_xy(rows, "left_shoulder", 1.5) + _image_xy(rows, "right_shoulder", 1.5)
        ) / 2
        torso = np.linalg.norm(shoulders - hips, axis=1)[:, None]
        expected = np.concatenate([(_image_xy(rows, j, 1.5) - hips) / torso for j in joints], 1)
    else:
        names = ("waist", "head", *(j for j in joints if j != "nose"))
        channels = tuple(f"{j}_{a}" for j in names for a in "xyz")
        rows = np.random.default_rng(5).uniform(-1.0, 1.0, (5, len(channels)))
        f, n = periodic_body_features(channels, "skeleton", 1.0)  # type: ignore[misc]
        at = {j: rows[:, 3 * k : 3 * k + 3] for k, j in enumerate(names)}
        expected = np.concatenate([at[j] - at["waist"] for j in ("head", *joints[1:])], 1)
        assert periodic_body_features(channels[3:], "skeleton", 1.0) is None  # no waist
    assert n == expected.shape[1]
    np.testing.assert_allclose(f(rows), expected)


def test_a_skeleton_without_a_waist_is_centred_on_its_first_joint() -> None:
    """Automatic mode on a skeleton without a waist joint: the joints relative to the first
    joint by name (which is left out), still in metres."""
    channels = SKELETON[3:]  # no waist
    rows = np.random.default_rng(6).uniform(-1.0, 1.0, (5, len(channels)))
    ex = build_extractor((channels, "skeleton", 1.0), _spec("auto"))
    names = sorted({c[:-2] for c in channels})
    at = {j: rows[:, [channels.index(f"{j}_{a}") for a in "xyz"]] for j in names}
    expected = np.concatenate([at[j] - at[names[0]] for j in names[1:]], axis=1)
    np.testing.assert_allclose(ex.rows(rows), expected)


def test_a_joint_averaged_from_two_landmarks_needs_both() -> None:
    """MediaPipe's mouth is the midpoint of its two corners: a landmark file with only one
    corner cannot give the hand-to-mouth distance (a clear error, not half a mouth)."""
    channels = tuple(c for c in POSE_CHANNELS if not c.startswith("mouth_right"))
    with pytest.raises(RecordingError, match=r"needs joint\(s\) mouth which this pose"):
        build_extractor((channels, "pose", 1.0), _spec("hand_to_mouth_distance:left"))


def test_a_hand_signal_needs_the_hand_landmark_channels() -> None:
    """Landmark files carry both hands' channels (NaN while a hand is not seen). Channels
    of one hand only are refused for a hand signal, naming the missing landmarks (the
    joints of both sides are checked, whichever side is asked), not a KeyError later."""
    channels = tuple(c for c in LANDMARK_CHANNELS if not c.startswith("right_hand_"))
    for text in ("finger_flexion", "finger_flexion:left", "finger_flexion:right"):
        with pytest.raises(RecordingError, match=r"needs joint\(s\) right_hand:index_dip"):
            build_extractor((channels, "pose", 1.0), _spec(text))
