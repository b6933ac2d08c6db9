"""The care timeline: repetitions per day, a measured range and the therapies over the last
weeks, for the care page's chart (and the table behind it)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.clock import day_bounds, local_date
from openrehab.exercises.library import load_library
from openrehab.store.models import (
    Assessment,
    ExerciseSession,
    ExerciseSet,
    Repetition,
    TherapyEvent,
    User,
)


@dataclass(frozen=True)
class Timeline:
    first: date
    last: date
    reps_per_day: list[tuple[date, int]]
    rom: list[tuple[date, float]]
    rom_label: str
    events: list[tuple[date, str]]


def _reps_per_day(db: Session, patient_id: int, since: datetime) -> dict[date, int]:
    times = db.scalars(
        select(Repetition.recorded_at)
        .join(ExerciseSet, Repetition.set_id == ExerciseSet.id)
        .join(ExerciseSession, ExerciseSet.session_id == ExerciseSession.id)
        .where(ExerciseSession.patient_id == patient_id, Repetition.recorded_at >= since)
    )
    per_day: dict[date, int] = defaultdict(int)
    for at in times:
        per_day[local_date(at)] += 1
    return per_day


def _daily_rom(
    db: Session, patient_id: int, since: datetime
) -> tuple[str, list[tuple[date, float]]]:
    """The measured range to draw: goniometric assessments if any, else the daily median
    excursion of the exercise and side practised on most days (degrees)."""
    rows = list(
        db.scalars(
            select(Assessment)
            .where(
                Assessment.patient_id == patient_id,
                Assessment.kind == "rom",
                Assessment.rom_deg.is_not(None),
                Assessment.measured_at >= since,
            )
            .order_by(Assessment.measured_at)
        )
    )
    if rows:
        first = rows[0]
        same = [
            r
            for r in rows
            if (r.region, r.muscle, r.side) == (first.region, first.muscle, first.side)
        ]
        label = f"measured range, {first.muscle or first.region} ({first.side})"
        return label, [
            (local_date(r.measured_at), float(r.rom_deg)) for r in same if r.rom_deg is not None
        ]
    reps = db.execute(
        select(ExerciseSet.exercise_id, ExerciseSet.side, Repetition.recorded_at, Repetition.rom)
        .join(ExerciseSet, Repetition.set_id == ExerciseSet.id)
        .join(ExerciseSession, ExerciseSet.session_id == ExerciseSession.id)
        .where(
            ExerciseSession.patient_id == patient_id,
            Repetition.recorded_at >= since,
            Repetition.rom.is_not(None),
            Repetition.rom_unit == "deg",
        )
    )
    by_key: dict[tuple[str, str], dict[date, list[float]]] = defaultdict(lambda: defaultdict(list))
    for exercise_id, side, at, rom in reps:
        by_key[(exercise_id, side)][local_date(at)].append(float(rom))
    if not by_key:
        return "", []
    (exercise_id, side), days = max(by_key.items(), key=lambda kv: (len(kv[1]), kv[0]))
    library = load_library()
    name = library.get(exercise_id).name if exercise_id in library else exercise_id
    series = [(day, float(median(values))) for day, values in sorted(days.items())]
    return f"{name} ({side}), median range", series


def timeline(db: Session, patient: User, today: date | None = None, weeks: int = 12) -> Timeline:
    """Repetitions per day, a measured range and the therapies over the last ``weeks``."""
    today = today or local_date()
    first = today - timedelta(weeks=weeks)
    since = day_bounds(first)[0]
    per_day = _reps_per_day(db, patient.id, since)
    label, rom = _daily_rom(db, patient.id, since)
    events = [
        (row.started_on, row.kind)
        for row in db.scalars(
            select(TherapyEvent)
            .where(TherapyEvent.patient_id == patient.id, TherapyEvent.started_on >= first)
            .order_by(TherapyEvent.started_on)
        )
    ]
    return Timeline(first, today, sorted(per_day.items()), rom, label, events)
