"""Named motion signals: the vocabulary that exercise definitions reference.

An exercise names *what* to count (``sensing.signal``, e.g. ``"elbow_flexion"``) and the
side separately (``"left"``/``"right"``). This module says *how* each name is computed:
which landmarks, joints or IMU channels it needs, its unit, and which sensor kind must be
present in the recording. Signals that cannot honestly be computed from body-pose landmarks
(finger signals need MediaPipe Hand's 21 landmarks; forearm rotation and toe curls need an
IMU) declare that requirement instead of being approximated; the engine then raises a clear
error when a recording lacks the needed sensor.

Sensor kinds (``SensorKind``):

- ``"pose"``: body skeleton, either MediaPipe Pose (33 landmarks) or a Kinect-style skeleton
  CSV (``<joint>_x/_y/_z`` in metres). Joint names below use the generic names of
  :data:`JOINTS`; the recording readers map both formats onto them.
- ``"hand"``: MediaPipe Hand (21 landmarks per hand), carried by landmark recordings and live
  rows with hands (``recordings.LANDMARK_CHANNELS``). Hand joints are written
  ``"{side}_hand:<landmark>"`` (e.g. ``"left_hand:index_pip"``, the person's own left hand).
- ``"imu"``: accelerometer ``ax, ay, az`` (m/s^2), optionally gyroscope ``gx, gy, gz`` (rad/s).
- ``"angle"``: a goniometer column ``angle`` in degrees.

Units: ``"deg"`` for joint angles, ``"m"`` for distances (for normalised image coordinates
the distance is in body-relative units, see :attr:`SignalDef.unit`), ``"norm"`` for
dimensionless/normalised signals (e.g. a principal-component projection).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SensorKind = Literal["pose", "hand", "imu", "angle", "any"]
Unit = Literal["deg", "m", "norm"]
Side = Literal["left", "right"]
Method = Literal[
    "angle3",  # angle at joint b between segments b->a and b->c (0 = folded, 180 = straight)
    "flexion3",  # 180 - angle3: 0 deg at full extension, grows with flexion
    "segment_vs_vertical",  # angle of segment a->b against the trunk axis (hip mid -> shoulder mid)
    "segment_vs_vertical_frontal",  # same, projected on the frontal (x, y) plane
    "segment_vs_vertical_sagittal",  # same, projected on the sagittal (y, z) plane
    "trunk_lean_sagittal",  # trunk axis vs vertical in the sagittal plane
    "trunk_lean_frontal",  # trunk axis vs vertical in the frontal plane
    "trunk_rotation",  # shoulder line vs hip line about the vertical axis
    "rotation_about_segment",  # forearm rotation about the upper-arm axis (signed, 3-D)
    "distance",  # distance between two landmarks, normalised by shoulder width for images
    "distance_from_trunk",  # distance of a landmark from the shoulder of the same side
    "vertical_position",  # vertical coordinate of a landmark relative to the hips (up = +)
    "lateral_shift",  # horizontal midpoint of hips relative to ankles (weight shift)
    "shoulder_retraction",  # shoulder-to-shoulder width relative to torso (scapular retraction)
    "hand_angle",  # angle from MediaPipe Hand landmarks (extra["angle"] says which)
    "hand_distance",  # distance between two MediaPipe Hand landmarks / palm size
    "imu_orientation",  # an orientation angle from the IMU (gyro integration + gravity)
    "imu_auto",  # dominant principal component of the IMU channels, tracked online
    "auto",  # dominant principal component of whatever channels are present
    "angle_column",  # the goniometer column as is
]

#: Generic joint names used by signal definitions (Kinect names from the shared datasets'
#: convention; MediaPipe landmarks are mapped onto them by the readers).
JOINTS: frozenset[str] = frozenset(
    {
        "head",
        "neck",
        "chest",
        "spine",
        "waist",
        "nose",
        "left_shoulder",
        "right_shoulder",
        "left_elbow",
        "right_elbow",
        "left_wrist",
        "right_wrist",
        "left_index",
        "right_index",
        "left_hip",
        "right_hip",
        "left_knee",
        "right_knee",
        "left_ankle",
        "right_ankle",
        "left_heel",
        "right_heel",
        "left_toes",
        "right_toes",
        "mouth",
    }
)


@dataclass(frozen=True)
class SignalDef:
    """How one named signal is computed.

    Attributes
    ----------
    name:
        Side-less signal name (a member of :data:`SIGNAL_NAMES`).
    sensor:
        Sensor kind the recording must contain (``"pose"``, ``"hand"``, ``"imu"``,
        ``"angle"``, or ``"any"`` for signals that adapt to what is present).
    unit:
        ``"deg"``, ``"m"`` or ``"norm"``. Distances from normalised image landmarks
        (MediaPipe) are divided by the shoulder width and reported as ``"norm"``.
    method:
        Computation method (see ``Method``).
    joints:
        Joint names with ``{side}`` fields to fill in, in the order the method expects
        (e.g. ``("{side}_shoulder", "{side}_elbow", "{side}_wrist")`` for an angle at the
        elbow). Empty for IMU/automatic signals.
    sided:
        Whether the signal has a left/right side.
    description:
        One-line human description, including the angle convention.
    extra:
        Method options: IMU ``channels``; for ``hand_angle`` the ``angle``: ``"flexion"``
        (mean of 180 - angle at the middle point of each joint triple), ``"extension"`` (the
        mean angle itself) or ``"deviation"`` (see ``wrist_deviation``). Hand distances are
        divided by the palm size (wrist to middle-finger MCP) and reported as ``"norm"``.
    """

    name: str
    sensor: SensorKind
    unit: Unit
    method: Method
    joints: tuple[str, ...] = ()
    sided: bool = True
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def joints_for(self, side: str | None) -> tuple[str, ...]:
        """Joint names with the side filled in (``side`` defaults to ``"right"``)."""
        s = side or "right"
        other = "left" if s == "right" else "right"
        return tuple(j.format(side=s, other=other) for j in self.joints)


_S = "{side}"

#: MCP, PIP and DIP of the index, middle, ring and little fingers: the PIP joint angles
#: (a goniometer's proximal-phalanx vs middle-phalanx angle) of ``finger_flexion``.
_PIP_JOINTS: tuple[str, ...] = tuple(
    f"{_S}_hand:{finger}_{joint}"
    for finger in ("index", "middle", "ring", "pinky")
    for joint in ("mcp", "pip", "dip")
)

_DEFS: tuple[SignalDef, ...] = (
    # --- upper limb, from body pose -------------------------------------------------------
    SignalDef(
        "elbow_flexion",
        "pose",
        "deg",
        "flexion3",
        (f"{_S}_shoulder", f"{_S}_elbow", f"{_S}_wrist"),
        description="180 deg minus the shoulder-elbow-wrist angle: 0 = straight arm.",
    ),
    SignalDef(
        "shoulder_flexion",
        "pose",
        "deg",
        "segment_vs_vertical_sagittal",
        (f"{_S}_shoulder", f"{_S}_elbow"),
        description="Upper arm (shoulder->elbow) vs trunk axis in the sagittal plane; "
        "0 = arm hanging, 90 = arm forward horizontal. Falls back to the 3-D angle "
        "when depth is unreliable.",
    ),
    SignalDef(
        "shoulder_abduction",
        "pose",
        "deg",
        "segment_vs_vertical",
        (f"{_S}_shoulder", f"{_S}_elbow"),
        description="Angle between the upper arm (shoulder->elbow) and the downward trunk "
        "axis (shoulder mid -> hip mid); 0 = arm at side, 90 = horizontal.",
    ),
    SignalDef(
        "shoulder_external_rotation",
        "pose",
        "deg",
        "rotation_about_segment",
        (f"{_S}_shoulder", f"{_S}_elbow", f"{_S}_wrist"),
        description="Rotation of the forearm (elbow->wrist) about the upper-arm axis "
        "(shoulder->elbow): both projected on the plane perpendicular to the humerus, signed "
        "angle from the body's forward direction, + = outward (external rotation). Needs "
        "depth (skeletons); from image landmarks it falls back to the forearm angle vs the "
        "trunk axis in the frontal plane.",
    ),
    SignalDef(
        "scapular_retraction",
        "pose",
        "norm",
        "shoulder_retraction",
        ("left_shoulder", "right_shoulder", "left_hip", "right_hip"),
        sided=False,
        description="Shoulder-to-shoulder distance relative to hip width; decreases as the "
        "shoulder blades are squeezed (needs depth: weak from a frontal webcam).",
    ),
    SignalDef(
        "reach_distance",
        "pose",
        "m",
        "distance_from_trunk",
        (f"{_S}_shoulder", f"{_S}_wrist"),
        description="Shoulder-to-wrist distance (m for skeletons, shoulder widths for images).",
    ),
    SignalDef(
        "hand_to_mouth_distance",
        "pose",
        "m",
        "distance",
        (f"{_S}_wrist", "mouth"),
        description="Wrist-to-mouth distance (m for skeletons, shoulder widths for images); "
        "mouth = MediaPipe mouth-corner midpoint, or the head joint for skeletons.",
    ),
    SignalDef(
        "wrist_flexion",
        "pose",
        "deg",
        "flexion3",
        (f"{_S}_elbow", f"{_S}_wrist", f"{_S}_index"),
        description="180 deg minus the elbow-wrist-index angle (MediaPipe pose has hand "
        "points; Kinect skeletons without hand joints cannot give it).",
    ),
    SignalDef(
        "wrist_deviation",
        "hand",
        "deg",
        "hand_angle",
        (
            f"{_S}_elbow",
            f"{_S}_hand:wrist",
            f"{_S}_hand:middle_mcp",
            f"{_S}_hand:index_mcp",
            f"{_S}_hand:pinky_mcp",
        ),
        description="Radial/ulnar deviation, + = towards the thumb: angle in the palm's "
        "plane between the forearm (pose elbow -> wrist) and the hand axis (wrist -> middle "
        "finger MCP). Needs MediaPipe Hand landmarks and the body pose's elbow.",
        extra={"angle": "deviation"},
    ),
    SignalDef(
        "forearm_rotation",
        "imu",
        "deg",
        "imu_orientation",
        description="Pronation/supination: integrated gyroscope about the forearm's long "
        "axis (dominant gyro axis), drift-corrected. Not computable from body pose.",
        extra={"channels": "gx,gy,gz"},
    ),
    # --- hand, from MediaPipe Hand -------------------------------------------------------
    SignalDef(
        "finger_flexion",
        "hand",
        "deg",
        "hand_angle",
        _PIP_JOINTS,
        description="Mean flexion of the PIP joints of the index, middle, ring and little "
        "fingers: 180 deg minus the MCP-PIP-DIP angle, in 3-D; 0 = straight fingers. Needs "
        "MediaPipe Hand.",
        extra={"angle": "flexion"},
    ),
    SignalDef(
        "finger_extension",
        "hand",
        "deg",
        "hand_angle",
        _PIP_JOINTS,
        description="Inverse of finger_flexion (extension from a fisted rest): the mean "
        "MCP-PIP-DIP angle of the four fingers, 180 = straight. Needs MediaPipe Hand.",
        extra={"angle": "extension"},
    ),
    SignalDef(
        "pinch_aperture",
        "hand",
        "norm",
        "hand_distance",
        ("{side}_hand:thumb_tip", "{side}_hand:index_tip"),
        description="Thumb tip to index tip distance / palm size; needs MediaPipe Hand.",
    ),
    SignalDef(
        "thumb_opposition",
        "hand",
        "norm",
        "hand_distance",
        ("{side}_hand:thumb_tip", "{side}_hand:pinky_tip"),
        description="Thumb tip to little-finger tip distance / palm size; needs MediaPipe Hand.",
    ),
    SignalDef(
        "finger_tapping",
        "hand",
        "norm",
        "hand_distance",
        ("{side}_hand:thumb_tip", "{side}_hand:index_tip"),
        description="Thumb-index tapping aperture; needs MediaPipe Hand.",
    ),
    # --- trunk -----------------------------------------------------------------------------
    SignalDef(
        "trunk_forward_lean",
        "pose",
        "deg",
        "trunk_lean_sagittal",
        ("left_shoulder", "right_shoulder", "left_hip", "right_hip"),
        sided=False,
        description="Trunk axis (hip mid -> shoulder mid) vs vertical, sagittal plane.",
    ),
    SignalDef(
        "trunk_lateral_lean",
        "pose",
        "deg",
        "trunk_lean_frontal",
        ("left_shoulder", "right_shoulder", "left_hip", "right_hip"),
        sided=False,
        description="Trunk axis vs vertical in the frontal plane (signed, + = to the right).",
    ),
    SignalDef(
        "trunk_rotation",
        "pose",
        "deg",
        "trunk_rotation",
        ("left_shoulder", "right_shoulder", "left_hip", "right_hip"),
        sided=False,
        description="Shoulder line vs hip line about the vertical axis (needs depth).",
    ),
    SignalDef(
        "weight_shift",
        "pose",
        "norm",
        "lateral_shift",
        ("left_hip", "right_hip", "left_ankle", "right_ankle"),
        sided=False,
        description="Hip midpoint lateral offset over the ankle midpoint, / hip width.",
    ),
    # --- lower limb -----------------------------------------------------------------------
    SignalDef(
        "hip_flexion",
        "pose",
        "deg",
        "segment_vs_vertical",
        (f"{_S}_hip", f"{_S}_knee"),
        description="Thigh (hip->knee) vs the downward trunk axis; 0 = standing straight.",
    ),
    SignalDef(
        "hip_abduction",
        "pose",
        "deg",
        "segment_vs_vertical_frontal",
        (f"{_S}_hip", f"{_S}_knee"),
        description="Thigh vs trunk axis in the frontal plane.",
    ),
    SignalDef(
        "hip_extension_bridge",
        "pose",
        "deg",
        "angle3",
        (f"{_S}_shoulder", f"{_S}_hip", f"{_S}_knee"),
        description="Shoulder-hip-knee angle (bridging: grows towards 180 as the hips lift).",
    ),
    SignalDef(
        "knee_extension",
        "pose",
        "deg",
        "angle3",
        (f"{_S}_hip", f"{_S}_knee", f"{_S}_ankle"),
        description="Hip-knee-ankle angle: 180 = straight knee.",
    ),
    SignalDef(
        "sit_to_stand",
        "pose",
        "norm",
        "vertical_position",
        ("left_hip", "right_hip", "left_ankle", "right_ankle", "left_shoulder", "right_shoulder"),
        sided=False,
        description="Hip height above the ankles / trunk length (rises on standing).",
    ),
    SignalDef(
        "ankle_dorsiflexion",
        "pose",
        "deg",
        "angle3",
        (f"{_S}_knee", f"{_S}_ankle", f"{_S}_toes"),
        description="Knee-ankle-toe angle (MediaPipe foot_index / Kinect toes); decreases "
        "with dorsiflexion.",
    ),
    SignalDef(
        "heel_raise",
        "pose",
        "norm",
        "vertical_position",
        (f"{_S}_heel", f"{_S}_toes", f"{_S}_hip", f"{_S}_knee"),
        description="Heel height above the toe / shank length (falls back to the ankle for "
        "skeletons without a heel joint).",
    ),
    SignalDef(
        "toe_curl",
        "imu",
        "deg",
        "imu_orientation",
        description="Toe curls: foot-mounted IMU (or a toe sensor); not visible in body pose.",
        extra={"channels": "gx,gy,gz"},
    ),
    # --- generic ----------------------------------------------------------------------------
    SignalDef(
        "imu_auto",
        "imu",
        "norm",
        "imu_auto",
        sided=False,
        description="Dominant principal component of the IMU channels (accelerometer, plus "
        "gyroscope when present), tracked online.",
    ),
    SignalDef(
        "wrist_path",
        "pose",
        "norm",
        "auto",
        (f"{_S}_wrist",),
        description="Wrist trajectory projected on its dominant principal direction "
        "(free reaching or wiping patterns).",
    ),
)

#: Signal definitions by side-less name.
SIGNALS: dict[str, SignalDef] = {d.name: d for d in _DEFS}

#: The vocabulary of named signals exercise definitions may reference.
SIGNAL_NAMES: frozenset[str] = frozenset(SIGNALS)

#: Extra pseudo-signal: automatic choice from whatever channels are present.
AUTO = "auto"


class SignalSpec(BaseModel):
    """What to count, as requested by an exercise (or the CLI).

    ``signal`` is a name from :data:`SIGNAL_NAMES` or ``"auto"``; ``side`` is ``"left"``,
    ``"right"`` or ``None`` (sided signals then use the side that moves most).
    ``max_velocity_deg_s`` is a stretch velocity limit: reps whose peak angular velocity
    exceeds it get ``too_fast = True`` (spasticity is velocity dependent). ``rest_deg`` and
    ``target_deg`` are optional expected angles (informative, used for partial-rep display).
    """

    model_config = ConfigDict(frozen=True)

    signal: str = AUTO
    side: Side | None = None
    max_velocity_deg_s: float | None = Field(default=None, gt=0)
    rest_deg: float | None = None
    target_deg: float | None = None

    @field_validator("signal")
    @classmethod
    def _known(cls, v: str) -> str:
        if v != AUTO and v not in SIGNAL_NAMES:
            raise ValueError(
                f"unknown signal {v!r}; known: auto, " + ", ".join(sorted(SIGNAL_NAMES))
            )
        return v

    @classmethod
    def parse(cls, text: str, **kw: float | None) -> SignalSpec:
        """Parse ``"name"`` or ``"name:side"`` (e.g. ``"elbow_flexion:left"``)."""
        name, _, side = text.strip().partition(":")
        return cls(signal=name, side=(side or None), **kw)  # type: ignore[arg-type]

    @property
    def definition(self) -> SignalDef | None:
        """The :class:`SignalDef`, or ``None`` for ``"auto"``."""
        return SIGNALS.get(self.signal)

    def label(self) -> str:
        """Human/JSON label, e.g. ``"elbow_flexion:left"``."""
        return self.signal + (f":{self.side}" if self.side else "")


#: Everyday names of exercises (rehabilitation, fitness and public datasets) -> the signal
#: that counts them, so ``--exercise biceps-curl`` or ``--exercise deep_squat`` work without
#: knowing the library's ids. Keys are normalised by :func:`normalise_name`.
EXERCISE_NAMES: dict[str, str] = {
    **dict.fromkeys(
        (
            "squat",
            "deep_squat",
            "mini_squat",
            "air_squat",
            "bodyweight_squat",
            "wall_squat",
            "lunge",
            "inline_lunge",
            "side_lunge",
            "forward_lunge",
            "reverse_lunge",
            "split_squat",
            "step_up",
            "leg_extension",
            "knee_extension",
            "heel_slide",
        ),
        "knee_extension",
    ),
    **dict.fromkeys(("sit_to_stand", "chair_stand", "sit_stand", "stand_up"), "sit_to_stand"),
    **dict.fromkeys(
        (
            "leg_raise",
            "straight_leg_raise",
            "hurdle_step",
            "hip_flexion",
            "march",
            "marching",
            "knee_raise",
            "high_knee",
        ),
        "hip_flexion",
    ),
    **dict.fromkeys(("hip_abduction", "side_leg_raise", "clamshell"), "hip_abduction"),
    **dict.fromkeys(("bridge", "glute_bridge", "bridging", "hip_bridge"), "hip_extension_bridge"),
    **dict.fromkeys(("heel_raise", "calf_raise", "toe_raise"), "heel_raise"),
    **dict.fromkeys(
        ("ankle_pump", "ankle_dorsiflexion", "ankle_plantarflexion"), "ankle_dorsiflexion"
    ),
    **dict.fromkeys(
        (
            "shoulder_abduction",
            "lateral_raise",
            "side_raise",
            "scaption",
            "shoulder_scaption",
            "jumping_jack",
            "jumpingjack",
            "star_jump",
            "arm_abduction",
        ),
        "shoulder_abduction",
    ),
    **dict.fromkeys(
        (
            "shoulder_flexion",
            "shoulder_extension",
            "front_raise",
            "front_rise",
            "arm_raise",
            "forward_arm_raise",
        ),
        "shoulder_flexion",
    ),
    **dict.fromkeys(
        (
            "shoulder_rotation",
            "external_rotation",
            "internal_rotation",
            "internal_external_rotation",
            "shoulder_internal_external_rotation",
            "shoulder_external_rotation",
        ),
        "shoulder_external_rotation",
    ),
    **dict.fromkeys(
        (
            "curl",
            "biceps_curl",
            "bicep_curl",
            "hammer_curl",
            "elbow_flexion",
            "elbow_extension",
            "triceps_extension",
            "tricep_extension",
            "push_up",
            "pushup",
            "press_up",
            "pull_up",
            "pullup",
            "chin_up",
            "chinup",
            "dip",
            "bench_press",
            "bench_pressing",
            "chest_press",
            "rope_pushdown",
            "triceps_pushdown",
            "pushdown",
        ),
        "elbow_flexion",
    ),
    **dict.fromkeys(
        ("trunk_rotation", "russian_twist", "russiantwist", "twist", "torso_rotation"),
        "trunk_rotation",
    ),
    **dict.fromkeys(
        ("trunk_flexion", "forward_lean", "forward_bend", "sit_up", "situp", "crunch"),
        "trunk_forward_lean",
    ),
    **dict.fromkeys(("side_bend", "lateral_lean", "trunk_side_bend"), "trunk_lateral_lean"),
    **dict.fromkeys(("wrist_flexion", "wrist_extension", "wrist_curl"), "wrist_flexion"),
    **dict.fromkeys(("pronation", "supination", "forearm_rotation"), "forearm_rotation"),
    **dict.fromkeys(("reach", "reaching", "forward_reach", "reach_out"), "reach_distance"),
    **dict.fromkeys(("hand_to_mouth", "drinking", "drink"), "hand_to_mouth_distance"),
    **dict.fromkeys(("grip", "fist", "hand_grip", "squeeze", "finger_flexion"), "finger_flexion"),
    **dict.fromkeys(("plank", "hold", "wall_sit"), AUTO),  # static holds: nothing to count
}

_POSTURE_PREFIXES = ("standing_", "seated_", "sitting_", "lying_", "supine_", "prone_")


def normalise_name(name: str) -> str:
    """``"Biceps-Curls"`` -> ``"biceps_curls"``: lower case, words joined by ``_``."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def signal_for_name(name: str) -> str | None:
    """The signal for an everyday exercise name (:data:`EXERCISE_NAMES`), trying it as
    given, without a posture prefix (``standing_``, ``seated_``, ...) and with its words in
    the singular (``biceps_curls`` -> ``bicep_curl``); ``None`` if unknown."""
    n = normalise_name(name)
    for prefix in ("", *_POSTURE_PREFIXES):
        if not n.startswith(prefix):
            continue
        base = n[len(prefix) :]
        singular = "_".join(
            w[:-1] if w.endswith("s") and not w.endswith("ss") and len(w) >= 3 else w
            for w in base.split("_")
        )
        for cand in (base, singular):
            if cand in EXERCISE_NAMES:
                return EXERCISE_NAMES[cand]
    return None


__all__ = [
    "AUTO",
    "EXERCISE_NAMES",
    "JOINTS",
    "SIGNALS",
    "SIGNAL_NAMES",
    "SignalDef",
    "SignalSpec",
    "normalise_name",
    "signal_for_name",
]
