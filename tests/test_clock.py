"""Local calendar days for targets and streaks (OPENREHAB_TIMEZONE)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from openrehab.clock import TimezoneError, day_bounds, local_date


def test_day_rolls_over_at_local_midnight(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENREHAB_TIMEZONE", "America/Los_Angeles")
    late_evening_in_california = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    assert local_date(late_evening_in_california) == date(2026, 11, 24)
    start, end = day_bounds(date(2026, 11, 24))
    assert start == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=24)


def test_daylight_saving_day_is_23_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENREHAB_TIMEZONE", "Europe/Paris")
    start, end = day_bounds(date(2026, 3, 29))
    assert end - start == timedelta(hours=23)


def test_unknown_zone_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENREHAB_TIMEZONE", "Mars/Olympus_Mons")
    with pytest.raises(TimezoneError, match="not a known time zone"):
        local_date()


def test_a_given_zone_is_used_instead_of_the_configured_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from zoneinfo import ZoneInfo

    monkeypatch.setenv("OPENREHAB_TIMEZONE", "Europe/London")
    moment = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    assert local_date(moment) == date(2026, 11, 25)
    assert local_date(moment, ZoneInfo("America/Los_Angeles")) == date(2026, 11, 24)
