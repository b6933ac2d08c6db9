"""Adherence (services.adherence): reps per local day against the target over 7 and 28 days,
with the window's edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from service_helpers import do_set
from sqlalchemy.orm import Session

from openrehab.clock import local_zone
from openrehab.services.adherence import Adherence, adherence, caseload_adherence, reps_per_day
from support import World

TODAY = date(2026, 5, 20)


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=local_zone()).astimezone(UTC)


def test_percent_is_reps_over_target_times_days_and_none_without_target() -> None:
    assert Adherence(7, 700, 200, 3).percent == 50
    assert Adherence(7, 1500, 200, 7).percent == 107  # more than asked shows as such
    assert Adherence(28, 0, 300, 0).percent == 0
    assert Adherence(7, 50, 0, 1).percent is None


def test_the_window_ends_today_and_includes_exactly_days_days() -> None:
    per_day = {
        TODAY: 10,
        TODAY - timedelta(days=6): 20,  # the first day of a 7-day window
        TODAY - timedelta(days=7): 40,  # just outside it
        TODAY + timedelta(days=1): 80,  # not yet
    }
    week = adherence(per_day, 10, 7, TODAY)
    assert (week.reps, week.active_days) == (30, 2)
    month = adherence(per_day, 10, 28, TODAY)
    assert (month.reps, month.active_days) == (70, 3)


def test_caseload_reps_are_counted_per_local_day_of_the_session_start(
    db: Session, world: World
) -> None:
    p, q = world.ids["patient_p"], world.ids["patient_q"]
    do_set(db, p, reps=5, at=_at(TODAY, 9))
    do_set(db, p, reps=4, at=_at(TODAY, 23))  # late evening: still today
    do_set(db, p, reps=3, at=_at(TODAY - timedelta(days=27), 8))
    do_set(db, p, reps=7, at=_at(TODAY - timedelta(days=28), 8))  # outside 28 days
    do_set(db, q, reps=6, at=_at(TODAY - timedelta(days=1), 0) + timedelta(minutes=1))
    db.commit()
    days = reps_per_day(db, [p, q], TODAY - timedelta(days=27), TODAY)
    assert dict(days[p]) == {TODAY: 9, TODAY - timedelta(days=27): 3}
    assert dict(days[q]) == {TODAY - timedelta(days=1): 6}
    result = caseload_adherence(db, {p: 10, q: 0}, TODAY)
    assert result[p][7] == Adherence(7, 9, 10, 1) and result[p][7].percent == 13
    assert result[p][28] == Adherence(28, 12, 10, 2)
    assert result[q][7].percent is None and result[q][7].reps == 6
    assert reps_per_day(db, [], TODAY, TODAY) == {}
