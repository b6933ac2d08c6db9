"""The pooling rule's boundaries on hand-made trials (care.catch_pool), independent of the
signal processing: agreement in angle, the number of agreeing trials, a strong lone catch."""

from __future__ import annotations

from dataclasses import dataclass

from openrehab.care.catch_pool import (
    AGREE_SLOPE_S,
    AGREE_TOL_DEG,
    CANDIDATE_DECEL,
    STRONG_ALONE,
    pool_catches,
)


@dataclass(frozen=True)
class Trial:
    peak_velocity_deg_s: float
    catch_deg: float | None
    candidates: tuple[tuple[float, float, float], ...]  # (angle, decel ratio, depth ratio)
    confirmed_weak: tuple[tuple[float, float, float], ...] = ()  # confirmed by catch_glrt


def _weak(v: float, angle: float) -> Trial:
    return Trial(v, None, ((angle, CANDIDATE_DECEL, 1.0),))


def test_two_weak_candidates_agreeing_in_angle_are_a_catch_at_their_median() -> None:
    pooled = pool_catches([_weak(300, 80.0), _weak(300, 80.0 + AGREE_TOL_DEG), _weak(300, 0)])
    assert pooled.r1_deg == 80.0 + AGREE_TOL_DEG / 2 and pooled.trials == (0, 1)


def test_weak_candidates_further_apart_than_the_tolerance_are_no_catch() -> None:
    pooled = pool_catches([_weak(300, 80.0), _weak(300, 80.0 + AGREE_TOL_DEG + 0.5)])
    assert pooled.r1_deg is None


def test_a_faster_trial_may_catch_earlier_by_the_speed_allowance_not_more() -> None:
    """The threshold angle falls as velocity rises: 100 deg/s faster may catch up to
    AGREE_TOL_DEG + AGREE_SLOPE_S * 100 deg earlier."""
    allowance = AGREE_TOL_DEG + AGREE_SLOPE_S * 100
    inside = pool_catches([_weak(200, 80.0), _weak(300, 80.0 - allowance + 0.1)])
    outside = pool_catches([_weak(200, 80.0), _weak(300, 80.0 - allowance - 0.1)])
    assert inside.r1_deg is not None and outside.r1_deg is None


def test_a_candidate_below_the_candidate_bar_does_not_count() -> None:
    faint = Trial(300, None, ((80.0, CANDIDATE_DECEL - 0.01, 1.0),))
    assert pool_catches([faint, _weak(300, 80.0)]).r1_deg is None


def test_a_lone_catch_counts_from_the_strong_bar_on() -> None:
    at_bar = Trial(300, 75.0, ((75.0, STRONG_ALONE, 2.0),))
    under = Trial(300, 75.0, ((75.0, STRONG_ALONE - 0.01, 2.0),))
    nothing = Trial(300, None, ())
    assert pool_catches([at_bar, nothing, nothing]).r1_deg == 75.0
    assert pool_catches([under, nothing, nothing]).r1_deg is None


def test_a_weak_peak_confirmed_by_the_matched_filter_counts_like_a_candidate() -> None:
    """Below the candidate bar a peak counts only when catch_glrt confirmed it
    (``confirmed_weak``), and then still only when another trial agrees in angle."""
    confirmed = Trial(300, None, (), ((80.0, 0.6, 0.6),))
    unconfirmed = Trial(300, None, ((80.0, 0.6, 0.6),))
    assert pool_catches([confirmed, _weak(300, 82.0)]).r1_deg == 81.0
    assert pool_catches([unconfirmed, _weak(300, 82.0)]).r1_deg is None
    assert pool_catches([confirmed, _weak(300, 60.0)]).r1_deg is None
