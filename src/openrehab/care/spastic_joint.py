"""A simulated spastic joint stretched by an examiner, for tests and the Tardieu benchmark.

The joint angle ``angle_deg`` increases as the muscle is stretched (e.g. elbow extension for
the elbow flexors). One degree of freedom:

``I * acc = examiner + passive + viscous + reflex`` (torques in N m, ``I`` in kg m^2).

* **Examiner**: a compliant position servo (stiffness N m/deg, damping N m/(deg/s), force
  limited) tracking a commanded stretch: rest, a ramp up to the commanded velocity (slow V1
  ~5-10 deg/s or fast V3 100-400 deg/s, with a small irregularity of the hand), a push past
  the end of range, a hold, then the return.
* **Passive tissue**: an exponential torque rising in the last ~15 deg before the end of
  range (``r2_deg`` is where the examiner's force limit is met), plus viscosity.
* **Stretch reflex** (spastic joints): the tonic stretch reflex threshold of Levin & Feldman
  (1994) and Calota et al. (2008): a burst of reflex torque starts, after a delay, when the
  stretch velocity exceeds ``velocity_threshold_deg_s`` and the angle passes
  ``threshold_angle_deg - threshold_slope_s * velocity`` (a threshold that falls as velocity
  rises). The burst's torque grows with the stretch velocity; it lasts ``burst_s`` and is
  then inhibited for the rest of the stretch (the release: the examiner's push goes on and
  the joint continues toward R2). Optional clonus: decaying bursts at ``clonus_hz``.
* **Sensor**: samples at ``rate_hz`` (30 Hz for a camera), Gaussian noise (deg), optional
  timestamp jitter.

Slow stretches are quasi-static (inertia is negligible at a few deg/s): the angle is the
equilibrium of the servo and the tissue at each instant. Fast stretches are integrated at
1 kHz (semi-implicit Euler). The ground truth comes from the noiseless 1 kHz kinematics: R1
is the angle at maximal deceleration during the catch (between the reflex onset and the
first velocity trough after it) when the joint then moves on by at least
``RELEASE_MIN_DEG``; R2 is the largest angle of the noiseless slow stretch.

Examinations: :func:`simulate_case` (one slow and one fast recording) and
:func:`simulate_examination` (one slow and ``n_fast`` fast trials of the same joint, the
examiner's speed varying by +-15 % from trial to trial).

References: M.F. Levin, A.G. Feldman, Brain Res 657:23-30, 1994; S. Calota et al., Clin
Neurophysiol 119:2329-2337, 2008. This is a test model, not a validated muscle model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .angle_series import AngleSeries
from .tardieu import RELEASE_MIN_DEG

SIM_RATE_HZ = 1000.0
CLEAR_DIP_FRACTION = 0.3
CLEAR_RISE_FRACTION = 0.1
_DEG = math.pi / 180.0


@dataclass(frozen=True)
class JointParams:
    """One joint: range, tissue and (when ``spastic``) its stretch reflex."""

    r2_deg: float = 120.0
    rest_deg: float = 20.0
    inertia_kg_m2: float = 0.06
    stiffness_width_deg: float = 5.0
    viscosity_nm_per_deg_s: float = 0.0008
    tissue_damping_s: float = 0.03
    spastic: bool = True
    threshold_angle_deg: float = 130.0
    threshold_slope_s: float = 0.2
    velocity_threshold_deg_s: float = 60.0
    reflex_gain_nm_per_deg_s: float = 0.03
    reflex_delay_s: float = 0.03
    burst_s: float = 0.07
    clonus_hz: float | None = None
    clonus_beats: int = 3


@dataclass(frozen=True)
class ExaminerParams:
    """The examiner's hand: a force-limited servo."""

    stiffness_nm_per_deg: float = 0.15
    damping_nm_per_deg_s: float = 0.025
    max_torque_nm: float = 8.0
    push_past_deg: float = 15.0
    hold_s: float = 0.4
    wobble: float = 0.08


@dataclass(frozen=True)
class SensorParams:
    """The angle sensor: sampling rate (Hz), Gaussian noise (deg), timestamp jitter (s)."""

    rate_hz: float = 100.0
    noise_deg: float = 0.0
    jitter_s: float = 0.0


@dataclass(frozen=True)
class StretchTruth:
    """Ground truth of one simulated stretch (noiseless 1 kHz kinematics)."""

    peak_velocity_deg_s: float
    end_deg: float
    reflex: bool
    catch: bool
    r1_deg: float | None


@dataclass(frozen=True)
class SimulatedRecording:
    """What the sensor saw, and the truth of each stretch in it."""

    series: AngleSeries
    stretches: tuple[StretchTruth, ...]


def passive_torque_nm(angle_deg: np.ndarray | float, joint: JointParams, limit_nm: float):
    """Tissue torque (N m, negative = resisting the stretch): exponential toward the end of
    range, zero at rest; equals ``-limit_nm`` at ``joint.r2_deg``."""
    w = joint.stiffness_width_deg
    x = np.minimum((np.asarray(angle_deg) - joint.r2_deg) / w, 40.0)
    x0 = (joint.rest_deg - joint.r2_deg) / w
    return -limit_nm * (np.exp(x) - math.exp(x0))


def command_profile(
    joint: JointParams,
    examiner: ExaminerParams,
    velocity_deg_s: float,
    n_stretches: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """The examiner's commanded angle (deg) and velocity (deg/s) at 1 kHz, and the sample
    ranges of each stretch (start of the push to end of the hold)."""
    dt = 1.0 / SIM_RATE_HZ
    ramp_s = min(0.5, max(0.06, velocity_deg_s / 4000.0))
    target = joint.r2_deg + examiner.push_past_deg
    vel: list[np.ndarray] = []
    spans: list[tuple[int, int]] = []
    n = 0
    for _ in range(n_stretches):
        rest = np.zeros(int(rng.uniform(0.4, 0.7) * SIM_RATE_HZ))
        span = target - joint.rest_deg
        dur = span / velocity_deg_s + ramp_s
        t = np.arange(0, dur, dt)
        shape = np.clip(t / ramp_s, 0, 1)
        shape = 0.5 - 0.5 * np.cos(np.pi * shape)
        phase = rng.uniform(0, 2 * np.pi)
        wobble = 1 + examiner.wobble * np.sin(2 * np.pi * t / max(dur, 0.2) * 1.5 + phase)
        push = velocity_deg_s * shape * wobble
        push *= span / (push.sum() * dt)
        hold = np.zeros(int(examiner.hold_s * SIM_RATE_HZ))
        back_s = span / 90.0
        tb = np.arange(0, back_s, dt)
        back = -(span / back_s) * (1 - np.cos(2 * np.pi * tb / back_s))
        back *= span / (-back.sum() * dt)
        spans.append((n + rest.size, n + rest.size + push.size + hold.size))
        vel += [rest, push, hold, back]
        n += rest.size + push.size + hold.size + back.size
    v_cmd = np.concatenate([*vel, np.zeros(int(0.4 * SIM_RATE_HZ))])
    theta_cmd = joint.rest_deg + np.cumsum(v_cmd) * dt
    return theta_cmd, v_cmd, spans


def _quasi_static(
    theta_cmd: np.ndarray, v_cmd: np.ndarray, joint: JointParams, examiner: ExaminerParams
) -> np.ndarray:
    """Angle where the force-limited servo balances tissue torque (bisection, vectorised)."""
    lo = theta_cmd - 200.0
    hi = theta_cmd + 50.0
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        servo = np.clip(
            examiner.stiffness_nm_per_deg * (theta_cmd - mid),
            -examiner.max_torque_nm,
            examiner.max_torque_nm,
        )
        net = servo + passive_torque_nm(mid, joint, examiner.max_torque_nm)
        net -= joint.viscosity_nm_per_deg_s * v_cmd
        lo = np.where(net > 0, mid, lo)
        hi = np.where(net > 0, hi, mid)
    return 0.5 * (lo + hi)


def _burst_schedule(joint: JointParams, start_i: int, amp_nm: float) -> list[tuple[int, float]]:
    """(start sample, torque N m) of the reflex burst and its clonus beats."""
    beats = [(start_i, amp_nm)]
    if joint.clonus_hz:
        period = int(SIM_RATE_HZ / joint.clonus_hz)
        for k in range(1, joint.clonus_beats + 1):
            beats.append((start_i + k * period, amp_nm * 0.45**k))
    return beats


def _integrate(
    theta_cmd: np.ndarray, v_cmd: np.ndarray, joint: JointParams, examiner: ExaminerParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """Fast stretch dynamics at 1 kHz: angle (deg), velocity (deg/s), acceleration
    (deg/s^2) and the samples where a reflex burst was triggered."""
    dt = 1.0 / SIM_RATE_HZ
    n = theta_cmd.size
    # Plain Python floats in the loop (numpy scalars are several times slower here).
    th, vel, acc = [0.0] * n, [0.0] * n, [0.0] * n
    th[0] = joint.rest_deg
    delay = round(joint.reflex_delay_s * SIM_RATE_HZ)
    burst_n = round(joint.burst_s * SIM_RATE_HZ)
    to_deg = 1.0 / (joint.inertia_kg_m2 * _DEG)
    exc = np.zeros(n)
    exc_l = exc.tolist()
    cmd, v_c = theta_cmd.tolist(), v_cmd.tolist()
    armed, triggers, act = True, [], 0.0
    rearm_deg = joint.rest_deg + 0.25 * (joint.r2_deg - joint.rest_deg)
    lim = examiner.max_torque_nm
    w = joint.stiffness_width_deg
    x0 = math.exp((joint.rest_deg - joint.r2_deg) / w)
    k_s, k_d = examiner.stiffness_nm_per_deg, examiner.damping_nm_per_deg_s
    spastic, v_thr = joint.spastic, joint.velocity_threshold_deg_s
    lam0, mu = joint.threshold_angle_deg, joint.threshold_slope_s
    r2, visc, tissue = joint.r2_deg, joint.viscosity_nm_per_deg_s, joint.tissue_damping_s / w
    exp = math.exp
    for i in range(n - 1):
        j = i - delay
        if j >= 0 and th[j] < rearm_deg:
            armed = True  # back near rest: the next stretch may catch again
        if spastic and armed and j >= 0 and vel[j] > v_thr:
            lam = lam0 - mu * vel[j]
            if th[j] > lam:
                armed = False
                triggers.append(i)
                amp = joint.reflex_gain_nm_per_deg_s * (vel[j] - joint.velocity_threshold_deg_s)
                for b0, a in _burst_schedule(joint, i, amp):
                    exc[b0 : b0 + burst_n] = np.maximum(exc[b0 : b0 + burst_n], a)
                exc_l = exc.tolist()
        tau_act = 0.015 if exc_l[i] > act else 0.03
        act += (exc_l[i] - act) * dt / tau_act
        servo = k_s * (cmd[i] - th[i]) + k_d * (v_c[i] - vel[i])
        torque = max(-lim, min(lim, servo)) - act
        # passive_torque_nm, in scalars
        th_i, vel_i = th[i], vel[i]
        passive = -lim * (exp(min((th_i - r2) / w, 40.0)) - x0)
        torque += passive - (visc - tissue * passive) * vel_i
        acc[i] = a_i = torque * to_deg
        vel[i + 1] = v_next = vel_i + a_i * dt
        th[i + 1] = th_i + v_next * dt
    acc[-1] = acc[-2]
    return np.array(th), np.array(vel), np.array(acc), triggers


def _catch_truth(
    th: np.ndarray, vel: np.ndarray, acc: np.ndarray, span: tuple[int, int], trig: int | None
) -> tuple[bool, float | None]:
    """(clear catch, R1). R1 is the angle at maximal deceleration between the reflex onset
    and the first velocity trough after it. The catch is clear when the velocity fell by at
    least ``CLEAR_DIP_FRACTION`` of the stretch's peak velocity, rose again by at least
    ``CLEAR_RISE_FRACTION`` of it, and the joint moved on by ``RELEASE_MIN_DEG`` or more."""
    if trig is None:
        return False, None
    a, b = span
    k = trig + 1
    while k < b - 1 and not (acc[k - 1] < 0 <= acc[k]):
        k += 1
    end = k + int(np.argmax(th[k:b]))
    v_peak = float(vel[a:b].max())
    depth = float(vel[a:k].max() - vel[k])
    rise = float(vel[k : end + 1].max() - vel[k])
    if (
        depth < CLEAR_DIP_FRACTION * v_peak
        or rise < CLEAR_RISE_FRACTION * v_peak
        or th[end] - th[k] < RELEASE_MIN_DEG
    ):
        return False, None
    return True, float(th[trig + int(np.argmin(acc[trig : k + 1]))])


def _sample(
    t_sim: np.ndarray, th: np.ndarray, sensor: SensorParams, rng: np.random.Generator
) -> AngleSeries:
    """What the sensor records: resampled at its rate, with jitter and noise."""
    t = np.arange(0.0, t_sim[-1], 1.0 / sensor.rate_hz)
    if sensor.jitter_s > 0:
        jitter = rng.uniform(-sensor.jitter_s, sensor.jitter_s, t.size)
        jitter = np.minimum(np.abs(jitter), 0.45 / sensor.rate_hz) * np.sign(jitter)
        t = np.clip(t + jitter, 0.0, t_sim[-1])
        t[0] = 0.0
    angle = np.interp(t, t_sim, th) + rng.normal(0.0, sensor.noise_deg, t.size)
    return AngleSeries.from_lists(t, angle)


def simulate_stretch(
    joint: JointParams,
    velocity_deg_s: float,
    *,
    sensor: SensorParams | None = None,
    examiner: ExaminerParams | None = None,
    n_stretches: int = 1,
    seed: int | np.random.Generator = 0,
) -> SimulatedRecording:
    """Simulate ``n_stretches`` stretches at the commanded ``velocity_deg_s`` (below
    30 deg/s: quasi-static, no reflex dynamics needed; otherwise integrated)."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    sensor = sensor or SensorParams()
    examiner = examiner or ExaminerParams()
    theta_cmd, v_cmd, spans = command_profile(joint, examiner, velocity_deg_s, n_stretches, rng)
    t_sim = np.arange(theta_cmd.size) / SIM_RATE_HZ
    triggers: list[int] = []
    if velocity_deg_s < 30.0:
        th = _quasi_static(theta_cmd, v_cmd, joint, examiner)
        vel = np.gradient(th, 1.0 / SIM_RATE_HZ)
        acc = np.gradient(vel, 1.0 / SIM_RATE_HZ)
    else:
        th, vel, acc, triggers = _integrate(theta_cmd, v_cmd, joint, examiner)
    truths = []
    for a, b in spans:
        trig = next((i for i in triggers if a <= i < b), None)
        catch, r1 = _catch_truth(th, vel, acc, (a, b), trig)
        peak, end = float(vel[a:b].max()), float(th[a:b].max())
        truths.append(StretchTruth(peak, end, trig is not None, catch, r1))
    return SimulatedRecording(_sample(t_sim, th, sensor, rng), tuple(truths))


def random_joint(rng: np.random.Generator, *, spastic: bool) -> JointParams:
    """A plausible joint: range 70-150 deg from rest; when spastic, a reflex whose catch
    falls mid-range at 100-400 deg/s (threshold falling 0.1-0.3 deg per deg/s)."""
    rest = float(rng.uniform(0, 30))
    r2 = rest + float(rng.uniform(70, 150))
    slope = float(rng.uniform(0.1, 0.3))
    # At 250 deg/s the threshold lies 35-75 % of the way through the range.
    lam250 = rest + (r2 - rest) * float(rng.uniform(0.35, 0.75))
    return JointParams(
        r2_deg=r2,
        rest_deg=rest,
        inertia_kg_m2=float(rng.uniform(0.04, 0.09)),
        stiffness_width_deg=float(rng.uniform(3.0, 7.0)),
        spastic=spastic,
        threshold_angle_deg=lam250 + slope * 250.0,
        threshold_slope_s=slope,
        velocity_threshold_deg_s=float(rng.uniform(30, 70)),
        reflex_gain_nm_per_deg_s=float(rng.uniform(0.02, 0.045)),
        clonus_hz=float(rng.uniform(5, 8)) if rng.random() < 0.3 else None,
    )


def non_spastic(joint: JointParams) -> JointParams:
    """The same joint without a stretch reflex."""
    return replace(joint, spastic=False)


@dataclass(frozen=True)
class TardieuCase:
    """A simulated Tardieu examination: one slow and one fast recording, and the truth."""

    joint: JointParams
    slow: SimulatedRecording
    fast: SimulatedRecording

    @property
    def true_r2_deg(self) -> float:
        """Largest angle of the noiseless slow stretch(es) (median over stretches)."""
        return float(np.median([s.end_deg for s in self.slow.stretches]))

    @property
    def true_catch(self) -> bool:
        """A clear catch (then release) in at least one fast stretch."""
        return any(s.catch for s in self.fast.stretches)

    @property
    def ambiguous(self) -> bool:
        """A reflex fired but gave no clear catch in any stretch (like Tardieu grade 1,
        a slight resistance): neither a catch case nor a no-catch case for scoring."""
        return not self.true_catch and any(s.reflex for s in self.fast.stretches)

    @property
    def true_r1_deg(self) -> float | None:
        """Median of the true catch angles of the fast stretches with a catch."""
        r1 = [s.r1_deg for s in self.fast.stretches if s.r1_deg is not None]
        return float(np.median(r1)) if r1 else None


def simulate_case(
    seed: int,
    *,
    spastic: bool,
    fast_velocity_deg_s: float,
    sensor: SensorParams,
    slow_velocity_deg_s: float | None = None,
    n_fast_stretches: int = 1,
) -> TardieuCase:
    """A random joint (``random_joint``) examined at V1 (5-10 deg/s unless given) and at
    ``fast_velocity_deg_s``, seen by ``sensor``; deterministic for a seed."""
    rng = np.random.default_rng(seed)
    joint = random_joint(rng, spastic=spastic)
    v_slow = slow_velocity_deg_s or float(rng.uniform(5, 10))
    slow = simulate_stretch(joint, v_slow, sensor=sensor, seed=rng)
    fast = simulate_stretch(
        joint, fast_velocity_deg_s, sensor=sensor, n_stretches=n_fast_stretches, seed=rng
    )
    return TardieuCase(joint, slow, fast)


@dataclass(frozen=True)
class TardieuExamination:
    """One examination: a slow recording and ``n`` fast trials of the same joint (one
    recording each, the examiner's speed varying from trial to trial), and the truth."""

    joint: JointParams
    slow: SimulatedRecording
    fast: tuple[SimulatedRecording, ...]

    @property
    def true_r2_deg(self) -> float:
        """Largest angle of the noiseless slow stretch(es) (median over stretches)."""
        return float(np.median([s.end_deg for s in self.slow.stretches]))

    @property
    def trial_truths(self) -> list[StretchTruth]:
        return [s for rec in self.fast for s in rec.stretches]

    @property
    def n_true_catches(self) -> int:
        return sum(s.catch for s in self.trial_truths)

    @property
    def true_catch(self) -> bool:
        """A clear catch in a majority of the fast trials (2 of 3): a reproducible catch."""
        return 2 * self.n_true_catches > len(self.trial_truths)

    @property
    def no_reflex(self) -> bool:
        """No reflex fired in any fast trial: the examination's no-catch case."""
        return not any(s.reflex for s in self.trial_truths)

    @property
    def ambiguous(self) -> bool:
        """Neither a reproducible catch nor a reflex-free examination (a catch in only one
        of three trials, or reflexes without a clear catch): not scored."""
        return not self.true_catch and not self.no_reflex

    @property
    def true_r1_deg(self) -> float | None:
        """R1 of the examination: the median of the true catch angles of the trials with a
        clear catch."""
        r1 = [s.r1_deg for s in self.trial_truths if s.r1_deg is not None]
        return float(np.median(r1)) if r1 else None


def simulate_examination(
    seed: int,
    *,
    spastic: bool,
    fast_velocity_deg_s: float,
    sensor: SensorParams,
    n_fast: int = 3,
    speed_spread: float = 0.15,
    slow_velocity_deg_s: float | None = None,
) -> TardieuExamination:
    """Like :func:`simulate_case` (the same joint, slow stretch and first draws for a
    seed), then ``n_fast`` fast trials, each at ``fast_velocity_deg_s`` x a uniform factor
    in ``1 +- speed_spread`` (the examiner's "fast" varies), each with its own wobble and
    sensor noise. The reflex threshold law is the joint's, so each trial's true catch
    angle moves with its speed."""
    rng = np.random.default_rng(seed)
    joint = random_joint(rng, spastic=spastic)
    v_slow = slow_velocity_deg_s or float(rng.uniform(5, 10))
    slow = simulate_stretch(joint, v_slow, sensor=sensor, seed=rng)
    speeds = fast_velocity_deg_s * rng.uniform(1 - speed_spread, 1 + speed_spread, n_fast)
    fast = tuple(simulate_stretch(joint, float(v), sensor=sensor, seed=rng) for v in speeds)
    return TardieuExamination(joint, slow, fast)
