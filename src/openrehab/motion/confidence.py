"""How sure the counter is: a confidence (0..1) per repetition and per set.

Per repetition (``RepMetrics.confidence``):

- automatic mode on body landmarks: how the rep was confirmed as part of a set
  (:data:`~.auto_body.REP_CONFIDENCE`: both counters agree 0.9, a chain of similar slow
  reps 0.75, the period-based counter where the level-crossing one disagreed 0.6, no set
  recognised 0.35);
- otherwise (a named signal, IMUs): how well the rep fits the set so far, by its duration
  against the median of the previous reps of the set (:func:`rep_confidence`): the first
  rep of a set has nothing to be compared with and is the least sure.

Per set (``AnalysisResult.confidence``, :func:`set_confidence`): the estimated probability
that the count is within one rep of the truth. It combines the mean rep confidence with the
regularity of the set (the spread of rep durations) and is mapped to a probability by
:data:`CALIBRATION`, a monotone table measured by ``openrehab bench count`` on the shared
datasets (the benchmark's "Confidence calibration" section shows, per confidence band, the
share of recordings counted within one rep). A recording with no rep has a fixed
confidence (:data:`EMPTY_CONFIDENCE`): nothing moved like a set, which on the shared data
is usually right but a missed set looks the same.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: Rep confidence by duration ratio to the set's median so far: within these factors.
_FIT_BANDS = ((1.5, 0.9), (2.0, 0.75))
FIRST_REP_CONFIDENCE = 0.6
OUTLIER_REP_CONFIDENCE = 0.4

#: Set confidence of a count of 0, and of 1 or 2 reps (any count of 0-2 is within one rep
#: of a small truth, so for them the rep scores say little): the share counted within one
#: rep on the shared data (``openrehab bench count``, 2026-12-08: 0 reps 10/16, 1-2 reps
#: 35/42).
EMPTY_CONFIDENCE = 0.6
SMALL_SET_CONFIDENCE = 0.8

#: Raw set score (3 reps or more) -> probability of a count within one rep (piecewise
#: linear, monotone): the share counted within one rep per score band on the shared data
#: (UI-PRMD, Countix-Fitness-pose, the clips, the audited IMU sets; 477 sets, 2026-12-08:
#: scores under 0.5 0.58, 0.5-0.65 0.73, 0.65-0.83 0.87 (two bands pooled to stay
#: monotone), 0.83-0.87 0.97, 0.87-0.92 0.98), set a little under the measured shares.
#: ``openrehab bench count`` prints the same table for the current engine ("Confidence
#: calibration"); re-measure it when the engine changes.
CALIBRATION: tuple[tuple[float, float], ...] = (
    (0.0, 0.4),
    (0.4, 0.55),
    (0.58, 0.72),
    (0.74, 0.86),
    (0.83, 0.9),
    (0.86, 0.95),
    (0.9, 0.97),
    (1.0, 0.99),
)


def rep_confidence(duration_s: float, previous_s: Sequence[float]) -> float:
    """Confidence of a rep from its duration and the durations of the set's previous reps
    (most recent last; an empty sequence: the first rep of a set)."""
    if not previous_s:
        return FIRST_REP_CONFIDENCE
    s = sorted(previous_s)
    med = s[len(s) // 2]
    if med <= 0 or duration_s <= 0:
        return OUTLIER_REP_CONFIDENCE
    ratio = max(duration_s / med, med / duration_s)
    for factor, conf in _FIT_BANDS:
        if ratio <= factor:
            return conf
    return OUTLIER_REP_CONFIDENCE


def set_score(confidences: Sequence[float], durations_s: Sequence[float]) -> float:
    """Raw set score: mean rep confidence, lowered by irregular rep durations (coefficient
    of variation above 0.25)."""
    conf = [c for c in confidences if c == c]
    if not conf:
        return EMPTY_CONFIDENCE
    score = sum(conf) / len(conf)
    d = [x for x in durations_s if x == x and x > 0]
    if len(d) >= 2:
        score *= 1.0 - min(0.5, max(0.0, coefficient_of_variation(d) - 0.25))
    return score


def coefficient_of_variation(xs: Sequence[float]) -> float:
    """Sample standard deviation over mean (0 for fewer than two values; infinite for a
    mean <= 0): how irregular a set's rep durations are."""
    if len(xs) < 2:
        return 0.0
    mean = sum(xs) / len(xs)
    var = sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)
    return math.sqrt(var) / mean if mean > 0 else math.inf


def calibrate(score: float) -> float:
    """Map a raw score to a probability with :data:`CALIBRATION` (linear between points)."""
    xs, ys = zip(*CALIBRATION, strict=True)
    return float(np.interp(score, xs, ys))


def set_confidence(confidences: Sequence[float], durations_s: Sequence[float]) -> float:
    """Estimated probability that a set's count is within one rep of the truth."""
    if not confidences:
        return EMPTY_CONFIDENCE
    if len(confidences) <= 2:
        return SMALL_SET_CONFIDENCE
    return round(calibrate(set_score(confidences, durations_s)), 3)


__all__ = [
    "CALIBRATION",
    "EMPTY_CONFIDENCE",
    "SMALL_SET_CONFIDENCE",
    "calibrate",
    "coefficient_of_variation",
    "rep_confidence",
    "set_confidence",
    "set_score",
]
