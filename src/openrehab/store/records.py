"""Services over the store: exercise sessions, sets and repetitions, persisted as they happen.

A live session calls ``add_repetitions`` after every repetition the motion engine reports, so a
crash or a closed browser loses at most the repetition in progress.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openrehab.clock import day_bounds, local_date
from openrehab.store.models import ExerciseSession, ExerciseSet, Repetition, utc_now

T = TypeVar("T")

# Metrics with a column of their own; any other key a client sends is kept in ``metrics``.
REPETITION_FIELDS = frozenset(
    column.name
    for column in Repetition.__table__.columns
    if column.name not in {"id", "set_id", "index", "metrics", "recorded_at"}
)


class RecordError(ValueError):
    """The record cannot be stored as asked; the message says why."""


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
    db: Session, exercise_set: ExerciseSet, repetitions: Iterable[Mapping[str, Any]]
) -> list[Repetition]:
    """Append repetitions to a set, numbering them after those already stored."""
    if exercise_set.ended_at is not None:
        raise RecordError(f"Set {exercise_set.id} has ended; start a new set.")
    next_index = rep_count(db, exercise_set.id)
    added = []
    for offset, values in enumerate(repetitions):
        repetition = repetition_from(values, set_id=exercise_set.id, index=next_index + offset)
        db.add(repetition)
        added.append(repetition)
    db.flush()
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


def reps_on_day(db: Session, patient_id: int, day: date | None = None) -> int:
    """Repetitions a patient recorded on the local calendar ``day`` (default: today)."""
    start, end = day_bounds(day or local_date())
    query = (
        select(func.count(Repetition.id))
        .join(ExerciseSet, Repetition.set_id == ExerciseSet.id)
        .join(ExerciseSession, ExerciseSet.session_id == ExerciseSession.id)
        .where(
            ExerciseSession.patient_id == patient_id,
            Repetition.recorded_at >= start,
            Repetition.recorded_at < end,
        )
    )
    return db.scalar(query) or 0


def last_session_start(db: Session, patient_id: int) -> datetime | None:
    return db.scalar(
        select(func.max(ExerciseSession.started_at)).where(ExerciseSession.patient_id == patient_id)
    )
