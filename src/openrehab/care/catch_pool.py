"""Pooling the fast trials of one examination into one catch decision and one R1.

The clinical Modified Tardieu examines the fast (V3) stretch several times (the in-app flow
records 3 fast trials; ``openrehab tardieu`` takes ``--fast`` several times). A real catch
recurs at about the same angle in every fast trial, moving only with the examiner's speed
(the reflex threshold falls as velocity rises), while a noise deceleration lands anywhere.
So a weak catch, one that would not pass the single-trial bars of ``care.tardieu``, is
accepted when it recurs:

* each fast trial gives at most one *candidate*: of its deceleration peaks followed by
  release whose deceleration reaches ``CANDIDATE_DECEL`` of the trial's bar and whose
  velocity drop reaches ``CANDIDATE_DEPTH`` of its minimum, the one with the largest of the
  two ratios' minimum (a trial's own catch is usually its candidate); a weaker peak
  (0.5x the bars) confirmed by the matched-filter test of ``care.catch_glrt`` (a
  catch-shaped velocity dip on the raw angle, significant against the sensor noise and deep
  enough against the examiner's irregularity: ``confirmed_weak``) competes too;
* two candidates from different trials *agree* when the faster trial's angle lies at most
  ``AGREE_TOL_DEG`` after the slower trial's, and at most ``AGREE_TOL_DEG`` +
  ``AGREE_SLOPE_S`` x (velocity difference) before it (a catch comes earlier, never much
  later, at higher speed);
* the examination has a catch when candidates of at least ``MIN_AGREEING`` trials all agree
  pairwise (the largest such set, then the strongest); R1 is the median of their angles
  (each the angle at maximal deceleration of its episode). Otherwise, a trial's own catch
  counts alone only if its deceleration reaches ``STRONG_ALONE`` x the single-trial bar:
  R1 is then the median of those. (At 1x, as in a single trial, any of three trials may
  bring its own false catch: 4-7 % of non-spastic examinations at 0.5-2 deg of noise.)

With one fast trial nothing is pooled: the single-trial rule of ``care.tardieu`` applies.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = ["PooledCatch", "pool_catches"]

CANDIDATE_DECEL = 0.75
CANDIDATE_DEPTH = 0.75
AGREE_TOL_DEG = 5.0
AGREE_SLOPE_S = 0.35
MIN_AGREEING = 2
STRONG_ALONE = 3.0


class _Trial(Protocol):
    peak_velocity_deg_s: float
    catch_deg: float | None
    candidates: tuple[tuple[float, float, float], ...]
    confirmed_weak: tuple[tuple[float, float, float], ...]


@dataclass(frozen=True)
class PooledCatch:
    """The examination's catch: R1 (stretch coordinates, None without a catch), the trials
    (indices) whose candidates agreed, and the rule that decided."""

    r1_deg: float | None
    trials: tuple[int, ...]
    rule: str

    def to_json(self, n_trials: int) -> dict:
        return {
            "n_trials": n_trials,
            "n_trials_with_catch": len(self.trials),
            "trials_with_catch": [i + 1 for i in self.trials],
            "rule": self.rule,
        }


def _agree(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Two (velocity, angle) candidates of different trials agree (see the module doc)."""
    (v_slow, a_slow), (v_fast, a_fast) = sorted([a, b])
    diff = a_fast - a_slow
    return -AGREE_TOL_DEG - AGREE_SLOPE_S * (v_fast - v_slow) <= diff <= AGREE_TOL_DEG


def pool_catches(trials: Sequence[_Trial]) -> PooledCatch:
    """The examination's catch from two or more fast trials (see the module doc)."""
    options: list[list[tuple[int, float, float, float] | None]] = []
    for i, t in enumerate(trials):
        cands = [
            (i, t.peak_velocity_deg_s, angle, min(decel_ratio, depth_ratio))
            for angle, decel_ratio, depth_ratio in t.candidates
            if decel_ratio >= CANDIDATE_DECEL and depth_ratio >= CANDIDATE_DEPTH
        ]
        cands += [
            (i, t.peak_velocity_deg_s, angle, min(decel_ratio, depth_ratio))
            for angle, decel_ratio, depth_ratio in t.confirmed_weak
        ]
        top = [max(cands, key=lambda c: c[3])] if cands else []
        options.append([None, *top])
    best: list[tuple[int, float, float, float]] | None = None
    best_key: tuple[int, float] | None = None
    for combo in itertools.product(*options):
        chosen = [c for c in combo if c is not None]
        if len(chosen) < MIN_AGREEING:
            continue
        if not all(
            _agree((p[1], p[2]), (q[1], q[2])) for p, q in itertools.combinations(chosen, 2)
        ):
            continue
        key = (len(chosen), sum(c[3] for c in chosen))
        if best_key is None or key > best_key:
            best, best_key = chosen, key
    if best is not None:
        return PooledCatch(
            float(np.median([c[2] for c in best])),
            tuple(c[0] for c in best),
            f"candidates agreeing in {len(best)} of {len(trials)} trials",
        )
    strong = [
        (i, t.catch_deg)
        for i, t in enumerate(trials)
        if t.catch_deg is not None
        and any(
            angle == t.catch_deg and decel_ratio >= STRONG_ALONE
            for angle, decel_ratio, _ in t.candidates
        )
    ]
    if strong:
        return PooledCatch(
            float(np.median([a for _, a in strong])),
            tuple(i for i, _ in strong),
            "a strong catch in one trial (not repeated in the others)",
        )
    return PooledCatch(None, (), f"no catch agreeing in {MIN_AGREEING} of {len(trials)} trials")
