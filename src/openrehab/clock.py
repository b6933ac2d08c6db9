"""Calendar days as the person lives them.

The daily repetition target, "reps today" and the streak count local days, not UTC days: for a
user west of Greenwich a UTC day would roll over in the afternoon. Timestamps are stored in UTC;
only day boundaries use the local zone: ``OPENREHAB_TIMEZONE`` (an IANA name such as
``Europe/Paris``) when set, otherwise the machine's own zone (home installs run on the user's
machine; a clinic server sets the variable).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV_TIMEZONE = "OPENREHAB_TIMEZONE"


class TimezoneError(ValueError):
    """OPENREHAB_TIMEZONE names no known time zone."""


def local_zone() -> tzinfo:
    name = os.environ.get(ENV_TIMEZONE, "").strip()
    if not name:
        return datetime.now().astimezone().tzinfo or UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TimezoneError(
            f"{ENV_TIMEZONE}={name!r} is not a known time zone (use a name like Europe/London)."
        ) from exc


def local_date(moment: datetime | None = None, zone: tzinfo | None = None) -> date:
    """The local calendar day of ``moment`` (default: now); ``zone``: ``local_zone()``, given
    by callers that convert many moments."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone or local_zone()).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """UTC instants [start, end) of the local calendar ``day`` (DST-safe)."""
    zone = local_zone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)
