"""Progression state and credit: stored state read back, which limb practice credits, unlock
events per side, and the totals the "today" page shows."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from openrehab.exercises.library import Library, load_library
from openrehab.exercises.schema import Prerequisite
from openrehab.program.progression import (
    ExerciseProgress,
    PatientProgress,
    ProgressEvent,
    SetResult,
    compute_streak,
    limb_xp,
    limbs_of,
    new_progress,
    record_patient_set,
    summary,
)

LIBRARY = load_library()
DAY = date(2024, 5, 1)


def good() -> SetResult:
    return SetResult(reps_target=10, reps_completed=10, target_reached_fraction=0.9)


def practise(
    state: PatientProgress, exercise_id: str, side: str, sets: int
) -> tuple[PatientProgress, list]:
    events: list = []
    for _ in range(sets):
        state, new = record_patient_set(state, LIBRARY, exercise_id, side, good(), DAY)
        events += new
    return state, events


def test_state_stored_without_the_optional_parts_reads_as_empty() -> None:
    """Rows written before ``sets_done`` and ``history`` existed, and a patient with no
    stored state at all, read back as "nothing done yet" rather than failing."""
    stored = {"exercise_id": "elbow_flexion", "side": "left", "max_level": 8, "units": 5, "xp": 40}
    progress = ExerciseProgress.from_dict(stored)
    assert (progress.level, progress.xp, progress.sets_done, progress.history) == (2, 40, 0, ())
    assert PatientProgress.from_dict({}) == PatientProgress()


def test_trunk_work_credits_the_trunk_and_limb_work_the_limb_on_its_side() -> None:
    """Midline exercises credit the trunk even when they also move a limb (scapular
    retraction moves the shoulders); trunk-only work credits the trunk whatever its
    laterality; anything touching the leg credits the leg, otherwise the arm."""
    assert limbs_of(LIBRARY.get("scapular_retraction"), "both") == ("trunk",)
    trunk_only = LIBRARY.get("trunk_rotation").model_copy(update={"laterality": "bilateral"})
    assert limbs_of(trunk_only, "both") == ("trunk",)
    assert limbs_of(LIBRARY.get("elbow_flexion"), "right") == ("right_arm",)
    assert limbs_of(LIBRARY.get("bridging"), "both") == ("left_leg", "right_leg")
    mixed = LIBRARY.get("elbow_flexion").model_copy(update={"regions": ("elbow", "knee")})
    assert limbs_of(mixed, "left") == ("left_leg",)


def test_limb_xp_adds_up_every_exercise_on_that_limb() -> None:
    items = [
        replace(new_progress(LIBRARY.get(exercise_id), "left"), xp=xp)
        for exercise_id, xp in (
            ("elbow_flexion", 30),
            ("wrist_extension", 12),
            ("seated_knee_extension", 7),
        )
    ]
    assert limb_xp(items, LIBRARY) == {"left_arm": 42, "left_leg": 7}


def test_no_practice_yet_is_a_zero_streak_without_a_last_day() -> None:
    assert compute_streak([], DAY).to_dict() == {
        "current_days": 0,
        "best_days": 0,
        "last_day": None,
    }
    assert compute_streak([DAY], DAY).to_dict() == {
        "current_days": 1,
        "best_days": 1,
        "last_day": "2024-05-01",
    }


def test_each_arm_unlocks_on_its_own_and_bilateral_work_once_for_both() -> None:
    """R11 per side: hand to mouth opens for the right arm when the right elbow reaches
    level 3, even though the left elbow is still at level 1; a bilateral exercise unlocks
    once, as "both", when the weaker practised leg gets there."""
    state, _ = practise(PatientProgress(), "elbow_flexion", "left", 1)
    state, events = practise(state, "elbow_flexion", "right", 9)
    name = LIBRARY.get("elbow_flexion").name
    unlocks = [(e.exercise_id, e.side, e.reason) for e in events if e.kind == "unlock"]
    assert unlocks == [
        (
            "hand_to_mouth",
            "right",
            f"New exercise unlocked: Hand to mouth (right) because {name} reached level 3.",
        )
    ]
    state, events = practise(state, "elbow_flexion", "left", 9)
    assert [(e.exercise_id, e.side) for e in events if e.kind == "unlock"] == [
        ("hand_to_mouth", "left")
    ]
    state, _ = practise(state, "seated_knee_extension", "right", 1)
    state, events = practise(state, "seated_knee_extension", "left", 9)
    assert not [e for e in events if e.kind == "unlock" and e.exercise_id == "sit_to_stand"]
    state, events = practise(state, "seated_knee_extension", "right", 9)
    assert [(e.exercise_id, e.side) for e in events if e.kind == "unlock"] == [
        ("sit_to_stand", "both")
    ]


def test_today_page_shows_how_much_xp_is_left_to_the_next_overall_level() -> None:
    state, _ = practise(PatientProgress(), "elbow_extension", "left", 8)  # 8 x 19 = 152 xp
    assert summary(state, LIBRARY, DAY)["overall"] == {
        "xp": 152,
        "level": 2,
        "xp_to_next": 220 - 152,
    }


def test_limb_and_overall_level_ups_are_explained_and_stamped() -> None:
    """The set that takes the left arm past 100 XP (6 sets of 19) says so, for that side,
    with the levels and the time of the set. Practising twice on a day counts the day once
    for the streak."""
    at = datetime(2024, 5, 1, 9, 30)
    timed = good().model_copy(update={"at": at})
    state = PatientProgress()
    for _ in range(6):
        state, events = record_patient_set(state, LIBRARY, "elbow_extension", "left", timed, DAY)
    ups = [e for e in events if e.kind != "set"]
    assert ups == [
        ProgressEvent(
            "limb_level_up",
            "Left arm level 1 -> 2 because you have earned 114 points on it.",
            side="left",
            from_level=1,
            to_level=2,
            at="2024-05-01T09:30:00",
        ),
        ProgressEvent(
            "overall_level_up",
            "Overall level 1 -> 2 because you have earned 114 points in total.",
            from_level=1,
            to_level=2,
            at="2024-05-01T09:30:00",
        ),
    ]
    assert state.days_practised == (DAY,)


def test_bilateral_practice_unlocks_a_one_sided_follow_up_on_each_side() -> None:
    """With only bilateral progress stored there is no side to go by, so a one-sided
    exercise whose prerequisite is bilateral unlocks for the left and the right, stamped
    with the time of the set."""
    follow_up = LIBRARY.get("seated_heel_raise").model_copy(
        update={
            "id": "heel_tap_after_bridge",
            "name": "Heel tap",
            "prerequisites": (Prerequisite(exercise="bridging", level=2),),
        }
    )
    library = Library(exercises=(*LIBRARY.exercises, follow_up), sources={})
    state, events = PatientProgress(), []
    for _ in range(5):
        state, events = record_patient_set(state, library, "bridging", "both", good(), DAY)
        if any(e.kind == "unlock" for e in events):
            break
    unlocks = [(e.exercise_id, e.side, e.at) for e in events if e.kind == "unlock"]
    assert unlocks == [
        ("heel_tap_after_bridge", "left", "2024-05-01"),
        ("heel_tap_after_bridge", "right", "2024-05-01"),
    ]


def test_an_unlock_names_every_prerequisite_reached() -> None:
    state, _ = practise(PatientProgress(), "forward_reach_table_slide", "left", 9)
    state, events = practise(state, "finger_flexion_grip", "left", 9)
    reach = LIBRARY.get("forward_reach_table_slide").name
    grip = LIBRARY.get("finger_flexion_grip").name
    assert [e.reason for e in events if e.exercise_id == "reach_and_grasp_cup"] == [
        f"New exercise unlocked: Reach and grasp a cup (left) because {reach} reached level 3 "
        f"and {grip} reached level 3."
    ]
