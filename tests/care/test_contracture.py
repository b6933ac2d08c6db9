"""Contracture risk (care.contracture): days without range work (K1), loss of range (K2)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openrehab.care.contracture import (
    DEFAULT_DECLINE_THRESHOLD_DEG,
    RomDecline,
    RomPoint,
    restoring_exercises,
    rom_decline,
    rom_decline_alert,
    rom_work_gap_alerts,
)
from openrehab.exercises.library import load_library

DAY0 = date(2026, 3, 2)
ELBOW = ("elbow", "left")
RESTORING = {"elbow": ("elbow_extension", "Elbow extension")}


def d(days: int) -> date:
    return DAY0 + timedelta(days=days)


# --- K1: days without range-of-motion work --------------------------------------------------
def test_k1_exactly_2_days_without_work_is_not_an_alert_3_days_is() -> None:
    assert rom_work_gap_alerts([ELBOW], {ELBOW: d(0)}, d(2)) == []
    (alert,) = rom_work_gap_alerts([ELBOW], {ELBOW: d(0)}, d(3), restoring=RESTORING)
    assert (alert.kind, alert.severity, alert.rule_id) == ("contracture_gap", "warning", "K1")
    assert (alert.region, alert.side, alert.since) == ("elbow", "left", d(3))
    assert alert.action_href == "/exercises/elbow_extension"
    assert alert.action_text == "Do Elbow extension"
    assert "left elbow" in alert.patient_text and "3 days" in alert.patient_text


def test_k1_the_limit_is_configurable() -> None:
    assert rom_work_gap_alerts([ELBOW], {ELBOW: d(0)}, d(5), max_gap_days=5) == []
    assert len(rom_work_gap_alerts([ELBOW], {ELBOW: d(0)}, d(6), max_gap_days=5)) == 1
    assert len(rom_work_gap_alerts([ELBOW], {ELBOW: d(0)}, d(1), max_gap_days=0)) == 1
    with pytest.raises(ValueError, match="max_gap_days"):
        rom_work_gap_alerts([ELBOW], {}, d(0), max_gap_days=-1)


def test_k1_never_worked_alerts_unless_a_recent_start_is_given() -> None:
    (never,) = rom_work_gap_alerts([ELBOW], {ELBOW: None}, d(0))
    assert never.since == d(0) and "not yet" in never.patient_text
    assert never.action_href is None  # no restoring exercise known
    assert rom_work_gap_alerts([ELBOW], {}, d(0), start=d(0)) == []  # brand-new patient, day 0
    assert rom_work_gap_alerts([ELBOW], {}, d(2), start=d(0)) == []
    (late,) = rom_work_gap_alerts([ELBOW], {}, d(3), start=d(0))
    assert late.since == d(3)


def test_k1_a_later_start_replaces_an_old_last_day() -> None:
    assert rom_work_gap_alerts([ELBOW], {ELBOW: d(-30)}, d(1), start=d(0)) == []


def test_k1_each_region_and_side_is_checked_alone() -> None:
    involved = [("elbow", "left"), ("elbow", "right"), ("trunk", "both")]
    last = {("elbow", "left"): d(9), ("elbow", "right"): d(5), ("trunk", "both"): d(1)}
    alerts = rom_work_gap_alerts(involved, last, d(10))
    assert [(a.region, a.side) for a in alerts] == [("elbow", "right"), ("trunk", "both")]
    assert "Your trunk has" in alerts[1].patient_text


def test_k1_simulated_8_weeks_alert_on_the_first_day_over_the_limit_and_clears_on_work() -> None:
    """Daily work except days 10-13 and 30-31: alerts on days 12-13 only; day 14 (work) clears.

    The checks run after the day's practice is recorded, so the day work resumes is clear.
    Days 30-31 without work are a 2-day gap (last work day 29, checked on day 31): no alert.
    """
    rest_days = {10, 11, 12, 13, 30, 31}
    last: date | None = None
    alert_days = []
    for k in range(56):
        if k not in rest_days:
            last = d(k)
        if rom_work_gap_alerts([ELBOW], {ELBOW: last}, d(k), start=d(0)):
            alert_days.append(k)
    assert alert_days == [12, 13]


# --- K2: loss of range ---------------------------------------------------------------------
def _line(days: range, start_deg: float, per_day_deg: float) -> list[RomPoint]:
    return [RomPoint(d(k), start_deg + per_day_deg * k) for k in days]


def test_k2_loss_of_exactly_10_deg_does_not_fire_more_does() -> None:
    assert rom_decline(_line(range(21), 100.0, -0.5), d(20)) is None  # 10.0 deg
    decline = rom_decline(_line(range(21), 100.0, -0.55), d(20))
    assert decline is not None
    assert decline.loss_deg == pytest.approx(11.0)
    assert decline.slope_deg_per_week == pytest.approx(-3.85)
    assert (decline.from_deg, decline.to_deg) == (pytest.approx(100.0), pytest.approx(89.0))
    assert (decline.n_points, decline.from_on, decline.to_on) == (21, d(0), d(20))


def test_k2_a_gain_or_a_small_steady_loss_does_not_fire() -> None:
    assert rom_decline(_line(range(28), 80.0, 0.8), d(27)) is None
    assert rom_decline(_line(range(28), 80.0, -0.3), d(27)) is None  # 8.1 deg, clear but small


def test_k2_a_large_loss_whose_interval_includes_no_change_does_not_fire() -> None:
    points = [RomPoint(d(k), v) for k, v in zip((0, 5, 10, 15), (100, 100, 80, 85), strict=True)]
    assert rom_decline(points, d(15)) is None  # fitted loss 18.75 deg, slope upper bound > 0


def test_k2_needs_4_days_spanning_14_days() -> None:
    three = [RomPoint(d(k), 100.0 - 2 * k) for k in (0, 7, 14)]
    assert rom_decline(three, d(14)) is None
    assert rom_decline([*three, RomPoint(d(10), 80.0)], d(14)) is not None
    short = _line(range(14), 100.0, -2.0)  # 14 days, span 13
    assert rom_decline(short, d(13)) is None
    assert rom_decline(_line(range(15), 100.0, -2.0), d(14)) is not None
    assert rom_decline(short, d(13), min_span_days=13) is not None


def test_k2_only_the_last_28_days_count() -> None:
    falling = [RomPoint(d(k), 130.0 - k) for k in range(0, 20)]  # before the window
    flat = [RomPoint(d(k), 100.0 + (k % 3)) for k in range(20, 48)]  # days 20-47: 28 days
    assert rom_decline(falling + flat, d(47)) is None
    assert rom_decline(falling + flat, d(47), window_days=48) is not None


def test_k2_one_session_of_many_reps_is_one_point() -> None:
    points = _line(range(0, 21, 5), 100.0, 0.0)
    points += [RomPoint(d(20), 60.0)] * 30  # one bad session, 30 reps
    points += [RomPoint(d(20), 100.0)] * 31  # the same day's other reps
    decline = rom_decline(points, d(20))
    assert decline is None


def test_k2_a_day_is_its_median_not_its_mean() -> None:
    """Day k has 25 reps at 100 deg and k reps at 60 deg: medians stay 100, means fall 18 deg."""
    points = []
    for k in range(21):
        points += [RomPoint(d(k), 100.0)] * 25 + [RomPoint(d(k), 60.0)] * k
    assert rom_decline(points, d(20)) is None


def _history(rng: np.random.Generator, decline_deg: float, outlier_day: int | None) -> list:
    """8 weeks, 5 reps a day at 90 deg (sd 3.5); from day 28 a linear loss of decline_deg."""
    points = []
    for k in range(56):
        base = 90.0 - decline_deg * max(0, k - 28) / 28
        if k == outlier_day:
            base = 60.0  # one odd session (all reps far off)
        points += [RomPoint(d(k), float(v)) for v in base + rng.normal(0.0, 3.5, size=5)]
    return points


def _first_firing_day(points: list[RomPoint]) -> int | None:
    for k in range(56):
        if rom_decline(points, d(k)) is not None:
            return k
    return None


def test_k2_noisy_flat_8_weeks_with_one_outlier_session_never_fires() -> None:
    rng = np.random.default_rng(20260302)
    assert _first_firing_day(_history(rng, 0.0, outlier_day=40)) is None


def test_k2_a_15_deg_loss_over_4_weeks_fires_on_day_47() -> None:
    """From day 28 the range falls 15 deg over 28 days (sd 3.5 noise, seed 7).

    The rule fires on day 47, 19 days (about 10 deg of true loss) into the decline, when the
    28-day window holds enough of the fall for the fitted loss to pass 10 deg.
    """
    points = _history(np.random.default_rng(7), 15.0, outlier_day=None)
    assert _first_firing_day(points) == 47
    decline = rom_decline(points, d(55))
    assert decline is not None and decline.loss_deg > DEFAULT_DECLINE_THRESHOLD_DEG
    assert decline.n_points == 28  # days in the window, not its 140 measurements
    assert -5.0 < decline.slope_deg_per_week < -2.5  # the true slope is -3.75 deg/week


@settings(max_examples=60, deadline=None)
@given(
    noise=st.lists(st.floats(-3.0, 3.0), min_size=4, max_size=40),
    level_deg=st.floats(20.0, 150.0),
    step_days=st.integers(1, 3),
)
def test_k2_flat_series_with_bounded_noise_never_fires(
    noise: list[float], level_deg: float, step_days: int
) -> None:
    points = [RomPoint(d(i * step_days), level_deg + e) for i, e in enumerate(noise)]
    for k in range(0, len(noise) * step_days, 5):
        assert rom_decline(points, d(k)) is None


def test_k2_alert_names_the_joint_and_links_the_restoring_exercise() -> None:
    decline = RomDecline(-3.5, 14.0, 95.0, 81.0, 20, d(0), d(27))
    alert = rom_decline_alert("elbow", "left", "Elbow extension", decline, RESTORING["elbow"])
    assert (alert.kind, alert.severity, alert.rule_id) == ("contracture_decline", "warning", "K2")
    assert (alert.region, alert.side, alert.since) == ("elbow", "left", d(27))
    assert alert.action_href == "/exercises/elbow_extension"
    assert "from 95 to 81 deg" in alert.therapist_text and "-3.5 deg/week" in alert.therapist_text
    assert "left elbow moves less far" in alert.patient_text and "deg" not in alert.patient_text
    assert rom_decline_alert("trunk", None, "Trunk", decline, None).action_href is None


# --- restoring exercises -------------------------------------------------------------------
def test_restoring_exercises_prefer_passive_and_stretch_of_the_region() -> None:
    library = load_library()
    elbow = [e.id for e in restoring_exercises(library, "elbow")]
    assert elbow[:3] == ["elbow_extension", "elbow_flexion", "elbow_flexor_slow_stretch"]
    assert "hand_to_mouth" not in elbow  # functional tasks are left out
    ankle = [e.id for e in restoring_exercises(library, "ankle")]
    assert ankle[0] == "ankle_dorsiflexion"
    assert ankle.index("seated_heel_raise") < ankle.index("standing_heel_raise")
    for region in ("shoulder", "wrist", "hand", "hip", "knee", "ankle", "forearm"):
        best = restoring_exercises(library, region)[0]
        assert best.primary_region == region and {"passive", "stretch"} & set(best.modes)
    assert restoring_exercises(library, "trunk")[0].primary_region == "trunk"
