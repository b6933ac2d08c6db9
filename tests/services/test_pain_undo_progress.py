"""Undoing a mis-tapped pain score takes back the pain judgement of the set it stopped.

A pain score of 4 or more during a set stops it and drops the exercise one level (care.safety
rule S1, program/progression.py). A one-hand user who mis-taps can undo the score for a
minute (services.clinical.withdraw_pain): the set is then judged again as if the score had
never been given. The judgement stands when pain was flagged explicitly, when another report
still stops the set, or when the exercise was judged again since.
"""

from __future__ import annotations

from service_helpers import do_set, give_profile, progress_row
from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.services import clinical
from openrehab.services import program as program_service
from openrehab.services import progress as progress_service
from openrehab.store.models import (
    AuditLog,
    ExerciseProgress,
    ExerciseSet,
    Program,
    ProgramItem,
    User,
)
from support import World

EXERCISE = "elbow_flexion"


def _patient(db: Session, world: World) -> User:
    patient = db.get(User, world.ids["patient_p"])
    assert patient is not None
    return patient


def _pain_stopped_set(db: Session, patient: User, nrs: int = 6) -> tuple[ExerciseSet, int]:
    """A good set at level 3, stopped by a pain tap; (the set, the report's id)."""
    exercise_set = do_set(db, patient.id, level=3, reached=1.0)
    report = clinical.record_pain(db, patient, patient, nrs, session_id=exercise_set.session_id)
    events = progress_service.finish_set(db, exercise_set)
    assert [e.kind for e in events if e.kind == "pain"] == ["pain"]
    assert progress_row(db, patient.id, EXERCISE).level == 2
    return exercise_set, report.report.id


def _kinds(db: Session, exercise_set: ExerciseSet) -> list[str]:
    return [e.kind for e in progress_service.set_events(db, exercise_set.id)]


def _taken_back(db: Session, exercise_set: ExerciseSet) -> list[str]:
    """The audit log's entries about ``exercise_set``."""
    return list(
        db.scalars(
            select(AuditLog.action).where(
                AuditLog.target_type == "exercise_set", AuditLog.target_id == str(exercise_set.id)
            )
        )
    )


def test_undoing_the_pain_tap_gives_the_level_back_and_judges_the_set_again(
    db: Session, world: World
) -> None:
    patient = _patient(db, world)
    progress_service.set_level(db, patient.id, EXERCISE, "left", 3, by=None, reason=None)
    before = progress_row(db, patient.id, EXERCISE).state
    exercise_set, report_id = _pain_stopped_set(db, patient)
    clinical.withdraw_pain(db, patient, patient, report_id)
    db.commit()
    row = progress_row(db, patient.id, EXERCISE)
    assert row.level == 3, "the level the pain took is back"
    earned = [e.xp for e in progress_service.set_events(db, exercise_set.id) if e.kind == "set"]
    assert earned == [20] and row.xp == before["xp"] + 20, "the set's XP is counted once"
    assert row.state["sets_done"] == before["sets_done"] + 1
    assert "pain" not in _kinds(db, exercise_set) and _kinds(db, exercise_set)[0] == "set"
    assert exercise_set.pain_reported is False and exercise_set.progressed_at is not None
    judgement = progress_service.set_judgement(db, exercise_set)
    assert judgement is not None and judgement.result.success
    assert _taken_back(db, exercise_set) == ["set.pain_taken_back"]


def test_a_first_set_undone_leaves_one_sets_progress(db: Session, world: World) -> None:
    """No stored progress before the set: it is judged again from scratch, not twice."""
    patient = _patient(db, world)
    exercise_set = do_set(db, patient.id, reached=1.0)
    report = clinical.record_pain(db, patient, patient, 5, session_id=exercise_set.session_id)
    progress_service.finish_set(db, exercise_set)
    clinical.withdraw_pain(db, patient, patient, report.report.id)
    rows = db.scalars(
        select(ExerciseProgress).where(
            ExerciseProgress.patient_id == patient.id, ExerciseProgress.exercise_id == EXERCISE
        )
    ).all()
    assert [(r.xp, r.state["sets_done"], r.state["units"]) for r in rows] == [(16, 1, 1)]
    assert "pain" not in _kinds(db, exercise_set)


def test_the_program_shows_the_level_given_back(db: Session, world: World) -> None:
    patient = give_profile(db, world.ids["patient_p"])
    progress_service.set_level(db, patient.id, EXERCISE, "left", 3, by=None, reason=None)
    program_service.build_program(db, patient, by=None)

    def program_level() -> set[int]:
        db.expire_all()
        levels = db.scalars(
            select(ProgramItem.level)
            .join(Program, ProgramItem.program_id == Program.id)
            .where(
                Program.patient_id == patient.id,
                Program.active,
                ProgramItem.exercise_id == EXERCISE,
                ProgramItem.side == "left",
            )
        )
        return set(levels)

    assert program_level() == {3}
    _, report_id = _pain_stopped_set(db, patient, nrs=4)
    assert program_level() == {2}
    clinical.withdraw_pain(db, patient, patient, report_id)
    assert program_level() == {3}


def test_the_judgement_stands_when_pain_was_flagged_when_the_set_ended(
    db: Session, world: World
) -> None:
    patient = _patient(db, world)
    progress_service.set_level(db, patient.id, EXERCISE, "left", 3, by=None, reason=None)
    exercise_set = do_set(db, patient.id, level=3)
    report = clinical.record_pain(db, patient, patient, 6, session_id=exercise_set.session_id)
    progress_service.finish_set(db, exercise_set, pain_reported=True)
    clinical.withdraw_pain(db, patient, patient, report.report.id)
    assert progress_row(db, patient.id, EXERCISE).level == 2
    assert "pain" in _kinds(db, exercise_set) and exercise_set.pain_reported


def test_the_judgement_stands_while_another_report_stops_the_set(db: Session, world: World) -> None:
    patient = _patient(db, world)
    progress_service.set_level(db, patient.id, EXERCISE, "left", 3, by=None, reason=None)
    exercise_set = do_set(db, patient.id, level=3)
    first = clinical.record_pain(db, patient, patient, 6, session_id=exercise_set.session_id)
    clinical.record_pain(db, patient, patient, 5, session_id=exercise_set.session_id)
    progress_service.finish_set(db, exercise_set)
    events = [e.id for e in progress_service.set_events(db, exercise_set.id)]
    clinical.withdraw_pain(db, patient, patient, first.report.id)
    assert progress_row(db, patient.id, EXERCISE).level == 2
    assert [e.id for e in progress_service.set_events(db, exercise_set.id)] == events
    assert _taken_back(db, exercise_set) == []


def test_a_mild_score_that_stopped_nothing_changes_no_set(db: Session, world: World) -> None:
    """Pain 3 (under rule S1's 4, and not 2 above the session's start) stops no set: its
    undo leaves the set's judgement and events as they were."""
    patient = _patient(db, world)
    exercise_set = do_set(db, patient.id, reached=1.0)
    report = clinical.record_pain(db, patient, patient, 1, session_id=exercise_set.session_id)
    clinical.withdraw_pain(db, patient, patient, report.report.id)
    exercise_set = do_set(db, patient.id, reached=1.0)
    mild = clinical.record_pain(db, patient, patient, 3, session_id=exercise_set.session_id)
    events = [e.id for e in progress_service.finish_set(db, exercise_set)]
    clinical.withdraw_pain(db, patient, patient, mild.report.id)
    assert [e.id for e in progress_service.set_events(db, exercise_set.id)] == events
    assert exercise_set.pain_reported is False


def test_the_judgement_stands_once_the_exercise_was_judged_again(db: Session, world: World) -> None:
    patient = _patient(db, world)
    progress_service.set_level(db, patient.id, EXERCISE, "left", 3, by=None, reason=None)
    exercise_set, report_id = _pain_stopped_set(db, patient)
    progress_service.finish_set(db, do_set(db, patient.id, level=2, reached=1.0))
    clinical.withdraw_pain(db, patient, patient, report_id)
    assert progress_row(db, patient.id, EXERCISE).level == 2
    assert "pain" in _kinds(db, exercise_set)


def test_the_other_side_judged_since_does_not_keep_the_judgement(db: Session, world: World) -> None:
    patient = _patient(db, world)
    progress_service.set_level(db, patient.id, EXERCISE, "left", 3, by=None, reason=None)
    exercise_set, report_id = _pain_stopped_set(db, patient)
    progress_service.finish_set(db, do_set(db, patient.id, side="right", reached=1.0))
    clinical.withdraw_pain(db, patient, patient, report_id)
    assert progress_row(db, patient.id, EXERCISE).level == 3
    assert "pain" not in _kinds(db, exercise_set)


def test_a_set_judged_before_the_undo_record_existed_keeps_its_judgement(
    db: Session, world: World
) -> None:
    patient = _patient(db, world)
    progress_service.set_level(db, patient.id, EXERCISE, "left", 3, by=None, reason=None)
    exercise_set, report_id = _pain_stopped_set(db, patient)
    exercise_set.judged_from = None  # as judged before migration 0008
    db.flush()
    clinical.withdraw_pain(db, patient, patient, report_id)
    assert progress_row(db, patient.id, EXERCISE).level == 2
