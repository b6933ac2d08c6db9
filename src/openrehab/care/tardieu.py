"""Sensor-based Modified Tardieu Scale: the catch angle (R1), the slow range (R2) and speeds.

Input: passive stretches of one joint recorded as an angle time series (``t_s`` in s,
``angle_deg`` in deg). Convention: the angle **increases** as the muscle is stretched (elbow
extension for the elbow flexors, ankle dorsiflexion for the calf); pass
``increasing=False`` when stretching lowers the angle (angles are then reported as
recorded, R2 being the smallest angle reached). One slow (V1, "as slow as possible")
recording and one or more fast (V3, "as fast as possible") recordings; each may hold
several stretches (rest -> end of range; the return is ignored).

* **R2**: passive range at slow speed: a high percentile (90th) of the 1.5 Hz-smoothed
  angle in the end-range plateau of each slow stretch (median over slow stretches).
* **R1**: the catch angle in a fast stretch, defined as the angle at maximal angular
  deceleration before end range (van den Noort et al. 2009; Bar-On et al. 2013). A catch is
  a deceleration peak, at the *detection* cut-off, (1) above a noise-aware bar: the largest
  of ``NOISE_Z`` (4) x the deceleration SD that this trial's sensor noise alone produces
  (estimated noise x the filter's noise gain, :func:`noise_gains`), 2x the slow stretch's
  99th-percentile deceleration less its noise part (in quadrature), and a suddenness bar of
  ``SUDDEN_PER_S_PER_HZ`` x cut-off x the stretch's peak velocity (3/s at 6 Hz); (2) within
  a velocity drop of at least 20 % of that peak velocity (and ``NOISE_Z`` x the velocity
  noise SD), from at least half of it; and (3) followed by release: once the deceleration
  has eased to 25 % of its peak, the joint moves on by at least ``RELEASE_MIN_DEG`` toward
  the end of range. R1 is then the angle at maximal deceleration within that catch episode
  (deceleration onset to release) at the 6 Hz kinematic cut-off. The end-range stop is
  never followed by release, so it is never a catch. With one fast trial, R1 is its catch.
  With two or more (the clinical protocol; the in-app flow records 3), the trials are
  pooled (:mod:`.catch_pool`): weaker catch candidates (0.75x the bars, or 0.5x when a
  matched-filter test on the raw angle confirms a catch-shaped velocity dip there,
  :mod:`.catch_glrt`) count when they recur at a consistent angle in at least 2 trials, a
  single trial's catch counts alone only at 3x the deceleration bar, and R1 is the median
  of the agreeing trials' angles.
* Kinematics: the series is resampled (linear) onto a uniform 200 Hz grid (or the input
  rate if higher), low-passed with a zero-phase 2nd-order Butterworth
  (``scipy.signal.sosfiltfilt``: effective 4th order) and differentiated twice
  (``numpy.gradient``): at 6 Hz (at most 0.3x the input rate) for velocity, acceleration
  and R1; at 1.5 Hz for stretch finding, R2 and the slow peak velocity. The detection
  cut-off is the highest of 6 / 5 / 4 Hz at which ``NOISE_Z`` x the noise deceleration SD
  stays under 1.5x the suddenness bar: noisy or slow stretches are filtered more.

References
----------
* R.A. Boyd, H.K. Graham, "Objective measurement of clinical findings in the use of
  botulinum toxin type A ...", Eur J Neurol 6(S4):s23-s35, 1999 (R1, R2, V1/V3).
* J.C. van den Noort, V.A. Scholtes, J. Harlaar, "Evaluation of clinical spasticity
  assessment in cerebral palsy using inertial sensors", Gait Posture 30:138-143, 2009;
  J.C. van den Noort et al., "Ankle and elbow spasticity ...", Clin Neurophysiol, 2010.
* L. Bar-On et al., "A clinical measurement to quantify spasticity in children with
  cerebral palsy by integration of multidimensional signals", Gait Posture 38:141-147,
  2013; L. Bar-On et al., "Spasticity and its contribution to hypertonia in cerebral
  palsy", Biomed Res Int, 2015.

Not a medical device: a measurement aid for a clinician, tested on simulated joints only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import signal as sps
from scipy import stats

from .angle_series import (
    MAX_CUTOFF_RATIO,
    AngleSeries,
    Kinematics,
    TardieuInputError,
    kinematics,
    noise_gains,
)
from .catch_glrt import confirms_catch
from .catch_pool import CANDIDATE_DECEL, CANDIDATE_DEPTH, PooledCatch, pool_catches

__all__ = ["AngleSeries", "TardieuInputError", "TardieuResult", "analyse_tardieu"]

DETECT_CUTOFFS_HZ = (6.0, 5.0, 4.0)
NOISE_Z = 4.0
NOISE_BAR_PER_S = 1.5
SUDDEN_PER_S_PER_HZ = 0.5
SLOW_NOISE_Z = 2.33
MIN_STRETCH_DEG = 10.0
RELEASE_MIN_DEG = 5.0
DIP_MIN_FRACTION = 0.2
EASED_FRACTION = 0.25
DECEL_RATIO_MIN = 2.0
SLOW_DECEL_PERCENTILE = 99.0
SLOW_MAX_DEG_S = 15.0
FAST_MIN_DEG_S = 100.0
FAST_MIN_RATIO = 5.0
NEAR_R2_DEG = 10.0
NOISE_MAX_DEG = 1.0
# Weak peaks (0.5x the bars, under the pooling's 0.75x candidate bars) become candidates
# only when the matched-filter test on the raw angle confirms a catch-shaped dip there.
WEAK_DECEL = 0.5
WEAK_DEPTH = 0.5


def find_stretches(smooth_deg: np.ndarray) -> list[tuple[int, int]]:
    """(rest, end of range) sample pairs of each stretch movement in a smoothed angle
    (stretch coordinates): end-range peaks with a prominence of at least half the
    recording's span (and ``MIN_STRETCH_DEG``), each from the lowest point before it."""
    span = float(smooth_deg.max() - smooth_deg.min())
    if span < MIN_STRETCH_DEG:
        raise TardieuInputError(
            f"no stretch found: the angle varies by only {span:.1f} deg "
            f"(at least {MIN_STRETCH_DEG:g} deg needed)"
        )
    padded = np.concatenate([[smooth_deg.min()], smooth_deg, [smooth_deg.min()]])
    peaks, _ = sps.find_peaks(padded, prominence=max(MIN_STRETCH_DEG, 0.5 * span))
    out: list[tuple[int, int]] = []
    prev = 0
    for p in peaks - 1:
        rest = prev + int(np.argmin(smooth_deg[prev : p + 1]))
        if smooth_deg[p] - smooth_deg[rest] >= MIN_STRETCH_DEG:
            out.append((rest, int(p)))
        prev = int(p)
    if not out:
        raise TardieuInputError("no stretch found (no movement from rest to an end of range)")
    return out


@dataclass(frozen=True)
class SlowStretch:
    """One slow stretch: its range (deg), peak velocity (deg/s), largest deceleration."""

    r2_deg: float
    peak_velocity_deg_s: float
    max_decel_deg_s2: float
    samples: int


def analyse_slow_stretch(kin: Kinematics, rest_i: int, end_i: int) -> SlowStretch:
    """R2: 90th percentile of the smoothed angle where it is within 3 deg of its maximum
    around the end of range; peak velocity from the smoothed angle."""
    s = kin.smooth_deg
    top = s[end_i]
    lo = end_i
    while lo > rest_i and s[lo - 1] >= top - 3.0:
        lo -= 1
    hi = end_i
    while hi < s.size - 1 and s[hi + 1] >= top - 3.0:
        hi += 1
    r2 = float(np.percentile(s[lo : hi + 1], 90))
    v_smooth = np.gradient(s, 1.0 / kin.rate_hz)
    decel = -kin.accel_deg_s2[rest_i : hi + 1]
    return SlowStretch(
        r2_deg=r2,
        peak_velocity_deg_s=float(v_smooth[rest_i : end_i + 1].max()),
        max_decel_deg_s2=_less_noise(
            float(np.percentile(decel, SLOW_DECEL_PERCENTILE)),
            SLOW_NOISE_Z * kin.accel_noise_deg_s2,
        ),
        samples=int((end_i - rest_i) * kin.input_rate_hz / kin.rate_hz) + 1,
    )


def _less_noise(measured: float, noise: float) -> float:
    """A deceleration percentile less the part expected from noise (in quadrature), >= 0."""
    return math.sqrt(max(measured, 0.0) ** 2 - noise**2) if measured > noise else 0.0


@dataclass(frozen=True)
class FastTrial:
    """One fast stretch: peak velocity, catch (R1, in stretch coordinates) and why not."""

    peak_velocity_deg_s: float
    end_deg: float
    catch_deg: float | None
    decel_deg_s2: float | None
    release_deg: float | None
    note: str
    samples: int
    # (angle, decel / bar, depth / minimum) of peaks for pooling (.catch_pool): from 0.75x
    # the bars, and weaker ones (from 0.5x) that the matched filter confirmed (.catch_glrt)
    candidates: tuple[tuple[float, float, float], ...] = ()
    confirmed_weak: tuple[tuple[float, float, float], ...] = ()


def detection_cutoff_hz(kin: Kinematics, v_peak: float) -> float:
    """The highest cut-off of ``DETECT_CUTOFFS_HZ`` at which noise alone stays under the
    suddenness bar: ``NOISE_Z`` x the noise's acceleration SD at most
    ``SUDDEN_PER_S_PER_HZ`` x cut-off x the stretch's peak velocity (so a noisier or slower
    stretch is filtered more)."""
    for cutoff in DETECT_CUTOFFS_HZ:
        cutoff = min(cutoff, MAX_CUTOFF_RATIO * kin.input_rate_hz)
        gain = noise_gains(kin.input_rate_hz, kin.rate_hz, cutoff)[1]
        if (
            NOISE_Z * kin.noise_deg * gain
            <= NOISE_BAR_PER_S * SUDDEN_PER_S_PER_HZ * cutoff * v_peak
        ):
            return cutoff
    return DETECT_CUTOFFS_HZ[-1]


def _judge_decel(
    kin: Kinematics, rest_i: int, end_i: int, peak_i: int, v_peak: float, floor: float
) -> tuple[str, int, int, float, float, float]:
    """Judge one deceleration peak: (verdict, episode start, release, deceleration, release
    distance, depth ratio).

    The catch episode runs from where the deceleration began to where it has eased to
    ``EASED_FRACTION`` of its peak (the release); the joint must then move on by
    ``RELEASE_MIN_DEG``. The velocity must have dropped by ``DIP_MIN_FRACTION`` of the
    stretch's peak velocity (and by ``NOISE_Z`` x its noise SD), from at least half of it.
    The depth ratio is the velocity drop over that minimum (0 when the drop starts below
    half the peak velocity)."""
    v, acc, ang = kin.velocity_deg_s, kin.accel_deg_s2, kin.angle_deg
    decel = float(-acc[peak_i])
    eased = np.flatnonzero(acc[peak_i : end_i + 1] >= -EASED_FRACTION * decel)
    release_i = peak_i + int(eased[0]) if eased.size else end_i
    began = np.flatnonzero(acc[rest_i : peak_i + 1] >= 0.0)
    start_i = rest_i + int(began[-1]) if began.size else rest_i
    top = float(v[rest_i : peak_i + 1].max())
    depth = top - float(v[peak_i : release_i + 1].min())
    release = float(ang[end_i] - ang[release_i])
    min_depth = max(DIP_MIN_FRACTION * v_peak, NOISE_Z * kin.velocity_noise_deg_s)
    depth_ratio = depth / min_depth if top >= 0.5 * v_peak else 0.0
    if depth_ratio < 1.0:
        verdict = "shallow"
    elif decel < floor:
        verdict = "weak"
    elif release < RELEASE_MIN_DEG:
        verdict = "no_release"
    else:
        verdict = "catch"
    return verdict, start_i, release_i, decel, release, depth_ratio


def analyse_fast_stretch(
    kin: Kinematics, rest_i: int, stop_i: int, slow_decel_deg_s2: float
) -> FastTrial:
    """Look for a catch between rest and the end of range (the largest angle before
    ``stop_i``): the strongest deceleration peak that passes every test of the module doc,
    found at the noise-dependent detection cut-off; R1 is then the angle at maximal
    deceleration within that catch episode at the kinematic cut-off of ``kin``."""
    end_i = rest_i + int(np.argmax(kin.angle_deg[rest_i : stop_i + 1]))
    v_peak = float(kin.velocity_deg_s[rest_i : end_i + 1].max())
    samples = int((end_i - rest_i) * kin.input_rate_hz / kin.rate_hz) + 1
    det = kin.refiltered(detection_cutoff_hz(kin, v_peak))
    floor = max(
        NOISE_Z * det.accel_noise_deg_s2,
        DECEL_RATIO_MIN * slow_decel_deg_s2,
        SUDDEN_PER_S_PER_HZ * det.cutoff_hz * v_peak,
    )
    peaks, _ = sps.find_peaks(-det.accel_deg_s2[rest_i : end_i + 1])
    best: tuple[str, int, int, float, float, float] | None = None
    rejected: set[str] = set()
    candidates: list[tuple[float, float, float]] = []
    weak: list[tuple[float, float, float]] = []
    for k in rest_i + peaks:
        judged = _judge_decel(det, rest_i, end_i, int(k), v_peak, floor)
        verdict, start_i, release_i, decel, release, depth_ratio = judged
        if verdict == "catch" and (best is None or decel > best[3]):
            best = judged
        elif verdict != "catch":
            rejected.add(verdict)
        if (
            release >= RELEASE_MIN_DEG
            and decel >= CANDIDATE_DECEL * floor
            and depth_ratio >= CANDIDATE_DEPTH
        ):
            candidates.append((_r1_angle(kin, start_i, release_i), decel / floor, depth_ratio))
        elif (
            release >= RELEASE_MIN_DEG
            and decel >= WEAK_DECEL * floor
            and depth_ratio >= WEAK_DEPTH
            and confirms_catch(kin, (start_i, int(k), end_i), v_peak, RELEASE_MIN_DEG)
        ):
            weak.append((_r1_angle(kin, start_i, release_i), decel / floor, depth_ratio))
    end_deg = float(kin.angle_deg[end_i])
    if best is not None:
        _, start_i, release_i, decel, release, _ = best
        return FastTrial(
            v_peak,
            end_deg,
            _r1_angle(kin, start_i, release_i),
            decel,
            release,
            "catch then release",
            samples,
            tuple(candidates),
            tuple(weak),
        )
    note = "no catch"
    if "no_release" in rejected:
        note = "no catch: a deceleration near the end of range was not followed by release"
    return FastTrial(
        v_peak, end_deg, None, None, None, note, samples, tuple(candidates), tuple(weak)
    )


def _r1_angle(kin: Kinematics, start_i: int, release_i: int) -> float:
    """The angle at maximal deceleration (kinematic cut-off) within a catch episode."""
    at = start_i + int(np.argmin(kin.accel_deg_s2[start_i : release_i + 1]))
    return float(kin.angle_deg[at])


@dataclass(frozen=True)
class TardieuResult:
    """The outcome of :func:`analyse_tardieu` (angles in deg, as recorded)."""

    r1_deg: float | None
    r2_deg: float
    dynamic_component_deg: float | None
    catch_detected: bool
    v_slow_deg_s: float
    v_fast_deg_s: list[float]
    trials: list[dict]
    catch_velocity_slope: dict | None
    quality: dict
    reaction_hint: str
    increasing: bool = True
    pooled: dict | None = None

    def to_json(self) -> dict:
        """The ``openrehab tardieu --json`` object."""
        return {
            "r1_deg": _round(self.r1_deg),
            "r2_deg": _round(self.r2_deg),
            "dynamic_component_deg": _round(self.dynamic_component_deg),
            "catch_detected": self.catch_detected,
            "v_slow_deg_s": _round(self.v_slow_deg_s),
            "v_fast_deg_s": [_round(v) for v in self.v_fast_deg_s],
            "quality": self.quality,
            "trials": self.trials,
            "catch_velocity_slope": self.catch_velocity_slope,
            "reaction_hint": self.reaction_hint,
            "angle_increases_with_stretch": self.increasing,
            "pooled": self.pooled,
        }


def _round(x: float | None, digits: int = 1) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


def catch_velocity_slope(trials: Sequence[FastTrial]) -> dict | None:
    """Theil-Sen slope of catch angle (stretch coordinates) vs peak velocity, deg per
    deg/s, with n; None with fewer than 2 trials with a catch at distinct velocities."""
    pts = [(t.peak_velocity_deg_s, t.catch_deg) for t in trials if t.catch_deg is not None]
    if len(pts) < 2 or len({round(v) for v, _ in pts}) < 2:
        return None
    v, c = np.array(pts).T
    slope, _, lo, hi = stats.theilslopes(c, v)
    return {
        "deg_per_deg_s": round(float(slope), 4),
        "ci95": [round(float(lo), 4), round(float(hi), 4)],
        "n": len(pts),
        "method": "Theil-Sen",
    }


def _issue(code: str, message: str, penalty: float) -> dict:
    return {"code": code, "message": message, "penalty": penalty}


def assess_quality(
    slow: Sequence[SlowStretch],
    trials: Sequence[FastTrial],
    r2_deg: float,
    noise_deg: float,
    input_rate_hz: float,
) -> dict:
    """How far to trust the result: ``score`` = 1 minus the penalties of the issues found
    (at least 0), and the issues (code, message, penalty). See docs/tardieu.md."""
    v_slow = max(s.peak_velocity_deg_s for s in slow)
    issues = []
    if v_slow > SLOW_MAX_DEG_S:
        issues.append(
            _issue(
                "slow_too_fast",
                f"slow stretch reached {v_slow:.0f} deg/s "
                f"(V1 should stay below {SLOW_MAX_DEG_S:g}): R2 may be short",
                0.3,
            )
        )
    need = max(FAST_MIN_DEG_S, FAST_MIN_RATIO * v_slow)
    slow_trials = [t for t in trials if t.peak_velocity_deg_s < need]
    if slow_trials:
        issues.append(
            _issue(
                "fast_too_slow",
                f"{len(slow_trials)} of {len(trials)} fast "
                f"stretches below {need:.0f} deg/s: a catch may be missed",
                0.3 if len(slow_trials) == len(trials) else 0.15,
            )
        )
    short = [t for t in trials if t.end_deg < r2_deg - NEAR_R2_DEG]
    if short:
        issues.append(
            _issue(
                "short_of_range",
                f"{len(short)} fast stretches stopped more than {NEAR_R2_DEG:g} deg before R2",
                0.2,
            )
        )
    if any(t.note.startswith("no catch: a deceleration") for t in trials):
        issues.append(
            _issue(
                "no_release",
                "a deceleration without release near the end of range (not counted as a catch)",
                0.1,
            )
        )
    if noise_deg > NOISE_MAX_DEG:
        issues.append(
            _issue(
                "noisy",
                f"sensor noise about {noise_deg:.1f} deg "
                f"(above {NOISE_MAX_DEG:g} deg): angles less precise",
                0.2,
            )
        )
    if min([s.samples for s in slow] + [t.samples for t in trials]) < 15:
        issues.append(_issue("few_samples", "a stretch has fewer than 15 samples", 0.3))
    if input_rate_hz < 50:
        issues.append(
            _issue(
                "low_rate",
                f"sampled at {input_rate_hz:.0f} Hz (below 50 Hz): "
                "R1 is less precise in fast stretches",
                0.1,
            )
        )
    score = max(0.0, 1.0 - sum(i["penalty"] for i in issues))
    return {"score": round(score, 2), "issues": issues}


def _reaction_hint(catch: bool) -> str:
    if catch:
        return (
            "catch then release (like Tardieu grade 2; indicative only: "
            "the 0-5 grade is the examiner's judgement)"
        )
    return "no catch found (indicative only: the 0-5 grade is the examiner's judgement)"


def analyse_tardieu(
    slow: AngleSeries, fast: Sequence[AngleSeries], *, increasing: bool = True
) -> TardieuResult:
    """R1, R2, velocities and quality from one slow and one or more fast recordings."""
    if not fast:
        raise TardieuInputError("at least one fast (V3) recording is needed")
    sign = 1.0 if increasing else -1.0
    slow_kin = kinematics(slow, increasing=increasing)
    slow_parts = [analyse_slow_stretch(slow_kin, a, b) for a, b in _stretches(slow_kin, "slow")]
    r2 = float(np.median([s.r2_deg for s in slow_parts]))
    slow_decel = max(s.max_decel_deg_s2 for s in slow_parts)
    trials: list[FastTrial] = []
    noise = [slow_kin.noise_deg]
    rates = [slow_kin.input_rate_hz]
    for n, series in enumerate(fast, start=1):
        kin = kinematics(series, increasing=increasing)
        noise.append(kin.noise_deg)
        rates.append(kin.input_rate_hz)
        spans = _stretches(kin, f"fast #{n}")
        stops = [a for a, _ in spans[1:]] + [kin.angle_deg.size - 1]
        for (rest_i, _), stop_i in zip(spans, stops, strict=True):
            trials.append(analyse_fast_stretch(kin, rest_i, stop_i, slow_decel))
    pooled: PooledCatch | None = None
    if len(trials) >= 2:
        pooled = pool_catches(trials)
        r1 = pooled.r1_deg
    else:
        r1 = trials[0].catch_deg
    slope = catch_velocity_slope(trials)
    if slope is not None and not increasing:
        slope["deg_per_deg_s"] = -slope["deg_per_deg_s"]
        slope["ci95"] = [-slope["ci95"][1], -slope["ci95"][0]]
    return TardieuResult(
        r1_deg=None if r1 is None else sign * r1,
        r2_deg=sign * r2,
        dynamic_component_deg=None if r1 is None else r2 - r1,
        catch_detected=r1 is not None,
        v_slow_deg_s=max(s.peak_velocity_deg_s for s in slow_parts),
        v_fast_deg_s=[t.peak_velocity_deg_s for t in trials],
        trials=[_trial_json(t, sign) for t in trials],
        catch_velocity_slope=slope,
        quality=assess_quality(slow_parts, trials, r2, max(noise), min(rates)),
        reaction_hint=_reaction_hint(r1 is not None),
        increasing=increasing,
        pooled=None if pooled is None else pooled.to_json(len(trials)),
    )


def _stretches(kin: Kinematics, what: str) -> list[tuple[int, int]]:
    try:
        return find_stretches(kin.smooth_deg)
    except TardieuInputError as exc:
        raise TardieuInputError(f"{what} recording: {exc}") from None


def _trial_json(t: FastTrial, sign: float) -> dict:
    return {
        "velocity_deg_s": _round(t.peak_velocity_deg_s),
        "catch_detected": t.catch_deg is not None,
        "catch_angle_deg": None if t.catch_deg is None else _round(sign * t.catch_deg),
        "deceleration_deg_s2": _round(t.decel_deg_s2, 0),
        "release_deg": _round(t.release_deg),
        "end_angle_deg": _round(sign * t.end_deg),
        "note": t.note,
    }
