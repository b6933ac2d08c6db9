"""Adherence: repetitions per day against the daily target, over the last 7 and 28 days.

For the therapist's patient list. One query for the whole caseload: repetitions are counted
per exercise session and given to the local day the session started (a session that runs
past midnight counts for the day it began). The target is today's (the program's, raised in
a toxin window: ``services.care.daily_target``) for every day of the window.

Adherence = repetitions in the window / (target x days), as a percentage, capped at nothing
(over 100 % means more than asked). Active days = days with at least one repetition. The
window ends today and includes it, so a morning look shows today as partly done.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openrehab.clock import day_bounds, local_date
from openrehab.store.models import ExerciseSession, ExerciseSet, Repetition

WINDOWS_DAYS = (7, 28)


@dataclass(frozen=True)
class Adherence:
    """One patient over ``days`` days ending today."""

    days: int
    reps: int
    target_per_day: int
    active_days: int

    @property
    def percent(self) -> int | None:
        """Repetitions as a percentage of target x days (None without a target)."""
        if self.target_per_day <= 0:
            return None
        return round(100 * self.reps / (self.target_per_day * self.days))


def reps_per_day(
    db: Session, patient_ids: Iterable[int], first: date, last: date
) -> dict[int, dict[date, int]]:
    """Repetitions per patient and local day (of the session's start), ``first``..``last``."""
    ids = list(patient_ids)
    out: dict[int, dict[date, int]] = {pid: defaultdict(int) for pid in ids}
    if not ids:
        return out
    start, _ = day_bounds(first)
    _, end = day_bounds(last)
    rows = db.execute(
        select(ExerciseSession.patient_id, ExerciseSession.started_at, func.count(Repetition.id))
        .join(ExerciseSet, ExerciseSet.session_id == ExerciseSession.id)
        .join(Repetition, Repetition.set_id == ExerciseSet.id)
        .where(
            ExerciseSession.patient_id.in_(ids),
            ExerciseSession.started_at >= start,
            ExerciseSession.started_at < end,
        )
        .group_by(ExerciseSession.id, ExerciseSession.patient_id, ExerciseSession.started_at)
    )
    for patient_id, started_at, count in rows:
        out[patient_id][local_date(started_at)] += int(count)
    return out


def adherence(per_day: dict[date, int], target: int, days: int, today: date) -> Adherence:
    """Adherence over the ``days`` days ending ``today`` from a patient's reps per day."""
    first = today - timedelta(days=days - 1)
    window = [n for day, n in per_day.items() if first <= day <= today]
    return Adherence(days, sum(window), target, sum(1 for n in window if n > 0))


def caseload_adherence(
    db: Session, targets: dict[int, int], today: date | None = None
) -> dict[int, dict[int, Adherence]]:
    """For each patient id (with its daily target): ``{7: Adherence, 28: Adherence}``."""
    today = today or local_date()
    longest = max(WINDOWS_DAYS)
    per_day = reps_per_day(db, targets, today - timedelta(days=longest - 1), today)
    return {
        pid: {days: adherence(per_day[pid], target, days, today) for days in WINDOWS_DAYS}
        for pid, target in targets.items()
    }
