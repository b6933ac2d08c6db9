"""CSV exports of a patient's records: sessions (one row per set) and repetitions (one row
per repetition), for a spreadsheet or a statistics package. Times are ISO 8601 UTC; angles
in the unit of ``rom_unit``; one header row; no row ever depends on the reader's locale."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.clock import day_bounds
from openrehab.store.models import ExerciseSession, ExerciseSet, Repetition

SESSION_COLUMNS = (
    "session_id",
    "session_started_at",
    "session_ended_at",
    "source",
    "set_id",
    "exercise_id",
    "side",
    "mode",
    "level",
    "target_reps",
    "reps",
    "set_started_at",
    "set_ended_at",
    "pain_reported",
)
REPETITION_COLUMNS = (
    "session_id",
    "set_id",
    "exercise_id",
    "side",
    "mode",
    "index",
    "recorded_at",
    "start_s",
    "end_s",
    "duration_s",
    "rom",
    "rom_unit",
    "peak_velocity",
    "mean_velocity",
    "sparc",
    "ldlj",
    "too_fast",
)


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def _csv(columns: tuple[str, ...], rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow("" if v is None else v for v in row)
    return out.getvalue()


def _sets(db: Session, patient_id: int, first: date, last: date) -> list[ExerciseSet]:
    start, _ = day_bounds(first)
    _, end = day_bounds(last)
    return list(
        db.scalars(
            select(ExerciseSet)
            .join(ExerciseSession, ExerciseSet.session_id == ExerciseSession.id)
            .where(
                ExerciseSession.patient_id == patient_id,
                ExerciseSession.started_at >= start,
                ExerciseSession.started_at < end,
            )
            .order_by(ExerciseSession.started_at, ExerciseSet.id)
        )
    )


def sessions_csv(db: Session, patient_id: int, first: date, last: date) -> str:
    """One row per set of the sessions that started in ``first``..``last`` (local days)."""
    rows = []
    for s in _sets(db, patient_id, first, last):
        session = s.session
        rows.append(
            [
                session.id,
                _iso(session.started_at),
                _iso(session.ended_at),
                session.source,
                s.id,
                s.exercise_id,
                s.side,
                s.mode,
                s.level,
                s.target_reps,
                len(s.repetitions),
                _iso(s.started_at),
                _iso(s.ended_at),
                s.pain_reported,
            ]
        )
    return _csv(SESSION_COLUMNS, rows)


def repetitions_csv(db: Session, patient_id: int, first: date, last: date) -> str:
    """One row per repetition of the sessions that started in ``first``..``last``."""
    rows = []
    for s in _sets(db, patient_id, first, last):
        reps = db.scalars(
            select(Repetition).where(Repetition.set_id == s.id).order_by(Repetition.index)
        )
        for r in reps:
            rows.append(
                [
                    s.session_id,
                    s.id,
                    s.exercise_id,
                    s.side,
                    s.mode,
                    r.index,
                    _iso(r.recorded_at),
                    r.start_s,
                    r.end_s,
                    r.duration_s,
                    r.rom,
                    r.rom_unit,
                    r.peak_velocity,
                    r.mean_velocity,
                    r.sparc,
                    r.ldlj,
                    r.too_fast,
                ]
            )
    return _csv(REPETITION_COLUMNS, rows)
