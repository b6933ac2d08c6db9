"""Progression persisted: finish_set judges the stored reps and stores explained events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service_helpers import do_set, give_profile, progress_row
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openrehab.services import program as program_service
from openrehab.services import progress as progress_service
from openrehab.services.demo import seed_demo
from openrehab.store.models import ExerciseProgress, ProgressEvent, Repetition, User
from support import World


def test_successful_set_earns_xp_and_is_explained(db: Session, world: World) -> None:
    p = world.ids["patient_p"]
    exercise_set = do_set(db, p, reached=1.0)
    events = progress_service.finish_set(db, exercise_set)
    db.commit()
    assert exercise_set.ended_at is not None and exercise_set.progressed_at is not None
    row = progress_row(db, p, "elbow_flexion")
    assert row.xp == 16 and row.level == 1 and row.state["units"] == 1
    kinds = [e.kind for e in events]
    assert (
        kinds[0] == "set"
        and events[0].reason == "+16 points: 8 reps done, 8 reached the target range."
    )
    assert all(e.set_id == exercise_set.id and e.patient_id == p for e in events)
    judgement = progress_service.set_judgement(db, exercise_set)
    assert judgement is not None and judgement.result.success


def test_ending_twice_counts_once(db: Session, world: World) -> None:
    p = world.ids["patient_p"]
    exercise_set = do_set(db, p)
    first = progress_service.finish_set(db, exercise_set)
    second = progress_service.finish_set(db, exercise_set)
    db.commit()
    assert [e.id for e in first] == [e.id for e in second]
    assert progress_row(db, p, "elbow_flexion").xp == 16
    count = db.scalar(
        select(func.count(ProgressEvent.id)).where(ProgressEvent.set_id == exercise_set.id)
    )
    assert count == len(first)


def test_failed_set_lowers_the_level_with_the_reason(db: Session, world: World) -> None:
    p = world.ids["patient_p"]
    progress_service.set_level(db, p, "elbow_flexion", "left", 2, by=None, reason=None)
    events = progress_service.finish_set(db, do_set(db, p, level=2, reached=0.25))
    row = progress_row(db, p, "elbow_flexion")
    assert row.level == 1
    down = next(e for e in events if e.kind == "level_down")
    assert down.reason.startswith("Level 2 -> 1 because you reached the target range in 2 of 8")


def test_four_good_sets_move_up_a_level(db: Session, world: World) -> None:
    p = world.ids["patient_p"]
    events = []
    for _ in range(4):
        events += progress_service.finish_set(db, do_set(db, p, reached=0.9))
    up = [e for e in events if e.kind == "level_up"]
    assert len(up) == 1 and up[0].reason.startswith("Level 1 -> 2 because")
    assert progress_row(db, p, "elbow_flexion").level == 2
    stored = progress_service.recent_events(db, p, kinds=["level_up"])
    assert [(e.from_level, e.to_level, e.set_id) for e in stored] == [(1, 2, up[0].set_id)]


def test_pain_drops_the_level(db: Session, world: World) -> None:
    p = world.ids["patient_p"]
    progress_service.set_level(db, p, "elbow_flexion", "left", 3, by=None, reason=None)
    events = progress_service.finish_set(db, do_set(db, p, level=3), pain_reported=True)
    pain = next(e for e in events if e.kind == "pain")
    assert pain.reason.startswith("Level 3 -> 2 because you reported pain")


def test_fading_range_prompts_a_rest(db: Session, world: World) -> None:
    p = world.ids["patient_p"]
    roms = [80, 82, 81, 78, 70, 60, 50, 48, 45]
    events = progress_service.finish_set(db, do_set(db, p, roms=roms))
    assert any(e.kind == "rest_prompt" and "rest for a minute" in e.reason for e in events)


def test_reps_are_judged_in_the_order_they_were_done(db: Session, world: World) -> None:
    """A rep stored late (a retry, a second device) still counts at its own place: the
    fading range is read in rep order, not in the order the rows were stored."""
    p = world.ids["patient_p"]
    exercise_set = do_set(db, p, roms=[])
    roms = [80, 82, 81, 78, 70, 60, 50, 48, 45]
    for index in reversed(range(len(roms))):
        db.add(
            Repetition(
                set_id=exercise_set.id,
                index=index,
                start_s=3.0 * index,
                end_s=3.0 * index + 2.5,
                rom=roms[index],
                rom_unit="deg",
            )
        )
    db.flush()
    events = progress_service.finish_set(db, exercise_set)
    assert any(e.kind == "rest_prompt" for e in events), events


def test_empty_set_changes_nothing(db: Session, world: World) -> None:
    p = world.ids["patient_p"]
    assert progress_service.finish_set(db, do_set(db, p, roms=[])) == []
    assert progress_service.progress_levels(db, p) == {}


def test_streak_counts_consecutive_days(db: Session, world: World) -> None:
    p = world.ids["patient_p"]
    patient = db.get(User, p)
    now = datetime.now(UTC).replace(hour=9)
    for days_ago in (5, 2, 1, 0):
        progress_service.finish_set(db, do_set(db, p, at=now - timedelta(days=days_ago)))
    db.commit()
    streak = progress_service.overview(db, patient)["streak"]
    assert streak["current_days"] == 3 and streak["best_days"] == 3
    assert streak["last_day"] == now.date().isoformat()


def test_unlock_puts_the_new_exercise_in_the_program(db: Session, world: World) -> None:
    patient = give_profile(db, world.ids["patient_p"])
    program = program_service.build_program(db, patient, by=None)
    assert "hand_to_mouth" not in {i.exercise_id for i in program.items}
    progress_service.set_level(db, patient.id, "elbow_flexion", "left", 2, by=None, reason=None)
    events = []
    for _ in range(4):
        events += progress_service.finish_set(db, do_set(db, patient.id, level=2))
    db.commit()
    unlock = next(e for e in events if e.kind == "unlock")
    assert unlock.exercise_id == "hand_to_mouth"
    assert "because Bend the elbow reached level 3" in unlock.reason
    program = program_service.active_program(db, patient.id)
    assert program is not None and "Updated after your progress" in (program.note or "")
    items = {i.exercise_id: i for i in program.items}
    assert "hand_to_mouth" in items and items["elbow_flexion"].level == 3


def test_demo_patient_has_a_program_and_consistent_progress(db: Session) -> None:
    seed_demo(db)
    db.commit()
    patient = db.scalar(select(User).where(User.username == "patient"))
    assert patient is not None
    program = program_service.active_program(db, patient.id)
    assert program is not None and program.items
    overview = progress_service.overview(db, patient)
    assert overview["streak"]["current_days"] == 6
    set_xp = db.scalar(
        select(func.sum(ProgressEvent.xp)).where(
            ProgressEvent.patient_id == patient.id, ProgressEvent.kind == "set"
        )
    )
    assert overview["overall"]["xp"] == set_xp > 0
    for row in db.scalars(
        select(ExerciseProgress).where(ExerciseProgress.patient_id == patient.id)
    ):
        assert row.level == row.state["level"]
