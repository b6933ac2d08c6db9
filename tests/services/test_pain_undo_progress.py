"""A mis-tapped pain score, undone and given again, decides the judgement of the set it stopped.

A pain score of 4 or more during a set stops it and drops the exercise one level (care.safety
rule S1, program/progression.py). A one-hand user who mis-taps can undo the score for a
minute (services.clinical.withdraw_pain) and is asked again: the first score given after the
undo decides (services.clinical.record_pain). Below rule S1's stop, the set is judged again
as if the pain had not been reported; at or above it, or with no new score, the judgement
stands. It also stands when pain was flagged explicitly, another report still stops the set,
or anything was judged on top of it since.
"""

from __future__ import annotations

from datetime import timedelta

from service_helpers import do_set, give_profile, progress_row
from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.services import clinical
from openrehab.services import program as program_service
from openrehab.services import progress as progress_service
from openrehab.store import records
from openrehab.store.models import (
    AuditLog,
    ExerciseProgress,
    ExerciseSet,
    PainReport,
    Program,
    ProgramItem,
    User,
)
from support import World

EXERCISE = "elbow_flexion"


def _patient(db: Session, world: World, level: int | None = 3) -> User:
    patient = db.get(User, world.ids["patient_p"])
    assert patient is not None
    if level is not None:
        progress_service.set_level(db, patient.id, EXERCISE, "left", level, by=None, reason=None)
    return patient


def _pain_stopped_set(
    db: Session, patient: User, nrs: int = 6, exercise_id: str = EXERCISE, side: str = "left"
) -> tuple[ExerciseSet, int]:
    """A good set at level 3, stopped by a pain tap; (the set, the report's id)."""
    exercise_set = do_set(db, patient.id, exercise_id, side, level=3, reached=1.0)
    report = clinical.record_pain(db, patient, patient, nrs, session_id=exercise_set.session_id)
    events = progress_service.finish_set(db, exercise_set)
    assert [e.kind for e in events if e.kind == "pain"] == ["pain"]
    return exercise_set, report.report.id


def _undo_and_answer(
    db: Session, patient: User, exercise_set: ExerciseSet, report_id: int, nrs: int
) -> clinical.PainResult:
    clinical.withdraw_pain(db, patient, patient, report_id)
    return clinical.record_pain(db, patient, patient, nrs, session_id=exercise_set.session_id)


def _kinds(db: Session, exercise_set: ExerciseSet) -> list[str]:
    return [e.kind for e in progress_service.set_events(db, exercise_set.id)]


def _audited(db: Session, exercise_set: ExerciseSet) -> list[str]:
    """The audit log's entries about ``exercise_set``."""
    return list(
        db.scalars(
            select(AuditLog.action).where(
                AuditLog.target_type == "exercise_set", AuditLog.target_id == str(exercise_set.id)
            )
        )
    )


def test_a_mild_score_given_again_gives_the_level_back_and_judges_the_set_again(
    db: Session, world: World
) -> None:
    patient = _patient(db, world)
    before = progress_row(db, patient.id, EXERCISE).state
    exercise_set, report_id = _pain_stopped_set(db, patient)
    assert progress_row(db, patient.id, EXERCISE).level == 2
    answer = _undo_and_answer(db, patient, exercise_set, report_id, 2)
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
    assert [(i, [e.kind for e in ev]) for i, ev in answer.sets_judged_again] == [
        (exercise_set.id, _kinds(db, exercise_set))
    ]
    assert _audited(db, exercise_set) == ["set.pain_taken_back"]


def test_an_undo_alone_keeps_the_judgement_until_the_score_is_given_again(
    db: Session, world: World
) -> None:
    patient = _patient(db, world)
    exercise_set, report_id = _pain_stopped_set(db, patient)
    clinical.withdraw_pain(db, patient, patient, report_id)
    assert progress_row(db, patient.id, EXERCISE).level == 2
    assert "pain" in _kinds(db, exercise_set) and exercise_set.pain_reported


def test_a_score_given_again_that_still_stops_a_set_keeps_the_judgement(
    db: Session, world: World
) -> None:
    """6 was a mis-tap for 5: 5 still stops a set (rule S1), so the level stays down."""
    patient = _patient(db, world)
    exercise_set, report_id = _pain_stopped_set(db, patient)
    answer = _undo_and_answer(db, patient, exercise_set, report_id, 5)
    assert answer.advice.stop_set and answer.sets_judged_again == []
    assert progress_row(db, patient.id, EXERCISE).level == 2
    assert "pain" in _kinds(db, exercise_set) and exercise_set.pain_reported


def test_a_rise_of_two_above_the_sessions_start_also_keeps_it(db: Session, world: World) -> None:
    """Rule S1's other half: the session started at 1, the score given again is 3."""
    patient = _patient(db, world)
    exercise_set = do_set(db, patient.id, level=3, reached=1.0)
    session_id = exercise_set.session_id
    start = clinical.record_pain(db, patient, patient, 1, session_id=session_id)
    start.report.reported_at -= timedelta(seconds=30)
    exercise_set.started_at = start.report.reported_at + timedelta(seconds=1)
    tap = clinical.record_pain(db, patient, patient, 6, session_id=session_id)
    progress_service.finish_set(db, exercise_set)
    answer = _undo_and_answer(db, patient, exercise_set, tap.report.id, 3)
    assert answer.advice.stop_set and answer.sets_judged_again == []
    assert "pain" in _kinds(db, exercise_set)


def test_only_the_first_score_after_the_undo_answers_for_it(db: Session, world: World) -> None:
    patient = _patient(db, world)
    exercise_set, report_id = _pain_stopped_set(db, patient)
    _undo_and_answer(db, patient, exercise_set, report_id, 5)
    later = clinical.record_pain(db, patient, patient, 1, session_id=exercise_set.session_id)
    assert later.sets_judged_again == [] and "pain" in _kinds(db, exercise_set)


def test_a_score_given_after_the_correction_window_does_not_answer(
    db: Session, world: World
) -> None:
    patient = _patient(db, world)
    exercise_set, report_id = _pain_stopped_set(db, patient)
    undone = clinical.withdraw_pain(db, patient, patient, report_id)
    late = clinical.PAIN_CORRECTION_WINDOW + timedelta(seconds=1)
    assert undone.withdrawn_at is not None
    undone.reported_at, undone.withdrawn_at = undone.reported_at - late, undone.withdrawn_at - late
    exercise_set.started_at = undone.reported_at - timedelta(seconds=1)
    db.flush()
    late = clinical.record_pain(db, patient, patient, 1, session_id=exercise_set.session_id)
    assert late.sets_judged_again == [] and "pain" in _kinds(db, exercise_set)


def test_a_score_given_by_someone_else_does_not_answer(db: Session, world: World) -> None:
    patient = _patient(db, world)
    carer = db.get(User, world.ids["caregiver_c"])
    assert carer is not None
    exercise_set, report_id = _pain_stopped_set(db, patient)
    clinical.withdraw_pain(db, patient, patient, report_id)
    other = clinical.record_pain(db, patient, carer, 1, session_id=exercise_set.session_id)
    assert other.sets_judged_again == [] and "pain" in _kinds(db, exercise_set)


def test_a_first_set_taken_back_leaves_one_sets_progress(db: Session, world: World) -> None:
    """No stored progress before the set: it is judged again from scratch, not twice."""
    patient = _patient(db, world, level=None)
    exercise_set = do_set(db, patient.id, reached=1.0)
    report = clinical.record_pain(db, patient, patient, 5, session_id=exercise_set.session_id)
    progress_service.finish_set(db, exercise_set)
    _undo_and_answer(db, patient, exercise_set, report.report.id, 0)
    rows = db.scalars(
        select(ExerciseProgress).where(
            ExerciseProgress.patient_id == patient.id, ExerciseProgress.exercise_id == EXERCISE
        )
    ).all()
    assert [(r.xp, r.state["sets_done"], r.state["units"]) for r in rows] == [(16, 1, 1)]
    assert "pain" not in _kinds(db, exercise_set)


def test_a_midline_exercise_kept_under_both_sides_is_taken_back(db: Session, world: World) -> None:
    patient = _patient(db, world, level=None)
    exercise_set = do_set(db, patient.id, "trunk_forward_lean", "both", reached=1.0)
    report = clinical.record_pain(db, patient, patient, 6, session_id=exercise_set.session_id)
    progress_service.finish_set(db, exercise_set)
    assert "pain" in _kinds(db, exercise_set)
    answer = _undo_and_answer(db, patient, exercise_set, report.report.id, 1)
    assert [i for i, _ in answer.sets_judged_again] == [exercise_set.id]
    assert "pain" not in _kinds(db, exercise_set)
    row = progress_row(db, patient.id, "trunk_forward_lean", side="both")
    assert row.state["sets_done"] == 1


def test_the_program_shows_the_level_given_back(db: Session, world: World) -> None:
    patient = give_profile(db, world.ids["patient_p"])
    _patient(db, world)
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
    exercise_set, report_id = _pain_stopped_set(db, patient, nrs=4)
    assert program_level() == {2}
    _undo_and_answer(db, patient, exercise_set, report_id, 1)
    assert program_level() == {3}


def test_the_judgement_stands_when_pain_was_flagged_when_the_set_ended(
    db: Session, world: World
) -> None:
    patient = _patient(db, world)
    exercise_set = do_set(db, patient.id, level=3)
    report = clinical.record_pain(db, patient, patient, 6, session_id=exercise_set.session_id)
    progress_service.finish_set(db, exercise_set, pain_reported=True)
    _undo_and_answer(db, patient, exercise_set, report.report.id, 1)
    assert progress_row(db, patient.id, EXERCISE).level == 2
    assert "pain" in _kinds(db, exercise_set) and exercise_set.pain_reported


def test_the_judgement_stands_while_another_report_stops_the_set(db: Session, world: World) -> None:
    patient = _patient(db, world)
    exercise_set = do_set(db, patient.id, level=3)
    first = clinical.record_pain(db, patient, patient, 6, session_id=exercise_set.session_id)
    clinical.record_pain(db, patient, patient, 5, session_id=exercise_set.session_id)
    progress_service.finish_set(db, exercise_set)
    events = [e.id for e in progress_service.set_events(db, exercise_set.id)]
    _undo_and_answer(db, patient, exercise_set, first.report.id, 1)
    assert progress_row(db, patient.id, EXERCISE).level == 2
    assert [e.id for e in progress_service.set_events(db, exercise_set.id)] == events
    assert _audited(db, exercise_set) == []


def test_the_judgement_stands_once_another_set_was_judged(db: Session, world: World) -> None:
    """Even another exercise's set: limb and overall levels were counted on top of it."""
    patient = _patient(db, world)
    exercise_set, report_id = _pain_stopped_set(db, patient)
    progress_service.finish_set(db, do_set(db, patient.id, "elbow_extension", reached=1.0))
    _undo_and_answer(db, patient, exercise_set, report_id, 1)
    assert progress_row(db, patient.id, EXERCISE).level == 2
    assert "pain" in _kinds(db, exercise_set)


def test_the_judgement_stands_once_the_therapist_changed_the_level(
    db: Session, world: World
) -> None:
    patient = _patient(db, world)
    exercise_set, report_id = _pain_stopped_set(db, patient)
    progress_service.set_level(db, patient.id, EXERCISE, "left", 1, by=None, reason="review")
    _undo_and_answer(db, patient, exercise_set, report_id, 1)
    assert progress_row(db, patient.id, EXERCISE).level == 1, "the therapist's level stays"
    assert "pain" in _kinds(db, exercise_set)


def test_a_set_judged_before_the_undo_record_existed_keeps_its_judgement(
    db: Session, world: World
) -> None:
    patient = _patient(db, world)
    exercise_set, report_id = _pain_stopped_set(db, patient)
    exercise_set.judged_from = None  # as judged before migration 0008
    db.flush()
    _undo_and_answer(db, patient, exercise_set, report_id, 1)
    assert progress_row(db, patient.id, EXERCISE).level == 2


def test_a_set_without_reps_loses_only_its_pain_mark(db: Session, world: World) -> None:
    """ "It hurts" at once, a mis-tap, undone and answered 1: no progression to undo, but the
    set must not say it was stopped for pain (the next session would ask about pain first)."""
    patient = _patient(db, world)
    empty = records.start_set(
        db, records.start_session(db, patient.id), exercise_id=EXERCISE, side="left", mode="active"
    )
    report = clinical.record_pain(db, patient, patient, 6, session_id=empty.session_id)
    assert progress_service.finish_set(db, empty) == [] and empty.pain_reported
    answer = _undo_and_answer(db, patient, empty, report.report.id, 1)
    assert answer.sets_judged_again == [(empty.id, [])] and empty.pain_reported is False
    assert progress_row(db, patient.id, EXERCISE).level == 3


def test_a_score_given_at_the_sets_first_and_last_instant_stops_it(
    db: Session, world: World
) -> None:
    """The set's window includes its ends: a report at its start or its end is in it."""
    patient = _patient(db, world)
    for at_end in (False, True):
        exercise_set = do_set(db, patient.id, level=3, reached=1.0)
        report = clinical.record_pain(db, patient, patient, 6, session_id=exercise_set.session_id)
        progress_service.finish_set(db, exercise_set)
        edge = exercise_set.ended_at if at_end else exercise_set.started_at
        stored = db.get(PainReport, report.report.id)
        assert stored is not None and edge is not None
        stored.reported_at = edge
        db.flush()
        answer = _undo_and_answer(db, patient, exercise_set, report.report.id, 1)
        assert [i for i, _ in answer.sets_judged_again] == [exercise_set.id]


def test_two_mis_taps_in_a_row_are_answered_by_the_next_score(db: Session, world: World) -> None:
    """6 by mistake (stops the set), undone; 7 by mistake again (the set had ended), undone;
    then 2: it answers for both, and the set the 6 stopped is judged again."""
    patient = _patient(db, world)
    exercise_set, report_id = _pain_stopped_set(db, patient)
    second = _undo_and_answer(db, patient, exercise_set, report_id, 7)
    assert second.sets_judged_again == []
    answer = _undo_and_answer(db, patient, exercise_set, second.report.id, 2)
    assert [i for i, _ in answer.sets_judged_again] == [exercise_set.id]
    assert progress_row(db, patient.id, EXERCISE).level == 3


def test_a_score_someone_else_gave_after_the_undo_keeps_the_judgement(
    db: Session, world: World
) -> None:
    """The carer answered in between (their own score, 5): the patient's 1 then answers for
    nothing; the pain the carer reported stands."""
    patient = _patient(db, world)
    carer = db.get(User, world.ids["caregiver_c"])
    assert carer is not None
    exercise_set, report_id = _pain_stopped_set(db, patient)
    clinical.withdraw_pain(db, patient, patient, report_id)
    clinical.record_pain(db, patient, carer, 5, session_id=exercise_set.session_id)
    answer = clinical.record_pain(db, patient, patient, 1, session_id=exercise_set.session_id)
    assert answer.sets_judged_again == [] and "pain" in _kinds(db, exercise_set)


def test_every_set_one_mis_tap_stopped_is_judged_again(db: Session, world: World) -> None:
    """Two sets open at once (two devices: left and right), one 6 stops both: both are
    judged again (taking one back does not count as a set judged since for the other)."""
    patient = _patient(db, world)
    left = do_set(db, patient.id, level=3, reached=1.0)
    session = left.session
    right = records.start_set(db, session, exercise_id=EXERCISE, side="right", mode="active")
    records.add_repetitions(db, right, [{"start_s": 0.0, "end_s": 2.0, "rom": 120.0}])
    tap = clinical.record_pain(db, patient, patient, 6, session_id=session.id)
    progress_service.finish_set(db, left)
    progress_service.finish_set(db, right)
    assert "pain" in _kinds(db, left) and "pain" in _kinds(db, right)
    answer = _undo_and_answer(db, patient, left, tap.report.id, 1)
    assert sorted(i for i, _ in answer.sets_judged_again) == sorted([left.id, right.id])
    assert "pain" not in _kinds(db, left) + _kinds(db, right)


def test_a_set_judged_without_the_state_after_it_keeps_everything(
    db: Session, world: World
) -> None:
    """A judgement recorded with only the state before it (as the first version of this
    record did) cannot tell whether anything changed since: it stands, pain mark included."""
    patient = _patient(db, world)
    exercise_set, report_id = _pain_stopped_set(db, patient)
    assert exercise_set.judged_from is not None
    exercise_set.judged_from = {k: v for k, v in exercise_set.judged_from.items() if k != "after"}
    db.flush()
    answer = _undo_and_answer(db, patient, exercise_set, report_id, 1)
    assert answer.sets_judged_again == [] and exercise_set.pain_reported
    assert progress_row(db, patient.id, EXERCISE).level == 2
