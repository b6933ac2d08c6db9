"""Progression persisted: exercise_progress rows, explained progress events, the streak.

``finish_set`` is what ending a set runs: it judges the stored repetitions of the set
against the level's target (range of motion, reps, smoothness), feeds the result to the
progression rules (docs/program.md) and stores the new state and every event with its
sentence ("Level 2 -> 3 because ..."). It runs once per set: ending a set again returns the
events already stored.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from openrehab.care import safety
from openrehab.clock import local_date
from openrehab.exercises.library import Library, load_library
from openrehab.exercises.schema import Exercise
from openrehab.program.progression import (
    UNITS_PER_LEVEL,
    PatientProgress,
    RepQuality,
    SetResult,
    new_progress,
    record_patient_set,
    summary,
)
from openrehab.program.progression import ExerciseProgress as Progress
from openrehab.services import ServiceError
from openrehab.store import records
from openrehab.store.models import (
    ExerciseProgress,
    ExerciseSession,
    ExerciseSet,
    PainReport,
    ProgressEvent,
    Repetition,
    User,
    utc_now,
)

#: Events that change what the program should contain (levels, unlocked exercises).
PROGRAM_CHANGING = frozenset({"level_up", "level_down", "pain", "unlock"})


def progress_key_side(side: str) -> str:
    """Progress of bilateral and midline exercises is kept under ``both``."""
    return side if side in ("left", "right") else "both"


# --- loading and saving --------------------------------------------------------------------
def _rows(db: Session, patient_id: int) -> list[ExerciseProgress]:
    return list(
        db.scalars(select(ExerciseProgress).where(ExerciseProgress.patient_id == patient_id))
    )


def _from_row(row: ExerciseProgress, library: Library) -> Progress | None:
    if row.exercise_id not in library:
        return None  # an exercise that left the library: kept in the table, not used
    if row.state:
        try:
            return Progress.from_dict(row.state)
        except (KeyError, TypeError, ValueError):
            pass
    exercise = library.get(row.exercise_id)
    return new_progress(exercise, row.side, row.level)


def days_practised(db: Session, patient_id: int) -> tuple[date, ...]:
    """Local calendar days with at least one finished set that had repetitions."""
    query = (
        select(ExerciseSet.ended_at)
        .join(ExerciseSession, ExerciseSet.session_id == ExerciseSession.id)
        .where(
            ExerciseSession.patient_id == patient_id,
            ExerciseSet.progressed_at.is_not(None),
            ExerciseSet.ended_at.is_not(None),
            exists().where(Repetition.set_id == ExerciseSet.id),
        )
    )
    return tuple(sorted({local_date(ended) for ended in db.scalars(query) if ended}))


def load_state(db: Session, patient_id: int, library: Library | None = None) -> PatientProgress:
    """The patient's whole progression state, as the progression rules use it."""
    library = library or load_library()
    exercises = {}
    for row in _rows(db, patient_id):
        progress = _from_row(row, library)
        if progress is not None:
            exercises[(progress.exercise_id, progress.side)] = progress
    return PatientProgress(exercises, days_practised(db, patient_id))


def progress_levels(db: Session, patient_id: int) -> dict[tuple[str, str], int]:
    return {(row.exercise_id, row.side): row.level for row in _rows(db, patient_id)}


def _row(db: Session, patient_id: int, exercise_id: str, side: str) -> ExerciseProgress | None:
    return db.scalar(
        select(ExerciseProgress).where(
            ExerciseProgress.patient_id == patient_id,
            ExerciseProgress.exercise_id == exercise_id,
            ExerciseProgress.side == side,
        )
    )


def _save(db: Session, patient_id: int, progress: Progress) -> ExerciseProgress:
    row = _row(db, patient_id, progress.exercise_id, progress.side)
    if row is None:
        row = ExerciseProgress(
            patient_id=patient_id, exercise_id=progress.exercise_id, side=progress.side
        )
        db.add(row)
    row.level = progress.level
    row.xp = progress.xp
    row.state = progress.to_dict()
    row.updated_at = utc_now()
    return row


# --- judging a set -------------------------------------------------------------------------
@dataclass(frozen=True)
class SetJudgement:
    """What a set achieved against its level, and the progression input built from it."""

    result: SetResult
    level: int
    needed_excursion: float
    unit: str
    measured_reps: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "reps_target": self.result.reps_target,
            "reps_completed": self.result.reps_completed,
            "reps_reached": self.result.reps_reached,
            "reps_measured": self.measured_reps,
            "needed_excursion": round(self.needed_excursion, 3),
            "unit": self.unit,
            "success": self.result.success,
            "pain_reported": self.result.pain_reported,
        }


def judge_set(
    exercise_set: ExerciseSet,
    exercise: Exercise,
    repetitions: Sequence[Repetition],
    pain_reported: bool = False,
) -> SetJudgement:
    """The progression's SetResult from the stored repetitions of a set.

    A rep reaches the level's target range when its excursion (``rom``, from the value at
    rep start) is at least ``target_range_pct`` of the exercise's rest -> target excursion,
    in the signal's unit; in stretch mode a rep faster than the velocity limit does not count
    as reaching it. Reps without a measured range (manual entry, or another unit) are judged
    on their count only; missed rhythm-game notes (``metrics.judgement == "miss"``) are not
    completed reps, and the share of notes hit stands for the share reaching the target.
    """
    level_number = max(1, min(exercise_set.level, exercise.max_level))
    level = exercise.level(level_number)
    unit = exercise.sensing.unit
    needed = level.target_range_pct / 100.0 * abs(exercise.sensing.target - exercise.sensing.rest)
    measured = [r for r in repetitions if r.rom is not None and r.rom_unit in (None, unit)]
    reached = sum(
        1
        for r in measured
        if abs(r.rom or 0.0) >= needed * (1 - 1e-9)
        and not (exercise_set.mode == "stretch" and r.too_fast)
    )
    # A rhythm-game note that was missed is stored (its timing matters) but is not a rep done.
    missed = sum(1 for r in repetitions if (r.metrics or {}).get("judgement") == "miss")
    completed = len(repetitions) - missed
    # Without any measured range the set is judged on its count (and share of notes hit).
    if measured:
        fraction = reached / len(measured)
    else:
        fraction = completed / len(repetitions) if repetitions else 0.0
    reps_target = exercise_set.target_reps or level.reps_per_set
    result = SetResult(
        reps_target=max(1, reps_target),
        reps_completed=completed,
        target_reached_fraction=min(1.0, max(0.0, fraction)),
        reps=tuple(
            RepQuality(
                rom=abs(r.rom or 0.0), sparc=min(0.0, r.sparc) if r.sparc is not None else None
            )
            for r in measured
        ),
        pain_reported=pain_reported,
        at=exercise_set.ended_at,
    )
    return SetJudgement(result, level_number, needed, unit, len(measured))


def _pain_during(db: Session, exercise_set: ExerciseSet) -> bool:
    """Pain reported in the session while the set ran that stops a set (care.safety rule S1:
    NRS 4 or more, or 2 or more above the pain the session started with)."""
    end = exercise_set.ended_at or utc_now()
    during = db.execute(
        select(PainReport.nrs, PainReport.reported_at).where(
            PainReport.session_id == exercise_set.session_id,
            PainReport.withdrawn_at.is_(None),
            PainReport.reported_at >= exercise_set.started_at,
            PainReport.reported_at <= end,
        )
    ).all()
    session = exercise_set.session
    return any(
        safety.set_must_stop(nrs, records.session_start_nrs(db, session, before=at))
        for nrs, at in during
    )


# --- finishing a set -----------------------------------------------------------------------
def set_events(db: Session, set_id: int) -> list[ProgressEvent]:
    return list(
        db.scalars(
            select(ProgressEvent).where(ProgressEvent.set_id == set_id).order_by(ProgressEvent.id)
        )
    )


def finish_set(
    db: Session,
    exercise_set: ExerciseSet,
    *,
    pain_reported: bool = False,
    library: Library | None = None,
    update_program: bool = True,
) -> list[ProgressEvent]:
    """End the set (if still open) and run the progression on it exactly once.

    Returns the stored events of the set (level changes, unlocks, limb/overall levels, rest
    prompts), each with its explanation. A set without repetitions earns nothing and changes
    no level (an abandoned set is not a failure). When a level changes or an exercise
    unlocks, the active program is rebuilt so it shows the new levels and exercises.
    """
    library = library or load_library()
    # Two sets ended at once must not both add XP to the same stored level.
    records.lock_patient(db, exercise_set.session.patient_id)
    db.refresh(exercise_set)
    if exercise_set.ended_at is None:
        records.end_set(db, exercise_set)
    flagged = pain_reported or exercise_set.pain_reported  # before the reports are read
    # Pain flagged at the end or reported (NRS >= 4) while the set ran is stored on the set,
    # so the stored outcome and every later judgement of the set agree.
    if not exercise_set.pain_reported and exercise_set.progressed_at is None:
        exercise_set.pain_reported = pain_reported or _pain_during(db, exercise_set)
    # Claim the set atomically so two concurrent "end" requests cannot both count it.
    claimed = db.execute(
        update(ExerciseSet)
        .where(ExerciseSet.id == exercise_set.id, ExerciseSet.progressed_at.is_(None))
        .values(progressed_at=utc_now(), pain_reported=exercise_set.pain_reported)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.refresh(exercise_set)
    if claimed != 1:
        return set_events(db, exercise_set.id)
    repetitions = list(
        db.scalars(
            select(Repetition)
            .where(Repetition.set_id == exercise_set.id)
            .order_by(Repetition.index)
        )
    )
    if exercise_set.exercise_id not in library or not repetitions:
        exercise_set.judged_from = {"reps": 0, "pain_flagged": flagged}
        return []  # nothing to judge (an abandoned set is not a failure)
    session = db.get(ExerciseSession, exercise_set.session_id)
    assert session is not None
    patient_id = session.patient_id
    exercise = library.get(exercise_set.exercise_id)
    judgement = judge_set(
        exercise_set,
        exercise,
        repetitions,
        pain_reported=exercise_set.pain_reported,
    )
    side = progress_key_side(exercise_set.side)
    state = load_state(db, patient_id, library)
    before = state.exercises.get((exercise.id, side))
    ended = exercise_set.ended_at or utc_now()
    new_state, events = record_patient_set(
        state, library, exercise.id, side, judgement.result, local_date(ended)
    )
    after = new_state.exercises[(exercise.id, side)]
    _save(db, patient_id, after)
    exercise_set.judged_from = {
        "progress": before.to_dict() if before is not None else None,
        "after": after.to_dict(),
        "pain_flagged": flagged,
    }
    rows = []
    for event in events:
        row = ProgressEvent(
            patient_id=patient_id,
            at=ended,
            exercise_id=event.exercise_id,
            side=event.side,
            set_id=exercise_set.id,
            kind=event.kind,
            from_level=event.from_level,
            to_level=event.to_level,
            xp=event.xp,
            reason=event.reason,
        )
        db.add(row)
        rows.append(row)
    db.flush()
    changing = [e.reason for e in events if e.kind in PROGRAM_CHANGING]
    if update_program and changing:
        from openrehab.services.program import rebuild_after_progress

        patient = db.get(User, patient_id)
        assert patient is not None
        rebuild_after_progress(db, patient, changing)
    return rows


def take_back_pain_judgement(
    db: Session,
    exercise_set: ExerciseSet,
    library: Library | None = None,
    *,
    siblings: Collection[int] = (),
) -> list[ProgressEvent] | None:
    """Judge ``exercise_set`` again without pain, once the score that stopped it was undone and
    given again below rule S1's stop (a one-hand user's mis-tap must not cost a level: the
    progression drops one level for pain, program/progression.py). Returns the set's new
    events, or None when its judgement stands:

    * it was not judged as stopped for pain, or was judged before migration 0008;
    * pain was flagged when it ended (not read from the pain reports);
    * a pain report that stops it remains;
    * any set of the patient was judged since (other than ``siblings``: set ids taken back
      with it), or the exercise's progression changed since (a therapist's level): what
      followed was built on this judgement.

    Otherwise the exercise's progression state is put back as it was before the set, the
    set's events are removed and the set is judged again; the program is rebuilt when levels
    change either way. A set without repetitions only loses its pain mark. The caller holds
    the patient's lock (``records.lock_patient``).
    """
    judged = exercise_set.judged_from
    if (
        not exercise_set.pain_reported
        or exercise_set.progressed_at is None
        or judged is None
        or judged.get("pain_flagged")
        or _pain_during(db, exercise_set)
    ):
        return None
    patient_id = exercise_set.session.patient_id
    side = progress_key_side(exercise_set.side)
    if judged.get("reps") == 0:  # no repetitions: no progression to undo
        exercise_set.pain_reported = False
        return []
    if "after" not in judged:  # judged without the state after it: cannot tell
        return None
    row = _row(db, patient_id, exercise_set.exercise_id, side)
    moved_on = row is None or _as_stored(row.state) != _as_stored(judged["after"])
    if moved_on or _judged_since(db, exercise_set, patient_id, siblings):
        return None
    removed = set_events(db, exercise_set.id)
    for event in removed:
        db.delete(event)
    _restore(db, patient_id, exercise_set.exercise_id, side, judged.get("progress"))
    exercise_set.progressed_at = None
    exercise_set.pain_reported = False
    db.flush()
    events = finish_set(db, exercise_set, library=library, update_program=False)
    why = [e.reason for e in events if e.kind in PROGRAM_CHANGING]
    if why or any(e.kind in PROGRAM_CHANGING for e in removed):
        from openrehab.services.program import rebuild_after_progress

        patient = db.get(User, patient_id)
        assert patient is not None
        rebuild_after_progress(db, patient, why or [PAIN_TAKEN_BACK])
    return events


#: Why the program changed when an undone pain score gives a level back.
PAIN_TAKEN_BACK = "A pain score was undone, so the level it had lowered is back."


def _as_stored(state: Any) -> Any:
    """``state`` as the JSON column gives it back (tuples become lists), to compare."""
    return json.loads(json.dumps(state))


def _judged_since(
    db: Session, exercise_set: ExerciseSet, patient_id: int, siblings: Collection[int] = ()
) -> bool:
    """Whether another set of the patient, not one of ``siblings``, was judged after
    ``exercise_set`` (its limb and overall levels, and the streak, were counted on top of
    this judgement)."""
    later = db.scalar(
        select(ExerciseSet.id)
        .join(ExerciseSession, ExerciseSet.session_id == ExerciseSession.id)
        .where(
            ExerciseSession.patient_id == patient_id,
            ExerciseSet.id.not_in([exercise_set.id, *siblings]),
            ExerciseSet.progressed_at >= exercise_set.progressed_at,
        )
        .limit(1)
    )
    return later is not None


def _restore(
    db: Session, patient_id: int, exercise_id: str, side: str, state: dict[str, Any] | None
) -> None:
    """Put an exercise's stored progression back to ``state`` (None: there was none)."""
    if state is not None:
        _save(db, patient_id, Progress.from_dict(state))
        return
    row = _row(db, patient_id, exercise_id, side)
    if row is not None:
        db.delete(row)


def finish_session(db: Session, exercise_session: ExerciseSession) -> list[ProgressEvent]:
    """End a session: every set still open is finished (with its progression)."""
    events: list[ProgressEvent] = []
    for exercise_set in list(exercise_session.sets):
        if exercise_set.progressed_at is None:
            events += finish_set(db, exercise_set)
    records.end_session(db, exercise_session)
    return events


def set_judgement(db: Session, exercise_set: ExerciseSet) -> SetJudgement | None:
    """How a finished set was judged (recomputed from its stored reps), or None."""
    library = load_library()
    if exercise_set.exercise_id not in library:
        return None
    return judge_set(
        exercise_set,
        library.get(exercise_set.exercise_id),
        list(exercise_set.repetitions),
        exercise_set.pain_reported,
    )


# --- therapist-set levels ------------------------------------------------------------------
def set_level(
    db: Session,
    patient_id: int,
    exercise_id: str,
    side: str,
    level: int,
    *,
    by: User | None,
    reason: str | None,
    library: Library | None = None,
) -> ProgressEvent | None:
    """A therapist puts an exercise at ``level`` (bottom of it); XP and history are kept."""
    library = library or load_library()
    exercise = library.get(exercise_id)
    if not 1 <= level <= exercise.max_level:
        raise ServiceError(f"{exercise.name} has levels 1 to {exercise.max_level}", "level")
    side = progress_key_side(side)
    state = load_state(db, patient_id, library)
    current = state.exercises.get((exercise_id, side)) or new_progress(exercise, side)
    before = current.level if (exercise_id, side) in state.exercises else 1
    if (exercise_id, side) in state.exercises and before == level:
        return None
    updated = replace(current, units=(level - 1) * UNITS_PER_LEVEL)
    _save(db, patient_id, updated)
    who = f"your therapist {by.display_name}" if by else "your therapist"
    event = ProgressEvent(
        patient_id=patient_id,
        at=utc_now(),
        exercise_id=exercise_id,
        side=side,
        kind="therapist_level",
        from_level=before,
        to_level=level,
        xp=0,
        reason=f"{exercise.name} level {before} -> {level} because {who} set it"
        + (f": {reason}" if reason else "."),
    )
    db.add(event)
    db.flush()
    return event


# --- what the pages and the API show -------------------------------------------------------
def recent_events(
    db: Session, patient_id: int, limit: int = 20, kinds: Sequence[str] | None = None
) -> list[ProgressEvent]:
    query = select(ProgressEvent).where(ProgressEvent.patient_id == patient_id)
    if kinds is not None:
        query = query.where(ProgressEvent.kind.in_(kinds))
    return list(
        db.scalars(query.order_by(ProgressEvent.at.desc(), ProgressEvent.id.desc()).limit(limit))
    )


def overview(
    db: Session,
    patient: User,
    *,
    today: date | None = None,
    daily_target: int | None = None,
    events_limit: int = 20,
    library: Library | None = None,
) -> dict[str, Any]:
    """Levels per exercise and side, limb and overall levels, streak, reps today, events."""
    library = library or load_library()
    today = today or local_date()
    state = load_state(db, patient.id, library)
    totals = summary(state, library, today)
    exercises = []
    for (exercise_id, side), progress in sorted(state.exercises.items()):
        exercise = library.get(exercise_id)
        last = progress.history[-1] if progress.history else None
        exercises.append(
            {
                "exercise_id": exercise_id,
                "name": exercise.name,
                "side": side,
                "level": progress.level,
                "max_level": progress.max_level,
                "xp": progress.xp,
                "sets_done": progress.sets_done,
                "last_set_success": last.success if last else None,
            }
        )
    target = daily_target
    if target is None:
        from openrehab.services.program import active_program

        program = active_program(db, patient.id)
        if program is not None:
            target = program.daily_rep_target
        else:
            target = patient.profile.daily_rep_target if patient.profile else 300
    reps_today = records.reps_on_day(db, patient.id, today)
    return {
        "overall": totals["overall"],
        "limbs": totals["limbs"],
        "streak": totals["streak"],
        "today": {
            "date": today.isoformat(),
            "reps": reps_today,
            "target": target,
            "percent": min(100, round(100 * reps_today / target)) if target else 100,
        },
        "exercises": exercises,
        "events": recent_events(db, patient.id, events_limit),
    }
