"""How ending a set judges it: too-fast stretches and pain during the set (stored rows).

Each test stores real sessions, sets, repetitions and pain reports, ends the set through
``finish_set`` and reads back what was stored (progress history, XP, events).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from service_helpers import do_set, progress_row
from sqlalchemy.orm import Session

from openrehab.program.planner import MODERATE_PAIN_NRS
from openrehab.services import progress as progress_service
from openrehab.store.models import ExerciseSet, PainReport
from support import World

STRETCH = "elbow_flexor_slow_stretch"  # 3 holds at level 1, max 15 deg/s
ACTIVE = "elbow_flexion"  # 8 reps at level 1
#: A fixed time for sets whose window matters (started_at = AT, ended_at = AT + 2 min).
AT = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def _last_set(db: Session, patient_id: int, exercise_id: str) -> dict[str, object]:
    """The newest set in the stored progress history of ``exercise_id`` (left side)."""
    history = progress_row(db, patient_id, exercise_id).state["history"]
    return history[-1]


# --- too-fast stretches --------------------------------------------------------------------
def test_a_too_fast_stretch_never_reaches_the_target(db: Session, world: World) -> None:
    """Rule R5: in stretch mode a rep faster than the velocity limit does not count toward
    the target, however far it went. Spastic reflex resistance grows with stretch velocity
    (Lance 1980), so a fast stretch provokes the reflex it is meant to calm: rewarding it
    would teach the patient to stretch fast. The rep is still counted as done.

    Every pattern of fast and slow holds in a 3-hold set, each a stored set of its own."""
    p = world.ids["patient_p"]
    xp = 0
    for too_fast in itertools.product([False, True], repeat=3):
        exercise_set = do_set(db, p, STRETCH, mode="stretch", reached=1.0, too_fast=too_fast)
        events = progress_service.finish_set(db, exercise_set)
        slow = too_fast.count(False)
        last = _last_set(db, p, STRETCH)
        assert (last["reps_completed"], last["reps_reached"]) == (3, slow), too_fast
        assert last["success"] is (slow == 3), too_fast  # 2 of 3 is under the 80% needed
        assert (
            events[0].reason == f"+{3 + slow} points: 3 reps done, {slow} reached the target range."
        )
        xp += 3 + slow
        assert progress_row(db, p, STRETCH).xp == xp, too_fast


def test_too_fast_has_no_effect_outside_stretch_mode(db: Session, world: World) -> None:
    """The velocity limit belongs to stretching only (the motion engine sets it for stretch
    items, docs/program.md): in active mode a brisk rep that reaches the range counts."""
    p = world.ids["patient_p"]
    exercise_set = do_set(db, p, ACTIVE, mode="active", reached=1.0, too_fast=[True] * 8)
    progress_service.finish_set(db, exercise_set)
    last = _last_set(db, p, ACTIVE)
    assert (last["reps_completed"], last["reps_reached"], last["success"]) == (8, 8, True)
    assert progress_row(db, p, ACTIVE).xp == 16


# --- pain reported during the set ----------------------------------------------------------
def _report_pain(
    db: Session, exercise_set: ExerciseSet, nrs: int, at: datetime, session_id: int | None = None
) -> None:
    db.add(
        PainReport(
            patient_id=exercise_set.session.patient_id,
            nrs=nrs,
            session_id=exercise_set.session_id if session_id is None else session_id,
            reported_at=at,
        )
    )
    db.flush()


def _finished_with_pain(db: Session, patient_id: int, nrs: int, at: datetime) -> bool:
    """End a successful set (AT to AT + 2 min) after a pain report; was pain counted?"""
    exercise_set = do_set(db, patient_id, ACTIVE, reached=1.0, at=AT)
    assert exercise_set.ended_at == AT + timedelta(minutes=2)
    _report_pain(db, exercise_set, nrs, at)
    events = progress_service.finish_set(db, exercise_set)
    pain = [e for e in events if e.kind == "pain"]
    success = _last_set(db, patient_id, ACTIVE)["success"]
    assert (not pain) is success, (events, success)  # pain and success exclude each other
    # The set's stored outcome, and the judgement the set-end answer is built from, agree.
    judgement = progress_service.set_judgement(db, exercise_set)
    assert judgement is not None
    assert (exercise_set.pain_reported, judgement.result.pain_reported) == (bool(pain),) * 2
    assert judgement.to_dict()["success"] is success
    return bool(pain)


def test_pain_of_nrs_4_or_more_during_the_set_counts_as_pain(db: Session, world: World) -> None:
    """Rule R8: a pain report of NRS >= 4 (moderate, Serlin et al. 1995) tied to the session
    while the set ran makes the set a pain set: it never succeeds and drops the level, so
    the patient is not pushed harder into pain. NRS 3 or less (mild) does not."""
    p = world.ids["patient_p"]
    during = AT + timedelta(minutes=1)
    counted = {nrs: _finished_with_pain(db, p, nrs, during) for nrs in range(11)}
    assert counted == {nrs: nrs >= 4 for nrs in range(11)}


def test_only_pain_reported_while_the_set_ran_counts(db: Session, world: World) -> None:
    """Pain belongs to a set only between its start and its end, both included: a report
    from before the set (another exercise) or after it (a later one) says nothing about it."""
    p = world.ids["patient_p"]
    expected = {
        timedelta(seconds=-1): False,  # before the set started
        timedelta(0): True,  # exactly when it started
        timedelta(minutes=2): True,  # exactly when it ended
        timedelta(minutes=2, seconds=1): False,  # after it ended
    }
    for nrs in (MODERATE_PAIN_NRS, 10):
        counted = {offset: _finished_with_pain(db, p, nrs, AT + offset) for offset in expected}
        assert counted == expected, f"NRS {nrs}"


def test_pain_tied_to_another_session_does_not_count(db: Session, world: World) -> None:
    """Only reports tied to the set's own session count, even at the same moment."""
    p = world.ids["patient_p"]
    other = do_set(db, p, ACTIVE, at=AT)
    exercise_set = do_set(db, p, ACTIVE, reached=1.0, at=AT)
    _report_pain(db, exercise_set, 10, AT + timedelta(minutes=1), session_id=other.session_id)
    events = progress_service.finish_set(db, exercise_set)
    assert not [e for e in events if e.kind == "pain"]
    assert _last_set(db, p, ACTIVE)["success"] is True


def test_a_judged_set_keeps_its_outcome_when_ended_again(db: Session, world: World) -> None:
    """Ending a set twice (a retry, a second device) judges it once: pain reported after the
    first end does not rewrite the stored outcome, and pain already stored stays."""
    p = world.ids["patient_p"]
    exercise_set = do_set(db, p, ACTIVE, reached=1.0, at=AT)
    first = progress_service.finish_set(db, exercise_set)
    assert not exercise_set.pain_reported and not [e for e in first if e.kind == "pain"]
    _report_pain(db, exercise_set, 8, AT + timedelta(minutes=1))
    again = progress_service.finish_set(db, exercise_set)
    db.refresh(exercise_set)
    assert not exercise_set.pain_reported
    assert [e.id for e in again] == [e.id for e in first]
    assert _last_set(db, p, ACTIVE)["success"] is True

    flagged = do_set(db, p, ACTIVE, reached=1.0, at=AT + timedelta(hours=1))
    flagged.pain_reported = True  # flagged when it was ended, judged later
    db.flush()
    events = progress_service.finish_set(db, flagged, pain_reported=False)
    db.refresh(flagged)
    assert flagged.pain_reported and [e for e in events if e.kind == "pain"]
