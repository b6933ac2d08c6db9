"""Services over the store: exercise sessions, sets and repetitions, persisted as they happen.

A live session calls ``add_repetitions`` after every repetition the motion engine reports, so a
crash or a closed browser loses at most the repetition in progress.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from openrehab.clock import day_bounds, local_date
from openrehab.store.db import take_sqlite_write_lock
from openrehab.store.models import (
    ExerciseSession,
    ExerciseSet,
    PainReport,
    Repetition,
    User,
    utc_now,
)

T = TypeVar("T")

# Metrics with a column of their own; any other key a client sends is kept in ``metrics``.
REPETITION_FIELDS = frozenset(
    column.name
    for column in Repetition.__table__.columns
    if column.name not in {"id", "set_id", "index", "metrics", "recorded_at"}
)


#: Without a report in the session, the session's starting pain is the latest report made
#: this long before it started (asked at the start of the session).
SESSION_START_LOOKBACK = timedelta(hours=6)


class RecordError(ValueError):
    """The record cannot be stored as asked; the message says why."""


_USERS = User.__table__
# Opens SQLite's write transaction; prebuilt, as it runs on every repetition post. It sets a
# plain column: setting the key (id = id) made SQLite check every table that references
# users for rows of the old key, scanning the unindexed audit log: 2.3 ms per write after
# 20,000 posts, growing with the log.
_TOUCH_USER = (
    update(_USERS).where(_USERS.c.id == bindparam("patient_id")).values(active=_USERS.c.active)
)
# Whether a set has ended, and how many repetitions it holds, in one query.
_SET_STATE = select(
    ExerciseSet.ended_at,
    select(func.count(Repetition.id))
    .where(Repetition.set_id == bindparam("set_id"))
    .scalar_subquery(),
).where(ExerciseSet.id == bindparam("set_id"))


def lock_patient(db: Session, patient_id: int) -> None:
    """Serialise every write about one patient until this transaction ends.

    Writes that read before they write (the next repetition number, the active program, the
    XP of a level) would otherwise lose updates when two requests run at once. PostgreSQL
    locks the patient's row (other patients' writes go on in parallel); SQLite, which has one
    writer at a time anyway, takes its write lock now rather than at the first insert, so what
    this transaction reads next is what it writes over. Taking the lock twice is harmless.
    """
    if db.get_bind().dialect.name == "postgresql":
        # FOR NO KEY UPDATE: rows that merely reference the patient (audit, tokens) go on.
        db.execute(select(User.id).where(User.id == patient_id).with_for_update(key_share=True))
    else:
        take_sqlite_write_lock(db.connection())
        # A Core statement (not an ORM bulk update): the same SQL at a third of the cost.
        db.execute(_TOUCH_USER, {"patient_id": patient_id})


def start_session(
    db: Session, patient_id: int, source: str = "camera", notes: str | None = None
) -> ExerciseSession:
    exercise_session = ExerciseSession(patient_id=patient_id, source=source, notes=notes)
    db.add(exercise_session)
    db.flush()
    return exercise_session


def end_session(db: Session, exercise_session: ExerciseSession) -> ExerciseSession:
    if exercise_session.ended_at is None:
        now = utc_now()
        exercise_session.ended_at = now
        for exercise_set in exercise_session.sets:
            if exercise_set.ended_at is None:
                exercise_set.ended_at = now
    db.flush()
    return exercise_session


def start_set(db: Session, exercise_session: ExerciseSession, **fields: Any) -> ExerciseSet:
    if exercise_session.ended_at is not None:
        raise RecordError(f"Session {exercise_session.id} has ended; start a new session.")
    exercise_set = ExerciseSet(session_id=exercise_session.id, **fields)
    db.add(exercise_set)
    db.flush()
    return exercise_set


def end_set(db: Session, exercise_set: ExerciseSet) -> ExerciseSet:
    if exercise_set.ended_at is None:
        exercise_set.ended_at = utc_now()
    db.flush()
    return exercise_set


def add_repetitions(
    db: Session,
    exercise_set: ExerciseSet,
    repetitions: Iterable[Mapping[str, Any]],
    *,
    patient_id: int | None = None,
) -> list[Repetition]:
    """Append repetitions to a set, numbering them after those already stored.

    A repetition with a ``client_id`` (the sender's own id for it) that the set already holds
    is not stored again: the stored one is returned in its place, so a retry, or a second
    device sending the same rep, never counts it twice. ``patient_id`` (the set's patient,
    if the caller knows it) saves loading the set's session. The new repetitions are added
    to ``db``, not flushed: the commit writes them with the rest of the transaction.
    """
    repetitions = list(repetitions)
    lock_patient(db, patient_id or exercise_set.session.patient_id)
    # Read under the lock: another request may have ended the set or added reps meanwhile.
    ended_at, next_index = db.execute(_SET_STATE, {"set_id": exercise_set.id}).one()
    if ended_at is not None:
        raise RecordError(f"Set {exercise_set.id} has ended; start a new set.")
    wanted = [values.get("client_id") for values in repetitions]
    stored: dict[str, Repetition] = {}
    if any(wanted):
        stored = {
            rep.client_id: rep
            for rep in db.scalars(
                select(Repetition).where(
                    Repetition.set_id == exercise_set.id,
                    Repetition.client_id.in_([w for w in wanted if w]),
                )
            )
            if rep.client_id
        }
    added = []
    for values in repetitions:
        client_id = values.get("client_id")
        if client_id and client_id in stored:
            added.append(stored[client_id])
            continue
        repetition = repetition_from(values, set_id=exercise_set.id, index=next_index)
        next_index += 1
        db.add(repetition)
        added.append(repetition)
        if client_id:
            stored[client_id] = repetition
    return added


def repetition_from(values: Mapping[str, Any], **fields: Any) -> Repetition:
    """A (not yet added) repetition: known metrics in their columns, the rest in ``metrics``."""
    known = {key: values[key] for key in REPETITION_FIELDS if key in values}
    extra = {key: value for key, value in values.items() if key not in REPETITION_FIELDS}
    return Repetition(metrics=extra, **known, **fields)


def latest_for_patient(
    db: Session, model: type[T], patient_id: int, time_column: Any, limit: int
) -> list[T]:
    """A patient's newest ``limit`` records of ``model`` (sessions, assessments, pain...)."""
    query = (
        select(model)
        .where(model.patient_id == patient_id)  # type: ignore[attr-defined]
        .order_by(time_column.desc(), model.id.desc())  # type: ignore[attr-defined]
        .limit(limit)
    )
    return list(db.scalars(query))


def rep_count(db: Session, set_id: int) -> int:
    return db.scalar(select(func.count(Repetition.id)).where(Repetition.set_id == set_id)) or 0


def rep_counts(db: Session, set_ids: list[int]) -> dict[int, int]:
    """Repetitions stored per set, for many sets in one query (absent: none)."""
    if not set_ids:
        return {}
    query = (
        select(Repetition.set_id, func.count(Repetition.id))
        .where(Repetition.set_id.in_(set_ids))
        .group_by(Repetition.set_id)
    )
    return {set_id: count for set_id, count in db.execute(query)}


def reps_on_day(db: Session, patient_id: int, day: date | None = None) -> int:
    """Repetitions a patient recorded on the local calendar ``day`` (default: today)."""
    return reps_on_day_by_patient(db, [patient_id], day).get(patient_id, 0)


def reps_on_day_by_patient(
    db: Session, patient_ids: list[int], day: date | None = None
) -> dict[int, int]:
    """Repetitions recorded on the local calendar ``day`` (default: today) per patient, in
    one query (absent: none)."""
    if not patient_ids:
        return {}
    start, end = day_bounds(day or local_date())
    query = (
        select(ExerciseSession.patient_id, func.count(Repetition.id))
        .join(ExerciseSet, Repetition.set_id == ExerciseSet.id)
        .join(ExerciseSession, ExerciseSet.session_id == ExerciseSession.id)
        .where(
            ExerciseSession.patient_id.in_(patient_ids),
            Repetition.recorded_at >= start,
            Repetition.recorded_at < end,
        )
        .group_by(ExerciseSession.patient_id)
    )
    return {patient_id: count for patient_id, count in db.execute(query)}


def last_session_start(db: Session, patient_id: int) -> datetime | None:
    return last_session_starts(db, [patient_id]).get(patient_id)


def last_session_starts(db: Session, patient_ids: list[int]) -> dict[int, datetime]:
    """When each patient's newest session started, in one query (absent: no session)."""
    if not patient_ids:
        return {}
    query = (
        select(ExerciseSession.patient_id, func.max(ExerciseSession.started_at))
        .where(ExerciseSession.patient_id.in_(patient_ids))
        .group_by(ExerciseSession.patient_id)
    )
    return {patient_id: started for patient_id, started in db.execute(query)}


def session_start_nrs(
    db: Session, exercise_session: ExerciseSession, before: datetime | None = None
) -> int | None:
    """The pain a session started with, as known just before ``before`` (default: now).

    Its first report made before then, else the latest report made in the six hours before
    the session began (the question asked before starting, which has no session yet); None
    when nobody asked. A report is never its own start: judging a report made at ``t`` uses
    ``before=t``, so "2 above the start" means the same when the report is made and when
    the set is judged.
    """
    first_query = select(PainReport.nrs).where(
        PainReport.session_id == exercise_session.id, PainReport.withdrawn_at.is_(None)
    )
    if before is not None:
        first_query = first_query.where(PainReport.reported_at < before)
    first = db.scalar(first_query.order_by(PainReport.reported_at, PainReport.id).limit(1))
    if first is not None:
        return first
    return db.scalar(
        select(PainReport.nrs)
        .where(
            PainReport.patient_id == exercise_session.patient_id,
            PainReport.withdrawn_at.is_(None),
            PainReport.reported_at <= exercise_session.started_at,
            PainReport.reported_at >= exercise_session.started_at - SESSION_START_LOOKBACK,
        )
        .order_by(PainReport.reported_at.desc(), PainReport.id.desc())
        .limit(1)
    )
