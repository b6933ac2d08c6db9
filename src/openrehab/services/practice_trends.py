"""Practice trends: per exercise and side, each day's repetitions, median range and median
smoothness over the last weeks (the care page's "Practice" charts and their tables).

Smoothness is SPARC (spectral arc length; Balasubramanian et al. 2015, J NeuroEng Rehabil
12:112): negative, closer to 0 is smoother. Medians, so one odd repetition does not move a
day. The exercises practised on most days (then with most repetitions) come first.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.clock import day_bounds, local_date
from openrehab.exercises.library import load_library
from openrehab.store.models import ExerciseSession, ExerciseSet, Repetition

MAX_TRENDS = 6


@dataclass(frozen=True)
class PracticeDay:
    day: date
    reps: int
    rom: float | None
    sparc: float | None


@dataclass(frozen=True)
class PracticeTrend:
    exercise_id: str
    name: str
    side: str
    unit: str
    days: list[PracticeDay]


def practice_trends(
    db: Session, patient_id: int, today: date | None = None, weeks: int = 12
) -> list[PracticeTrend]:
    """The trends of the ``MAX_TRENDS`` exercises (and sides) practised on most days."""
    today = today or local_date()
    since = day_bounds(today - timedelta(weeks=weeks))[0]
    rows = db.execute(
        select(
            ExerciseSet.exercise_id,
            ExerciseSet.side,
            Repetition.recorded_at,
            Repetition.rom,
            Repetition.rom_unit,
            Repetition.sparc,
        )
        .join(ExerciseSet, Repetition.set_id == ExerciseSet.id)
        .join(ExerciseSession, ExerciseSet.session_id == ExerciseSession.id)
        .where(ExerciseSession.patient_id == patient_id, Repetition.recorded_at >= since)
    )
    per: dict[tuple[str, str], dict[date, list[tuple[float | None, float | None]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    units: dict[tuple[str, str], str] = {}
    for exercise_id, side, at, rom, unit, sparc in rows:
        per[(exercise_id, side)][local_date(at)].append((rom, sparc))
        if unit:
            units[(exercise_id, side)] = unit
    library = load_library()

    def busy(key: tuple[str, str]) -> tuple[int, int, tuple[str, str]]:
        return (-len(per[key]), -sum(len(v) for v in per[key].values()), key)

    busiest = sorted(per, key=busy)[:MAX_TRENDS]
    out = []
    for key in busiest:
        exercise_id, side = key
        days = []
        for day in sorted(per[key]):
            values = per[key][day]
            roms = [r for r, _ in values if r is not None]
            sparcs = [s for _, s in values if s is not None]
            days.append(
                PracticeDay(
                    day,
                    len(values),
                    float(median(roms)) if roms else None,
                    float(median(sparcs)) if sparcs else None,
                )
            )
        name = library.get(exercise_id).name if exercise_id in library else exercise_id
        out.append(PracticeTrend(exercise_id, name, side, units.get(key, ""), days))
    return out
