"""Automatic mode on body landmarks: the set gate (which reps count), the period-based
counter on landmark features, and the engine that runs both (streaming = file path)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from motion_synth import elbow_pose_frames, min_jerk_bump
from scipy import signal as sps

import openrehab.motion.engine as engine_mod
from openrehab.motion.auto_body import (
    BODY_PERIODIC,
    REP_CONFIDENCE,
    Candidate,
    GateConfig,
    SetGate,
    _PeriodicSet,
)
from openrehab.motion.engine import MotionEngine, analyse_recording
from openrehab.motion.features import periodic_body_features
from openrehab.motion.periodic import PeriodicConfig, PeriodicCounter
from openrehab.motion.recordings import MEDIAPIPE_LANDMARKS, Recording
from openrehab.motion.signals import SignalSpec


def lc(s: float, e: float) -> Candidate:
    return Candidate(s, e, "lc", f"lc {s:g}")


def per(s: float, e: float) -> Candidate:
    return Candidate(s, e, "p", f"p {s:g}")


def feed(gate: SetGate, events: list[Candidate]) -> list[Candidate]:
    out: list[Candidate] = []
    for c in events:
        out += gate.lc(c) if c.src == "lc" else gate.periodic(c)
    return out + gate.finish()


# -- the gate ---------------------------------------------------------------------------------
def test_a_lone_rep_counts_only_when_nothing_else_is_a_set() -> None:
    out = feed(SetGate(), [lc(1.0, 2.5)])
    assert [(c.start_s, c.how) for c in out] == [(1.0, "unconfirmed")]
    # The same rep before a set the periodic counter agrees with is a stray movement.
    set_reps = [lc(10.0 + 2 * i, 11.5 + 2 * i) for i in range(5)]
    periodic = [per(10.0 + 2 * i, 12.0 + 2 * i) for i in range(5)]
    events = [lc(1.0, 2.5), *sorted(set_reps + periodic, key=lambda c: (c.end_s, c.src))]
    out = feed(SetGate(), events)
    assert sorted(c.start_s for c in out) == [10.0, 12.0, 14.0, 16.0, 18.0]
    assert {c.how for c in out} == {"agreed"} and {c.src for c in out} == {"lc"}


def test_without_a_set_the_longest_run_of_similar_reps_counts() -> None:
    # Two similar deliberate reps, then a stray twitch much shorter: no set is recognised
    # (too few, too fast for a chain); the run of the two counts.
    out = feed(SetGate(), [lc(0.0, 2.0), lc(2.5, 4.5), lc(9.0, 9.3)])
    assert [c.start_s for c in out] == [0.0, 2.5]


@pytest.mark.parametrize(("cycle_s", "confirmed"), [(3.4, False), (3.6, True)])
def test_a_chain_of_slow_similar_reps_confirms_itself(cycle_s: float, confirmed: bool) -> None:
    # Reps slower than the periodic counter can judge (cycle >= chain_min_cycle_s, 3.5 s):
    # three in a row with similar durations confirm each other at the third, and a fourth
    # like them is reported as soon as it ends.
    gate = SetGate()
    reps = [lc(i * cycle_s, i * cycle_s + 2.5) for i in range(4)]
    assert gate.lc(reps[0]) == [] and gate.lc(reps[1]) == []
    third = gate.lc(reps[2])
    fourth = gate.lc(reps[3])
    if confirmed:
        assert [c.start_s for c in third] == [0.0, cycle_s, 2 * cycle_s]
        assert [(c.start_s, c.how) for c in fourth] == [(3 * cycle_s, "chain")]
    else:
        assert third == [] and fourth == []


@pytest.mark.parametrize(("n", "confirmed"), [(5, False), (6, True)])
def test_a_long_chain_confirms_itself_at_any_pace(n: int, confirmed: bool) -> None:
    # Fast reps (1.5 s) the periodic counter did not recognise (tracking too noisy for
    # it): six in a row like each other are a set.
    gate = SetGate()
    out = []
    for i in range(n):
        out += gate.lc(lc(1.5 * i, 1.5 * i + 1.3))
    assert len(out) == (n if confirmed else 0)
    assert all(c.how == "chain" for c in out)


def test_without_a_set_reps_like_the_longest_run_count() -> None:
    # Nothing confirmed: a run of two similar reps, a twitch, a third like them after a
    # long pause (not a chain), and a long slow stray movement: the three alike count.
    reps = [lc(0.0, 2.0), lc(2.3, 4.2), lc(5.0, 5.3), lc(30.0, 32.1), lc(40.0, 49.0)]
    out = feed(SetGate(), reps)
    assert [c.start_s for c in out] == [0.0, 2.3, 30.0]
    assert {c.how for c in out} == {"unconfirmed"}


def test_a_chain_breaks_on_a_rep_twice_as_long() -> None:
    gate = SetGate()
    for i in range(3):
        gate.lc(lc(4.0 * i, 4.0 * i + 2.5))
    assert gate.lc(lc(12.0, 17.1)) == []  # 5.1 s > 2 x 2.5 s: not the same movement


def test_a_disagreeing_periodic_set_counts_its_own_reps_when_it_ends() -> None:
    # The level-crossing counter merged a set of 6 into 2 long reps (one glitch set its
    # amplitude reference); the periodic counter counts 6 reps of 2 s.
    merged = [lc(0.0, 6.0), lc(6.0, 12.0)]
    periodic = [per(2.0 * i, 2.0 * i + 2.0) for i in range(6)]
    gate = SetGate()
    out = []
    for c in sorted(merged + periodic, key=lambda c: (c.end_s, c.src)):
        out += gate.lc(c) if c.src == "lc" else gate.periodic(c)
    assert out == []  # in doubt: nothing reported while the set goes on
    out = gate.finish()
    assert [c.start_s for c in out] == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    assert {c.how for c in out} == {"periodic"}
    assert REP_CONFIDENCE["periodic"] < REP_CONFIDENCE["agreed"]


def _lcs_from(durations: list[float], gaps: list[float] | None = None) -> list[Candidate]:
    out, t = [], 0.0
    for i, d in enumerate(durations):
        out.append(lc(t, t + d))
        t += d + (gaps[i] if gaps else 0.0)
    return out


@pytest.mark.parametrize(
    ("lcs", "agrees"),
    [
        (_lcs_from([12 / 7] * 7), True),  # 7 against 6 at about the same pace: within one
        (_lcs_from([1.5] * 8), True),  # 8 against 6, same pace (0.75 x), as regular: stands
        (_lcs_from(list(np.resize([0.9, 2.6, 1.1, 2.2], 8) * 12 / 13.6)), False),  # irregular
        (_lcs_from([0.8, 1.2] * 5), False),  # each rep split in two uneven halves
        (_lcs_from([2.0] * 4, [0.0, 0.0, 4.0, 0.0]), False),  # same pace, two reps missed
        (_lcs_from([3.0] * 4), True),  # 4 slow regular reps: as regular, they stand
    ],
)
def test_when_the_counts_agree(lcs: list[Candidate], agrees: bool) -> None:
    gate = SetGate()
    gate.held = lcs
    ps = _PeriodicSet(reps=[per(2.0 * i, 2.0 * i + 2.0) for i in range(6)])
    assert gate._agrees(ps) is agrees


def test_the_more_regular_counter_stands_when_counts_differ() -> None:
    # 8 level-crossing reps, all 1.5 s, against 6 irregular periodic reps over the same
    # 12 s (its first cycles at a harmonic): the regular level-crossing count stands.
    lcs = [lc(1.5 * i, 1.5 * i + 1.5) for i in range(8)]
    bounds = [0.0, 1.0, 2.0, 5.0, 8.0, 10.0, 12.0]
    periodic = [per(a, b) for a, b in itertools.pairwise(bounds)]
    out = feed(SetGate(), sorted(lcs + periodic, key=lambda c: (c.end_s, c.src)))
    assert len(out) == 8 and {c.src for c in out} == {"lc"}


def test_a_rep_is_never_counted_twice() -> None:
    # Two level-crossing reps were reported (a chain of slow reps) where the periodic set
    # that then disagrees counts 5: it adds 3, not 5.
    gate = SetGate(GateConfig(chain_min_cycle_s=0.0))
    out = []
    for c in [lc(0.0, 2.0), lc(2.0, 4.0), lc(4.0, 6.0)]:
        out += gate.lc(c)
    assert len(out) == 3
    for i in range(8):
        out += gate.periodic(per(2.0 * i, 2.0 * i + 2.0))
    out += gate.finish()
    assert len(out) == 8
    starts = sorted(c.start_s for c in out)
    assert starts == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0]


def test_the_periodic_count_is_the_total_over_its_span() -> None:
    # Three short level-crossing reps were reported (a chain) inside the first periodic
    # reps but cover under half of each; the periodic set then counts 8 and disagrees: the
    # total over its span is 8 (3 already reported + 5), not 3 + 8.
    gate = SetGate(GateConfig(chain_min_cycle_s=0.0))
    out = []
    for s0 in (0.2, 2.2, 4.2):
        out += gate.lc(lc(s0, s0 + 0.7))
    assert len(out) == 3
    for i in range(8):
        out += gate.periodic(per(2.0 * i, 2.0 * i + 2.0))
    out += gate.finish()
    assert len(out) == 8
    assert [c.src for c in out].count("p") == 5


def test_the_last_rep_of_an_agreed_set_counts_after_the_periodic_counter_stopped() -> None:
    # The periodic counter often ends a set one rep early; the level-crossing rep after it
    # continues the agreed reps like a chain.
    lcs = [lc(2.0 * i, 2.0 * i + 1.8) for i in range(5)]
    periodic = [per(2.0 * i, 2.0 * i + 2.0) for i in range(4)]
    events = [*sorted(lcs + periodic, key=lambda c: (c.end_s, c.src)), lc(10.5, 12.3)]
    out = feed(SetGate(), events)
    assert [c.start_s for c in out] == [0.0, 2.0, 4.0, 6.0, 8.0, 10.5]
    assert out[-1].how == "chain"


def test_a_short_periodic_set_vouches_only_for_about_its_own_reps() -> None:
    # Two periodic reps agree with the two level-crossing reps around them: they count.
    two = [lc(0.0, 1.3), lc(2.0, 6.2), per(0.8, 3.1), per(3.3, 6.2), lc(40.0, 40.4)]
    out = feed(SetGate(), two)
    assert [c.start_s for c in out] == [0.0, 2.0] and {c.how for c in out} == {"agreed"}
    # ... but not for eight quick movements of all sizes around them (nothing counts
    # but the run of similar ones at the end).
    quick = [lc(0.4, 1.2), lc(1.4, 3.5), lc(3.7, 4.7), lc(4.9, 6.1), lc(6.6, 8.7)]
    quick += [lc(8.8, 9.2), lc(9.2, 9.7), lc(9.8, 10.4)]
    events = sorted([*quick, per(3.0, 6.4), per(6.4, 8.0)], key=lambda c: (c.end_s, c.src))
    out = feed(SetGate(), [*events, lc(30.0, 31.0)])
    assert len(out) < 8 and "agreed" not in {c.how for c in out}


def test_twitches_at_the_edge_of_an_agreed_set_are_not_its_reps() -> None:
    # The periodic set's reach extends a period before its first rep; the level-crossing
    # counter saw two twitches there (getting into position, 0.4-0.5 s against 2.8 s reps).
    # The set's four reps agree and count; the twitches, unlike them, do not.
    twitches = [lc(1.2, 1.6), lc(1.8, 2.3)]
    lcs = [lc(4.0 + 3.0 * i, 6.8 + 3.0 * i) for i in range(4)]
    periodic = [per(4.0 + 3.0 * i, 7.0 + 3.0 * i) for i in range(4)]
    events = sorted(twitches + lcs + periodic, key=lambda c: (c.end_s, c.src))
    out = feed(SetGate(), events)
    assert [c.start_s for c in out] == [4.0, 7.0, 10.0, 13.0]
    assert {c.how for c in out} == {"agreed"}


def test_an_agreed_set_gets_the_last_rep_only_the_periodic_counter_saw() -> None:
    # The level-crossing counter missed the set's last rep (its return stopped short of
    # the threshold); the periodic counter has it and the counts agree (3 against 4): the
    # set counts 4, the last from the periodic counter, when the set ends.
    lcs = [lc(2.0 * i, 2.0 * i + 1.8) for i in range(3)]
    periodic = [per(2.0 * i, 2.0 * i + 2.0) for i in range(4)]
    out = feed(SetGate(), sorted(lcs + periodic, key=lambda c: (c.end_s, c.src)))
    assert [(c.start_s, c.src) for c in out] == [(0.0, "lc"), (2.0, "lc"), (4.0, "lc"), (6.0, "p")]
    assert out[-1].how == "periodic"
    # ... but not a periodic edge rep unlike the set's (a half cycle extended into the
    # rest after it: 4.5 s against a 2 s period).
    lcs = [lc(2.0 * i, 2.0 * i + 1.8) for i in range(4)]
    periodic = [per(2.0 * i, 2.0 * i + 2.0) for i in range(4)] + [per(9.0, 13.5)]
    out = feed(SetGate(), sorted(lcs + periodic, key=lambda c: (c.end_s, c.src)))
    assert [c.start_s for c in out] == [0.0, 2.0, 4.0, 6.0]


def test_a_rep_at_the_edge_of_an_agreed_set_continues_it() -> None:
    # The next rep starts inside the periodic set's reach (its last rep's end + a period)
    # but mostly after it: like the agreed reps, it continues them.
    lcs = [lc(0.0, 1.8), lc(2.0, 3.8), lc(4.0, 5.8)]
    periodic = [per(0.0, 2.0), per(2.0, 4.0), per(4.0, 6.0)]
    events = sorted(lcs + periodic, key=lambda c: (c.end_s, c.src))
    out = feed(SetGate(), [*events, lc(7.2, 9.0)])
    assert [(c.start_s, c.how) for c in out][-1] == (7.2, "chain")
    assert len(out) == 4


def test_a_sets_leading_edge_rep_reported_last_joins_its_set() -> None:
    # The periodic counter reports a set's first (edge) rep at the set's end.
    edge_last = [per(2.0, 4.0), per(4.0, 6.0), per(6.0, 8.0), per(0.0, 2.0)]
    out = feed(SetGate(), [lc(0.0, 8.0), *edge_last])  # one merged rep: the set's 4 count
    assert [(c.start_s, c.src) for c in out] == [(0.0, "p"), (2.0, "p"), (4.0, "p"), (6.0, "p")]
    # three level-crossing reps agree with the set once its edge rep (0-2 s) has come
    late = [per(2.0, 4.0), per(4.0, 6.0), per(0.0, 2.0)]
    out = feed(SetGate(), [lc(2.0 * i, 2.0 * i + 1.9) for i in range(3)] + late)
    assert [(c.start_s, c.src) for c in out] == [(0.0, "lc"), (2.0, "lc"), (4.0, "lc")]


# -- the period-based counter on landmark features --------------------------------------------
def test_periodicity_weighting_finds_a_small_periodic_limb_among_big_drift() -> None:
    # One feature repeats (0.3 units, 2 s period); three others drift 3x more, without a
    # period. Energy-weighted (the IMU's groups) the drift hides the period; weighted by
    # each channel's own periodicity, the window is periodic at 2 s.
    fs = 30.0
    t = np.arange(0, 30, 1 / fs)
    rng = np.random.default_rng(3)
    drift = np.cumsum(rng.normal(0, 0.05, (t.size, 3)), axis=0)
    x = np.column_stack([0.3 * np.sin(2 * np.pi * t / 2.0), drift])
    plain = PeriodicConfig(accel_floor=0.02)
    weighted = dataclasses.replace(plain, per_channel=True, periodicity_power=4.0)
    found = {}
    for name, cfg in (("plain", plain), ("weighted", weighted)):
        pc = PeriodicCounter(fs, 4, 0, cfg)
        for ti, row in zip(t, x, strict=True):
            pc.push(float(ti), row)
        found[name] = pc._stats()
    assert found["weighted"] is not None
    assert found["weighted"].period_s == pytest.approx(2.0, abs=0.1)
    assert found["weighted"].corr > 0.75
    assert found["plain"] is not None and found["plain"].corr < found["weighted"].corr - 0.3


def _count_body_periodic(cfg: PeriodicConfig, t: np.ndarray, x: np.ndarray) -> int:
    pc = PeriodicCounter(30.0, x.shape[1], 0, cfg)
    reps: list[dict] = []
    for ti, row in zip(t, x, strict=True):
        reps += pc.push(float(ti), row)
    return len(reps + pc.finish())


def test_a_body_set_needs_clear_periodicity_to_start() -> None:
    # Two features sway at 2.5 s under as much band-limited noise (0.3-1.5 Hz): the
    # window's autocorrelation at the period wanders around 0.4 and now and then passes
    # 0.5 (an IMU set's threshold), never 0.6. On a camera that is a person shifting about,
    # not a set: BODY_PERIODIC does not start one; the same sway without noise counts.
    fs = 30.0
    t = np.arange(0, 40, 1 / fs)
    sway = 0.1 * np.column_stack([np.sin(2 * np.pi * t / 2.5), np.cos(2 * np.pi * t / 2.5)])
    sos = sps.butter(2, [0.3, 1.5], btype="band", fs=fs, output="sos")
    noise = sps.sosfiltfilt(sos, np.random.default_rng(0).normal(0, 1, (t.size, 2)), axis=0)
    noisy = sway + 0.1 * noise / noise.std(axis=0)
    imu_like = dataclasses.replace(BODY_PERIODIC, on_corr=0.5, short_on_corr=0.7)
    assert _count_body_periodic(imu_like, t, noisy) >= 8
    assert _count_body_periodic(BODY_PERIODIC, t, noisy) == 0
    assert _count_body_periodic(BODY_PERIODIC, t, sway) == 16


def test_periodic_features_need_the_limbs() -> None:
    chans = tuple(f"{n}_{a}" for n in MEDIAPIPE_LANDMARKS for a in "xyzv")
    _fn, n = periodic_body_features(chans, "pose", 1.0)  # type: ignore[misc]
    assert n == 22  # 11 landmarks, x and y
    assert periodic_body_features(tuple(c for c in chans if "ankle" not in c), "pose", 1.0) is None
    assert periodic_body_features(("ax", "ay", "az"), "imu", 1.0) is None


# -- the engine --------------------------------------------------------------------------------
def _pose_set_with_fidgeting(seed: int = 0) -> Recording:
    """A person fidgets (3 irregular arm moves of different sizes and lengths) for 12 s,
    then flexes the right elbow 8 times at 2.2 s per rep, then stands still."""
    fs = 30.0
    t = np.arange(0, 36, 1 / fs)
    rng = np.random.default_rng(seed)
    flex = np.zeros_like(t)
    for start, dur, amp in ((1.0, 0.7, 60), (4.0, 3.2, 35), (8.5, 1.1, 80)):
        flex += min_jerk_bump(t, start, dur, np.radians(amp))
    for k in range(8):
        flex += min_jerk_bump(t, 13.0 + 2.2 * k, 2.0, np.radians(110))
    rows = elbow_pose_frames(flex, rng).reshape(t.size, 33 * 4)
    chans = tuple(f"{n}_{a}" for n in MEDIAPIPE_LANDMARKS for a in "xyzv")
    return Recording(t, rows, chans, "pose")


def test_fidgeting_before_a_set_is_not_counted(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rec = _pose_set_with_fidgeting()
    res = analyse_recording(rec)
    assert res.count == 8
    assert all(r.start_s > 12.0 for r in res.reps)
    assert all(r.confidence == REP_CONFIDENCE["agreed"] for r in res.reps)
    assert res.confidence >= 0.9
    # Without the gate (level crossing alone) the fidgets count too.
    monkeypatch.setattr(engine_mod.BodyPeriodic, "build", classmethod(lambda cls, *a: None))
    assert analyse_recording(rec).count >= 10


def test_a_named_body_signal_in_a_file_counts_only_the_set() -> None:
    # With --exercise (elbow flexion) a file is gated the same way; a live session's
    # engine (sets_only=False, the default of MotionEngine) counts every rep at once.
    rec = _pose_set_with_fidgeting(seed=1)
    spec = SignalSpec(signal="elbow_flexion", side="right")
    gated = analyse_recording(rec, spec)
    assert gated.count == 8 and all(r.start_s > 12.0 for r in gated.reps)
    assert analyse_recording(rec, spec, sets_only=False).count >= 10
    live = MotionEngine(rec.channels, rec.kind, rec.sample_rate_hz, spec)
    assert live.body is None
    streamed = analyse_recording(rec, spec, streaming=True)
    assert [r.start_s for r in streamed.reps] == [r.start_s for r in gated.reps]


def test_streaming_and_file_path_report_the_same_reps() -> None:
    rec = _pose_set_with_fidgeting(seed=3)
    a = analyse_recording(rec)
    b = analyse_recording(rec, streaming=True)
    key = [(round(r.start_s, 6), round(r.end_s, 6), r.confidence) for r in a.reps]
    assert key == [(round(r.start_s, 6), round(r.end_s, 6), r.confidence) for r in b.reps]
    assert a.confidence == b.confidence
    # once the set is established, reps are reported within 0.3 s of their end
    assert sorted(b.latencies_s)[len(b.latencies_s) // 2] <= 0.3
