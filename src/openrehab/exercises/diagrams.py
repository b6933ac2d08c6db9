"""Exercise diagrams drawn from code: an accessible SVG per exercise, nothing downloaded.

Each picture is a simple stick figure (or a close-up of the hand, or a view from above)
in the exercise's first position. The moving part is drawn twice: faded and dashed at the
rest pose, bold at the target pose, with an arc and the angle for angle signals. The pose
is computed from the exercise's own sensing data (``rest``/``target``), so changing the
data changes the picture.

Angle convention used internally: a direction ``d`` in degrees, 0 = straight down,
90 = the figure's "forward" (+x), 180 = up (SVG y grows downwards).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from openrehab.exercises.schema import Exercise

Point = tuple[float, float]
SIZE = 240
BASE = "#8a8f98"
REST = "#9aa7b5"
TARGET = "#0b6e4f"
FURNITURE = "#c9b79c"


def _dir(angle_deg: float) -> Point:
    rad = math.radians(angle_deg)
    return math.sin(rad), math.cos(rad)


def _step(p: Point, angle_deg: float, length: float) -> Point:
    dx, dy = _dir(angle_deg)
    return p[0] + dx * length, p[1] + dy * length


@dataclass
class Figure:
    """Named segments (polylines) of one pose, the moving ones and the pivot of the arc."""

    segments: dict[str, list[Point]] = field(default_factory=dict)
    circles: dict[str, tuple[Point, float]] = field(default_factory=dict)
    moving: frozenset[str] = frozenset()
    pivot: Point | None = None
    pivot_dirs: tuple[float, float] | None = None  # (from, to) of the arc, figure angles
    joints: dict[str, Point] = field(default_factory=dict)
    pivot_segment: str | None = None  # side view: the arc spans this segment's rest->target
    dirs: dict[str, float] = field(default_factory=dict)


# --- side view ---------------------------------------------------------------------------
@dataclass
class SidePose:
    lean: float = 0.0  # trunk forward lean, deg
    shoulder: float = 0.0  # upper arm vs downward trunk axis, forward +
    elbow: float = 0.0  # flexion
    wrist: float = 0.0  # hand vs forearm, + = up (extension when forearm forward)
    hip: float = 0.0  # thigh vs downward trunk axis, forward +
    knee: float = 0.0  # flexion
    ankle: float = 100.0  # knee-ankle-toe angle
    toe: float = 0.0  # toe flexion
    thigh_abs: float | None = None  # absolute thigh/shank directions when given
    shank_abs: float | None = None
    bridge_lift: float = 0.0  # lying: hip lift in px
    rotation: float = 0.0  # whole-body rotation (lying = 90)


def _side_figure(pose: SidePose, origin: Point, moving: frozenset[str]) -> Figure:
    rot = pose.rotation
    hip = origin
    trunk_dir = 180 - pose.lean + rot
    down_axis = -pose.lean + rot
    shoulder = _step(hip, trunk_dir, 62)
    neck_dir = math.degrees(math.atan2(shoulder[0] - hip[0], shoulder[1] - hip[1]))
    head = _step(shoulder, neck_dir, 16)
    arm_dir = down_axis + pose.shoulder
    elbow = _step(shoulder, arm_dir, 34)
    forearm_dir = arm_dir + pose.elbow
    wrist = _step(elbow, forearm_dir, 30)
    hand = _step(wrist, forearm_dir + pose.wrist, 12)
    thigh_dir = (pose.thigh_abs + rot) if pose.thigh_abs is not None else down_axis + pose.hip
    knee = _step(hip, thigh_dir, 42)
    shank_dir = (pose.shank_abs + rot) if pose.shank_abs is not None else thigh_dir - pose.knee
    ankle = _step(knee, shank_dir, 40)
    foot_dir = shank_dir + 180 - pose.ankle
    toe_joint = _step(ankle, foot_dir, 14)
    toe = _step(toe_joint, foot_dir - pose.toe, 6)
    fig = Figure(moving=moving)
    fig.segments = {
        "trunk": [hip, shoulder],
        "upper_arm": [shoulder, elbow],
        "forearm": [elbow, wrist],
        "hand": [wrist, hand],
        "thigh": [hip, knee],
        "shank": [knee, ankle],
        "foot": [ankle, toe_joint],
        "toes": [toe_joint, toe],
    }
    fig.circles = {"head": (_step(head, neck_dir, 10), 10)}
    if pose.bridge_lift:
        # Bridging: shoulders and feet stay on the bed; only the pelvis rises.
        lifted = (hip[0], hip[1] - pose.bridge_lift)
        fig.segments["trunk"] = [lifted, shoulder]
        fig.segments["thigh"] = [lifted, knee]
    fig.joints = {
        "hip": hip,
        "shoulder": shoulder,
        "elbow": elbow,
        "wrist": wrist,
        "knee": knee,
        "ankle": ankle,
        "toe": toe_joint,
    }
    fig.dirs = {
        "trunk": trunk_dir,
        "upper_arm": arm_dir,
        "forearm": forearm_dir,
        "hand": forearm_dir + pose.wrist,
        "thigh": thigh_dir,
        "shank": shank_dir,
        "foot": foot_dir,
        "toes": foot_dir - pose.toe,
    }
    return fig


def _position_pose(position: str) -> SidePose:
    if position == "seated":
        return SidePose(hip=90, knee=90)
    if position == "lying":
        return SidePose(rotation=90)
    return SidePose()


# --- drawing helpers ---------------------------------------------------------------------
def _polyline(points: list[Point], colour: str, width: float, dashed: bool = False) -> str:
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return (
        f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="{width}" '
        f'stroke-linecap="round" stroke-linejoin="round"{dash}/>'
    )


def _circle(centre: Point, radius: float, colour: str, width: float, dashed: bool = False) -> str:
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return (
        f'<circle cx="{centre[0]:.1f}" cy="{centre[1]:.1f}" r="{radius:.1f}" fill="none" '
        f'stroke="{colour}" stroke-width="{width}"{dash}/>'
    )


def _arc(pivot: Point, start: float, end: float, radius: float, label: str | None) -> str:
    a, b = _step(pivot, start, radius), _step(pivot, end, radius)
    sweep = 0 if (end - start) % 360 < 180 else 1
    large = 0
    out = (
        f'<path d="M {a[0]:.1f} {a[1]:.1f} A {radius} {radius} 0 {large} {sweep} '
        f'{b[0]:.1f} {b[1]:.1f}" fill="none" stroke="{TARGET}" stroke-width="1.5" '
        f'marker-end="url(#arrow)"/>'
    )
    if label:
        mid = _step(pivot, start + ((end - start + 180) % 360 - 180) / 2, radius + 12)
        out += (
            f'<text x="{mid[0]:.1f}" y="{mid[1]:.1f}" font-size="11" text-anchor="middle" '
            f'fill="{TARGET}">{escape(label)}</text>'
        )
    return out


def _render_pair(rest: Figure, target: Figure, label: str | None, extras: str = "") -> str:
    parts = [extras]
    for name, points in target.segments.items():
        if name not in target.moving:
            parts.append(_polyline(points, BASE, 4))
    for name, (centre, radius) in target.circles.items():
        if name not in target.moving:
            parts.append(_circle(centre, radius, BASE, 3))
    for name in sorted(rest.moving):
        if name in rest.segments:
            parts.append(_polyline(rest.segments[name], REST, 3, dashed=True))
        if name in rest.circles:
            parts.append(_circle(*rest.circles[name], REST, 2, dashed=True))
    for name in sorted(target.moving):
        if name in target.segments:
            parts.append(_polyline(target.segments[name], TARGET, 5))
        if name in target.circles:
            parts.append(_circle(*target.circles[name], TARGET, 3))
    if target.pivot is not None and target.pivot_dirs is not None:
        parts.append(_arc(target.pivot, *target.pivot_dirs, 22, label))
    return "".join(parts)


# --- per-view builders -------------------------------------------------------------------
Builder = Callable[[Exercise, float, str], Figure]
ARM_SEGS = frozenset({"upper_arm", "forearm", "hand"})


def _fraction(exercise: Exercise, value: float) -> float:
    s = exercise.sensing
    return (value - s.rest) / (s.target - s.rest)


def _side(exercise: Exercise, value: float, position: str) -> Figure:
    signal = exercise.sensing.signal
    pose = _position_pose(position)
    moving: frozenset[str] = ARM_SEGS
    pivot_joint, pivot_seg = "shoulder", "upper_arm"
    movement = exercise.movement.lower()
    if signal == "elbow_flexion":
        pose.elbow, pivot_joint, pivot_seg = value, "elbow", "forearm"
        moving = frozenset({"forearm", "hand"})
        if "press" in exercise.id or "band" in exercise.id:
            pose.shoulder = 70
    elif signal == "shoulder_flexion":
        pose.shoulder = value
    elif signal in ("reach_distance",):
        f = _fraction(exercise, value)
        pose.shoulder, pose.elbow = 35 + 50 * f, 95 - 90 * f
    elif signal == "hand_to_mouth_distance":
        f = _fraction(exercise, value)
        pose.shoulder, pose.elbow, pivot_joint, pivot_seg = (
            10 + 30 * f,
            30 + 115 * f,
            "elbow",
            "forearm",
        )
    elif signal == "wrist_flexion":
        sign = 1 if "extension" in movement else -1
        pose.elbow, pose.wrist = 90, sign * value
        moving, pivot_joint, pivot_seg = frozenset({"hand"}), "wrist", "hand"
    elif signal == "trunk_forward_lean":
        pose.lean = value
        moving, pivot_joint, pivot_seg = frozenset({"trunk", "head", *ARM_SEGS}), "hip", "trunk"
    elif signal == "hip_flexion":
        pose.hip = value
        moving, pivot_joint, pivot_seg = (
            frozenset({"thigh", "shank", "foot", "toes"}),
            "hip",
            "thigh",
        )
    elif signal == "knee_extension":
        flexion = 180 - value
        if position == "seated":
            pose.shank_abs = 90 - flexion
            moving = frozenset({"shank", "foot", "toes"})
        else:
            pose.thigh_abs, pose.shank_abs = flexion / 2, -flexion / 2
            moving = frozenset({"thigh", "shank", "foot", "toes"})
        pivot_joint, pivot_seg = "knee", "shank"
    elif signal == "hip_extension_bridge":
        pose.thigh_abs, pose.shank_abs = 45, -45  # knees bent, feet flat on the bed
        pose.bridge_lift = max(0.0, (value - exercise.sensing.rest)) * 0.9
        moving = frozenset({"trunk", "thigh"})
        pivot_joint = ""  # the lift is shown by the two poses; no single joint angle
    elif signal in ("ankle_dorsiflexion", "heel_raise"):
        pose.ankle = value if signal == "ankle_dorsiflexion" else 100 + 250 * value
        moving, pivot_joint, pivot_seg = frozenset({"foot", "toes"}), "ankle", "foot"
    elif signal == "toe_curl":
        pose.toe = value
        moving, pivot_joint, pivot_seg = frozenset({"toes"}), "toe", "toes"
    elif signal == "sit_to_stand":
        f = _fraction(exercise, value)
        pose = SidePose(lean=25 * (1 - abs(2 * f - 1)), hip=90 * (1 - f), knee=90 * (1 - f))
        moving = frozenset({"trunk", "head", "thigh", "shank", "foot", "toes", *ARM_SEGS})
        pivot_joint = ""
    origin: Point = (110, 120) if position != "lying" else (130, 150)
    if position == "standing":
        origin = (110, 118)
    if signal == "sit_to_stand":
        f = _fraction(exercise, value)
        origin = (110, 148 - 34 * f)
    figure = _side_figure(pose, origin, moving)
    if pivot_joint:
        figure.pivot = figure.joints[pivot_joint]
        figure.pivot_segment = pivot_seg
    return figure


def _front(exercise: Exercise, value: float, position: str) -> Figure:
    signal = exercise.sensing.signal
    f = _fraction(exercise, value)
    lean = value if signal == "trunk_lateral_lean" else 0.0
    shift = 30 * f if signal == "weight_shift" else 0.0
    pelvis = (120 + shift, 130)
    neck = _step(pelvis, 180 - lean, 60)
    left_sh, right_sh = _step(neck, 270 - lean, 18), _step(neck, 90 - lean, 18)
    left_hip, right_hip = (pelvis[0] - 12, pelvis[1]), (pelvis[0] + 12, pelvis[1])
    arm_abd = value if signal == "shoulder_abduction" else 8
    hip_abd = value if signal == "hip_abduction" else 4
    fig = Figure()
    r_elbow = _step(right_sh, arm_abd - lean, 34)
    r_hand = _step(r_elbow, arm_abd - lean, 36)
    l_elbow = _step(left_sh, -8 - lean, 34)
    l_hand = _step(l_elbow, -8 - lean, 36)
    seated = position == "seated"
    leg = 40 if seated else 82
    fig.segments = {
        "trunk": [pelvis, neck],
        "shoulders": [left_sh, right_sh],
        "hips": [left_hip, right_hip],
        "arm": [right_sh, r_elbow, r_hand],
        "other_arm": [left_sh, l_elbow, l_hand],
        "leg": [right_hip, _step(right_hip, hip_abd, leg)],
        "other_leg": [left_hip, _step(left_hip, -4, leg)],
    }
    fig.circles = {"head": (_step(neck, 180 - lean, 22), 12)}
    if signal == "shoulder_abduction":
        fig.moving, fig.pivot, fig.pivot_dirs = frozenset({"arm"}), right_sh, (0.0, arm_abd)
    elif signal == "hip_abduction":
        fig.moving, fig.pivot, fig.pivot_dirs = frozenset({"leg"}), right_hip, (0.0, hip_abd)
    elif signal == "trunk_lateral_lean":
        fig.moving = frozenset({"trunk", "shoulders", "arm", "other_arm", "head"})
        fig.pivot, fig.pivot_dirs = pelvis, (180.0, 180 - lean)
    else:  # weight shift: the pelvis and trunk move sideways over the feet
        fig.moving = frozenset({"trunk", "shoulders", "hips", "arm", "other_arm", "head"})
        for name in ("leg", "other_leg"):  # feet stay where they are
            start, end = fig.segments[name]
            fig.segments[name] = [start, (end[0] - shift, end[1])]
    if position == "lying":
        fig = _rotate(fig, (120, 120), -90)
    return fig


def _rotate(fig: Figure, centre: Point, angle_deg: float) -> Figure:
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))

    def rot(p: Point) -> Point:
        x, y = p[0] - centre[0], p[1] - centre[1]
        return centre[0] + c * x - s * y, centre[1] + s * x + c * y

    out = Figure(moving=fig.moving)
    out.segments = {k: [rot(p) for p in v] for k, v in fig.segments.items()}
    out.circles = {k: (rot(p), r) for k, (p, r) in fig.circles.items()}
    if fig.pivot is not None and fig.pivot_dirs is not None:
        # Figure angles grow clockwise on screen, so a screen rotation subtracts.
        out.pivot = rot(fig.pivot)
        out.pivot_dirs = (fig.pivot_dirs[0] - angle_deg, fig.pivot_dirs[1] - angle_deg)
    return out


def _top(exercise: Exercise, value: float, position: str) -> Figure:
    """Seen from above: trunk rotation, arm rotation, scapulae, wiping, forearm turning."""
    signal = exercise.sensing.signal
    centre: Point = (120, 120)
    fig = Figure()
    fig.circles = {"head": (centre, 14)}
    if signal == "trunk_rotation":
        fig.segments = {
            "hips": [_step(centre, 90, 34), _step(centre, 270, 34)],
            "shoulders": [_step(centre, 90 + value, 50), _step(centre, 270 + value, 50)],
        }
        fig.moving, fig.pivot, fig.pivot_dirs = frozenset({"shoulders"}), centre, (90.0, 90 + value)
    elif signal == "shoulder_external_rotation":
        elbow = (170.0, 120.0)
        fig.segments = {
            "shoulders": [(70.0, 120.0), elbow],
            "forearm": [elbow, _step(elbow, 180 + 90 - value, 50)],
        }
        fig.moving, fig.pivot, fig.pivot_dirs = frozenset({"forearm"}), elbow, (270.0, 270 - value)
    elif signal == "scapular_retraction":
        back = (
            30
            * (exercise.sensing.rest - value)
            / abs(exercise.sensing.rest - exercise.sensing.target)
        )
        fig.segments = {
            "shoulders": [(60.0, 120 - back), (120.0, 135.0), (180.0, 120 - back)],
        }
        fig.moving = frozenset({"shoulders"})
    elif signal == "forearm_rotation":
        # End-on view of the forearm: the palm line turns by the rotation angle.
        fig.circles = {"forearm": (centre, 26)}
        fig.segments = {"palm": [_step(centre, 180 - value, 26), _step(centre, 180 - value, 56)]}
        fig.moving, fig.pivot, fig.pivot_dirs = frozenset({"palm"}), centre, (180.0, 180 - value)
    else:  # wrist_path: a hand wiping circles on the table
        f = _fraction(exercise, value)
        radius = 10 + 40 * f
        points = [_step(centre, a, radius) for a in range(0, 361, 15)]
        fig.circles = {}
        fig.segments = {
            "path": points,
            "hand": [_step(centre, 90, radius), _step(centre, 90, radius + 8)],
        }
        fig.moving = frozenset({"path", "hand"})
    return fig


def _hand(exercise: Exercise, value: float, position: str) -> Figure:
    """Close-up of the hand (palm facing the viewer, fingers up)."""
    signal = exercise.sensing.signal
    f = _fraction(exercise, value)
    wrist: Point = (120, 190)
    fig = Figure()
    deviation = value if signal == "wrist_deviation" else 0.0
    palm_dir = 180 + deviation
    knuckle = _step(wrist, palm_dir, 60)
    fig.segments = {"forearm": [(120, 235), wrist], "palm": [wrist, knuckle]}
    if signal in ("finger_flexion", "finger_extension"):
        flex = value if signal == "finger_flexion" else 90 - value
        for i, offset in enumerate((-18, -6, 6, 18)):
            base = (knuckle[0] + offset, knuckle[1])
            mid = _step(base, 180 + flex * 0.9, 22)
            fig.segments[f"finger{i}"] = [base, mid, _step(mid, 180 + flex * 1.8, 18)]
        fig.segments["thumb"] = [_step(wrist, 230, 30), _step(wrist, 215, 55)]
        fig.moving = frozenset(f"finger{i}" for i in range(4))
        first = fig.segments["finger0"][0]
        fig.pivot, fig.pivot_dirs = first, (180.0, 180 + flex * 0.9)
    elif signal == "wrist_deviation":
        for i, offset in enumerate((-18, -6, 6, 18)):
            base = _step(knuckle, palm_dir + 90, offset)
            fig.segments[f"finger{i}"] = [base, _step(base, palm_dir, 40)]
        fig.moving = frozenset({"palm", *(f"finger{i}" for i in range(4))})
        fig.pivot, fig.pivot_dirs = wrist, (180.0, palm_dir)
    else:  # pinch, opposition, tapping: the thumb tip closes on a finger tip
        gap = max(0.0, min(1.2, value)) * 40
        fig.segments["index"] = [(knuckle[0] - 12, knuckle[1]), (knuckle[0] - 12, knuckle[1] - 45)]
        other = 18 if signal == "thumb_opposition" else -12
        for i, offset in enumerate((0, 12, 24)):
            x = knuckle[0] + offset - (12 if signal != "thumb_opposition" else 0)
            if x != knuckle[0] + other:
                fig.segments[f"finger{i}"] = [(x, knuckle[1]), (x, knuckle[1] - 45)]
        target_tip = (knuckle[0] + other, knuckle[1] - 45)
        fig.segments["thumb"] = [
            _step(wrist, 235, 30),
            (target_tip[0] - 8 - gap, target_tip[1] + 8 + gap * 0.3),
        ]
        fig.moving = frozenset({"thumb"})
        del f
    return fig


def _view(exercise: Exercise) -> tuple[str, Builder]:
    signal = exercise.sensing.signal
    if signal in (
        "finger_flexion",
        "finger_extension",
        "pinch_aperture",
        "thumb_opposition",
        "finger_tapping",
        "wrist_deviation",
    ):
        return "hand", _hand
    if signal in ("shoulder_abduction", "hip_abduction", "trunk_lateral_lean", "weight_shift"):
        return "front", _front
    if signal in (
        "trunk_rotation",
        "shoulder_external_rotation",
        "scapular_retraction",
        "forearm_rotation",
        "wrist_path",
    ):
        return "top", _top
    return "side", _side


def _furniture(view: str, position: str, signal: str) -> str:
    if (view == "side" and position == "seated") or signal == "sit_to_stand":
        return (
            f'<path d="M 80 126 L 118 126 L 118 190 M 84 126 L 84 190 M 80 126 L 80 70" '
            f'fill="none" stroke="{FURNITURE}" stroke-width="4"/>'
        )
    if position == "lying":
        return f'<rect x="20" y="158" width="200" height="10" fill="{FURNITURE}"/>'
    if view in ("side", "front"):
        return f'<line x1="20" y1="212" x2="220" y2="212" stroke="{FURNITURE}" stroke-width="3"/>'
    if signal == "wrist_path":
        return (
            f'<rect x="40" y="50" width="160" height="140" fill="none" stroke="{FURNITURE}" '
            'stroke-width="3"/>'
        )
    return ""


def exercise_svg(exercise: Exercise, position: str | None = None) -> str:
    """An accessible SVG diagram of ``exercise`` (rest faded, target bold, angle arc)."""
    chosen = position or exercise.positions[0]
    view, builder = _view(exercise)
    rest = builder(exercise, exercise.sensing.rest, chosen)
    target = builder(exercise, exercise.sensing.target, chosen)
    segment = target.pivot_segment
    if segment is not None and target.pivot is not None:
        target.pivot_dirs = (rest.dirs[segment], target.dirs[segment])
    unit = exercise.sensing.unit
    excursion = abs(exercise.sensing.target - exercise.sensing.rest)
    label = f"{excursion:.0f}°" if unit == "deg" else None
    title = f"{exercise.name}: {exercise.movement}"
    desc = (
        f"{view.capitalize()} view, {chosen}. Dashed grey: start position; bold green: "
        f"target position"
        + (f", about {excursion:.0f} degrees of movement" if label else "")
        + ". "
        + " ".join(exercise.steps)
    )
    ident = f"ex-{exercise.id}"
    body = _render_pair(rest, target, label, _furniture(view, chosen, exercise.sensing.signal))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" width="{SIZE}" '
        f'height="{SIZE}" role="img" aria-labelledby="{ident}-title {ident}-desc" '
        f'data-view="{view}" data-position="{chosen}">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(desc)}</desc>'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="6" '
        f'markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        f'fill="{TARGET}"/></marker></defs>'
        f'<rect width="{SIZE}" height="{SIZE}" fill="#ffffff"/>'
        f"{body}</svg>"
    )
