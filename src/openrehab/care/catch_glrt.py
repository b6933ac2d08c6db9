"""A matched-filter (generalised likelihood-ratio) test for a catch-shaped velocity dip.

The deceleration detector of ``care.tardieu`` judges one peak of a twice-differentiated,
low-passed signal, whose noise grows with the square of frequency. A catch, though, is a
whole episode: the velocity dips for ~0.1-0.3 s, then the joint moves on (release), so the
angle falls behind its smooth course by a smooth step. This module tests for that shape on
the raw angle samples (white sensor noise, no differentiation):

* H0: over a window of ``PRE_S`` + d + ``POST_S``, the angle is a smooth trend, a
  polynomial of degree ``TREND_DEGREE`` in time (the examiner's push);
* H1: the same trend minus ``A`` x a catch template: the angle lost to a velocity dip of
  depth ``A`` (deg/s) shaped as a Hann bump of duration d (``DURATIONS_S``), i.e. the dip's
  integral, a smooth step of ``A d / 2`` deg.

With white noise of known SD sigma (deg), the least-squares ``A`` is the maximum-likelihood
estimate and ``z = A / SD(A)`` the one-sided GLRT statistic (z^2 is twice the log
generalised likelihood ratio): the linear model with nuisance parameters, Kay,
*Fundamentals of Statistical Signal Processing*, vol. 2, *Detection Theory*, 1998, ch. 7
(a matched filter for a transient of unknown arrival time and duration, scanned over both,
in a polynomial background). ``care.tardieu`` uses it to confirm weak deceleration peaks
(0.5-0.75x the candidate bars): the dip must be both significant (``z``, against sensor
noise) and large (``A`` as a fraction of the peak velocity, against the examiner's own
irregularity, which noise-free recordings show too). Pooling across trials
(``care.catch_pool``) then asks the catch to recur.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .angle_series import Kinematics

__all__ = ["GlrtCatch", "best_dip", "confirms_catch", "episode_dip"]

# A simulated catch's velocity dip lasts ~0.1-0.15 s (a 70 ms reflex burst plus muscle
# activation); longer ones allow for slower reflexes and low-passed sensors.
DURATIONS_S = (0.1, 0.14, 0.2, 0.28)
PRE_S = 0.15
POST_S = 0.15
# A quadratic trend (measured: a cubic one, with 0.25 s windows, gave 5-6 % false catches
# at 1-2 deg of noise).
TREND_DEGREE = 2
STEP_S = 0.01
# A noise-free recording would give an infinite z; its dip depth alone then decides.
MIN_SIGMA_DEG = 0.05
# A confirmed dip: significant against the sensor noise (z) and deep against the
# examiner's own irregularity (8 % of the hand's speed in the simulator; measured: a
# depth bar of 0.2-0.25 x the peak velocity, or z 2, adds false catches at 2 deg of noise).
DIP_Z = 2.5
DIP_DEPTH_FRACTION = 0.3


@dataclass(frozen=True)
class GlrtCatch:
    """A catch-shaped velocity dip: onset and duration (s), depth ``A`` (deg/s) and its
    z statistic (``A`` over its noise SD)."""

    onset_s: float
    duration_s: float
    depth_deg_s: float
    z: float

    @property
    def end_s(self) -> float:
        """When the dip is over (s)."""
        return self.onset_s + self.duration_s


def catch_template(u_s: np.ndarray, duration_s: float) -> np.ndarray:
    """Angle (deg) lost, per deg/s of dip depth, at ``u_s`` after the onset of a Hann
    velocity dip lasting ``duration_s``: 0 before, ``duration_s / 2`` after."""
    u = np.clip(u_s, 0.0, duration_s)
    w = 2.0 * np.pi / duration_s
    return u / 2.0 - np.sin(w * u) / (2.0 * w)


def _fit(t: np.ndarray, y: np.ndarray, onset: float, duration: float) -> tuple[float, float]:
    """Least-squares dip depth (deg/s) and its SD per deg of noise, in one window."""
    tau = (t - t.mean()) / max(float(np.ptp(t)), 1e-9)
    cols = [tau**k for k in range(TREND_DEGREE + 1)]
    cols.append(-catch_template(t - onset, duration))
    m = np.column_stack(cols)
    gram = m.T @ m
    try:
        inv = np.linalg.inv(gram)
    except np.linalg.LinAlgError:
        return 0.0, np.inf
    coef = inv @ (m.T @ y)
    return float(coef[-1]), float(np.sqrt(max(inv[-1, -1], 0.0)))


def best_dip(
    t_s: np.ndarray,
    angle_deg: np.ndarray,
    sigma_deg: float,
    onsets_s: tuple[float, float],
    t_to: float,
) -> GlrtCatch | None:
    """The most significant catch-shaped dip (largest z) with an onset between
    ``onsets_s`` (s, ``STEP_S`` apart) over every duration of ``DURATIONS_S``; raw samples
    ``t_s`` (s), ``angle_deg`` (deg, stretch coordinates) with white noise of SD
    ``sigma_deg``; windows end by ``t_to`` (s, the end of range: the end-range stop is
    not part of the trend). None when no window fits."""
    sigma = max(sigma_deg, MIN_SIGMA_DEG)
    top: GlrtCatch | None = None
    for onset in np.arange(onsets_s[0], onsets_s[1] + 1e-9, STEP_S):
        for d in DURATIONS_S:
            lo, hi = onset - PRE_S, min(onset + d + POST_S, t_to)
            if hi < onset + d + 0.5 * POST_S:
                continue  # too little after the dip to tell a dip from a stop
            sel = (t_s >= lo) & (t_s <= hi)
            if int(sel.sum()) < TREND_DEGREE + 4:
                continue
            depth, sd = _fit(t_s[sel], angle_deg[sel], float(onset), d)
            z = depth / (sigma * sd)
            if top is None or z > top.z:
                top = GlrtCatch(float(onset), d, depth, z)
    return top


def episode_dip(kin: Kinematics, start_i: int, peak_i: int, end_i: int) -> GlrtCatch | None:
    """:func:`best_dip` for a deceleration episode of ``kin`` (grid samples: onset of the
    deceleration ``start_i``, its peak ``peak_i``, the end of range ``end_i``): a dip
    starting between the two, tested on the recording's raw samples at its noise SD."""
    t0 = float(kin.sample_t_s[0])
    to_s = 1.0 / kin.rate_hz
    return best_dip(
        kin.sample_t_s,
        kin.sample_deg,
        kin.noise_deg,
        (t0 + start_i * to_s, t0 + peak_i * to_s),
        t0 + end_i * to_s,
    )


def confirms_catch(
    kin: Kinematics, episode: tuple[int, int, int], v_peak: float, release_min_deg: float
) -> bool:
    """Whether a deceleration episode of ``kin`` (grid samples: its onset, its peak, the end
    of range) holds a catch-shaped velocity dip (:func:`episode_dip`) at least ``DIP_Z``
    noise SDs and ``DIP_DEPTH_FRACTION`` x ``v_peak`` (deg/s) deep, after which the joint
    still moves on by ``release_min_deg`` (deg) toward the end of range (release)."""
    start_i, peak_i, end_i = episode
    dip = episode_dip(kin, start_i, peak_i, end_i)
    if dip is None or dip.z < DIP_Z or dip.depth_deg_s < DIP_DEPTH_FRACTION * v_peak:
        return False
    after_i = round((dip.end_s - float(kin.sample_t_s[0])) * kin.rate_hz)
    after_i = min(max(after_i, start_i), end_i)
    return float(kin.angle_deg[end_i] - kin.angle_deg[after_i]) >= release_min_deg
