"""Contracture risk: days without range-of-motion work (K1) and a real loss of range (K2).

Muscles of a spastic limb kept in a shortened position shorten within days (Gracies 2005,
Muscle Nerve 31), so every involved joint is moved through its range regularly; stretch
alone has small effects (Harvey et al. 2017, Cochrane), so these checks keep movement going
and show the therapist a measured loss rather than promising prevention. A loss counts only
when it exceeds goniometric measurement error (Gajdosik & Bohannon 1987, Phys Ther 67) and
its trend is statistically clear, so one noisy session never raises an alarm.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from scipy.stats import theilslopes

from openrehab.care import rules
from openrehab.care.alerts import Alert
from openrehab.exercises.library import Library
from openrehab.exercises.schema import Exercise

DEFAULT_MAX_GAP_DAYS = 2  # K1, program rule: more than 2 days without range work is flagged
DEFAULT_WINDOW_DAYS = 28
DEFAULT_MIN_POINTS = 4
DEFAULT_MIN_SPAN_DAYS = 14
#: K2: twice the ~5 degree error of repeated goniometry (Gajdosik & Bohannon 1987); camera
#: estimates are at least as noisy, so 10 degrees over the window is the smallest loss shown.
DEFAULT_DECLINE_THRESHOLD_DEG = 10.0
SLOPE_CONFIDENCE = 0.95
#: Modes that move a joint through its range, best first (passive and slow stretch keep length).
ROM_MODE_ORDER: dict[str, int] = {"passive": 0, "stretch": 1, "active_assisted": 2, "active": 3}


def _where(region: str, side: str | None) -> str:
    return f"{side} {region}" if side in ("left", "right") else region


def _action(restoring: tuple[str, str] | None) -> tuple[str | None, str | None]:
    if restoring is None:
        return None, None
    exercise_id, exercise_name = restoring
    return f"/exercises/{exercise_id}", f"Do {exercise_name}"


def rom_work_gap_alerts(
    involved: Sequence[tuple[str, str]],
    last_work_on: Mapping[tuple[str, str], date | None],
    today: date,
    max_gap_days: int = DEFAULT_MAX_GAP_DAYS,
    restoring: Mapping[str, tuple[str, str]] | None = None,
    start: date | None = None,
) -> list[Alert]:
    """Rule K1: an involved (region, side) without range-of-motion work for too long.

    The gap counts from the last day with range work, or from ``start`` (the day range work
    was first expected, e.g. the program's start) when that is later or there was none. An
    alert is raised when ``today - reference > max_gap_days`` (so exactly ``max_gap_days``
    days without is not yet an alert); with neither a last day nor ``start`` it is raised at
    once. ``since`` is the first day the gap exceeded the limit. ``restoring[region]`` is
    ``(exercise_id, exercise_name)`` of an exercise that moves it (``restoring_exercises``).
    """
    if max_gap_days < 0:
        raise ValueError(f"max_gap_days must be 0 or more, got {max_gap_days}")
    alerts: list[Alert] = []
    for region, side in involved:
        known = [d for d in (last_work_on.get((region, side)), start) if d is not None]
        reference = max(known) if known else None
        if reference is not None and (today - reference).days <= max_gap_days:
            continue
        since = today if reference is None else reference + timedelta(days=max_gap_days + 1)
        gap_words = "not yet" if reference is None else f"not for {(today - reference).days} days"
        href, text = _action(None if restoring is None else restoring.get(region))
        alerts.append(
            Alert(
                kind="contracture_gap",
                severity="warning",
                rule_id=rules.ROM_WORK_GAP.id,
                patient_text=(
                    f"Your {_where(region, side)} has {gap_words} been moved through its full "
                    "range. Moving it gently every day helps stop it getting stiff."
                ),
                therapist_text=(
                    f"No range-of-motion work for {_where(region, side)} "
                    + ("recorded." if reference is None else f"since {reference.isoformat()}.")
                    + f" Limit {max_gap_days} days."
                ),
                since=since,
                region=region,
                side=side,
                action_href=href,
                action_text=text,
            )
        )
    return alerts


@dataclass(frozen=True)
class RomPoint:
    on: date
    rom_deg: float


@dataclass(frozen=True)
class RomDecline:
    """A robust downward trend of range of motion over the window."""

    slope_deg_per_week: float
    loss_deg: float
    from_deg: float
    to_deg: float
    n_points: int
    from_on: date
    to_on: date


def _daily_medians(points: Sequence[RomPoint], first: date, last: date) -> list[tuple[date, float]]:
    by_day: dict[date, list[float]] = defaultdict(list)
    for point in points:
        if first <= point.on <= last:
            by_day[point.on].append(point.rom_deg)
    return [(day, statistics.median(values)) for day, values in sorted(by_day.items())]


def rom_decline(
    points: Sequence[RomPoint],
    today: date,
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
    min_points: int = DEFAULT_MIN_POINTS,
    min_span_days: int = DEFAULT_MIN_SPAN_DAYS,
    threshold_deg: float = DEFAULT_DECLINE_THRESHOLD_DEG,
) -> RomDecline | None:
    """Rule K2: a loss of range over the last ``window_days`` days (``today`` included).

    Each day's measurements are reduced to their median (one session of many reps is one
    point). With at least ``min_points`` days spanning ``min_span_days`` or more, a
    Theil-Sen line is fitted (``scipy.stats.theilslopes``, 95 % interval of the slope). A
    decline is reported when the fitted loss from the first to the last day exceeds
    ``threshold_deg`` and the upper bound of the slope's interval is below 0.
    """
    first = today - timedelta(days=window_days - 1)
    daily = _daily_medians(points, first, today)
    if len(daily) < min_points or (daily[-1][0] - daily[0][0]).days < min_span_days:
        return None
    x_days = [(day - daily[0][0]).days for day, _ in daily]
    y_deg = [value for _, value in daily]
    fit = theilslopes(y_deg, x_days, alpha=SLOPE_CONFIDENCE)
    slope = float(fit.slope)
    from_deg = float(fit.intercept)
    to_deg = from_deg + slope * x_days[-1]
    loss_deg = from_deg - to_deg
    if loss_deg <= threshold_deg or fit.high_slope >= 0:
        return None
    return RomDecline(
        slope_deg_per_week=slope * 7,
        loss_deg=loss_deg,
        from_deg=from_deg,
        to_deg=to_deg,
        n_points=len(daily),
        from_on=daily[0][0],
        to_on=daily[-1][0],
    )


def rom_decline_alert(
    region: str,
    side: str | None,
    label: str,
    decline: RomDecline,
    restoring: tuple[str, str] | None,
) -> Alert:
    """Rule K2 as an alert: ``label`` names the movement measured (e.g. "elbow extension")."""
    href, text = _action(restoring)
    return Alert(
        kind="contracture_decline",
        severity="warning",
        rule_id=rules.ROM_DECLINE.id,
        patient_text=(
            f"Your {_where(region, side)} moves less far than a few weeks ago. Your therapist "
            "has been told. Keep moving it gently every day."
        ),
        therapist_text=(
            f"{label} ({_where(region, side)}): range fell from {decline.from_deg:.0f} to "
            f"{decline.to_deg:.0f} deg ({decline.slope_deg_per_week:+.1f} deg/week, "
            f"{decline.n_points} days, {decline.from_on.isoformat()} to "
            f"{decline.to_on.isoformat()}). Check for contracture."
        ),
        since=decline.to_on,
        region=region,
        side=side,
        action_href=href,
        action_text=text,
    )


def _rom_rank(exercise: Exercise, region: str) -> tuple[int, int, int, str]:
    best_mode = min(ROM_MODE_ORDER[m] for m in exercise.modes)
    standing_only = exercise.positions == ("standing",)
    return (exercise.primary_region != region, best_mode, standing_only, exercise.id)


def restoring_exercises(library: Library, region: str) -> list[Exercise]:
    """Isolated exercises that move ``region``, best for keeping its range first.

    Order: the region as the exercise's main one first, then by the gentlest mode it offers
    (passive, stretch, assisted, active), then those not done only standing, then by id.
    Functional tasks are left out.
    """
    candidates = [e for e in library.by_region(region) if e.kind == "isolated"]
    return sorted(candidates, key=lambda e: _rom_rank(e, region))
