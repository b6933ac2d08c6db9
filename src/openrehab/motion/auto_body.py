"""Which repetitions count in automatic mode on body landmarks (camera, no exercise given).

Real-world footage holds more than the set: getting into position, walking to the camera,
re-racking a bar, tracking that jumps when the person turns. A level-crossing counter
(:class:`~.rep_counter.RepCounter`) counts every such excursion, and within a set it can merge
reps when one glitch sets its amplitude reference. The period-based counter
(:mod:`.periodic`, run on body-landmark features by :class:`~.engine.MotionEngine`) does
the opposite: it only counts while the movement repeats, one rep per period, but it is
coarser on slow, clean sets (rep edges, pauses between reps). :class:`SetGate` combines them
so that a repetition counts only as part of a *set*:

1. a level-crossing rep is held until it is confirmed;
2. it is confirmed by a *chain*: ``chain_reps`` consecutive reps too slow for the periodic
   counter (median cycle >= ``chain_min_cycle_s``), or ``long_chain_reps`` at any pace,
   whose durations are within a factor ``duration_ratio`` of their median and whose pauses
   are at most ``max(pause_s, median duration)``; once a chain is established, each
   following rep like it is reported as soon as it ends;
3. or by a *periodic set* (at least ``judge_reps`` period-based reps, each within one
   period of the previous) that agrees with it (:meth:`SetGate._agrees`): at the same pace
   the counts differ by at most one, or by ``agree_low`` .. ``agree_high`` times with the
   level-crossing reps at least as regular; at another pace the more regular counter
   stands; it confirms only the held reps like the set's (durations within
   ``duration_ratio`` of the median of its level-crossing reps: not the twitches of getting
   into position within its reach), and when it ends, its periodic reps like it that no
   reported rep covers make up the difference to its count (the level-crossing counter
   often misses a set's first or last rep);
   (a periodic set that ends with fewer reps confirms held reps only if they are no more
   than one more than its own);
4. if they disagree, the periodic set's reps count over its span when it ends (those not
   covered by a rep already reported, up to its count), and the held level-crossing reps
   in it are dropped;
5. at the end of the stream, held reps are reported only if nothing was ever confirmed
   (those like the longest run of similar reps): a recording of one or two deliberate
   reps (a short clip) still counts them.

So the first reps of a set are reported when the set is recognised (the third rep, or the
periodic counter's confirmation), later ones at most the level-crossing latency after they
end. Each reported rep carries a ``confidence`` (see :data:`REP_CONFIDENCE`). Everything
is decided from the sequence of candidates alone, so the streaming and the file path
(which feeds the same candidates in the same order) report the same reps.

Countix-Fitness-pose (real-world videos) was where the rule was chosen: level-crossing
alone scores OBO 0.51, periodic alone 0.64, the gate 0.74 (``openrehab bench count``);
UI-PRMD and the recorded clips keep their OBO. References: Dwibedi et al., *Counting
out time: class agnostic video repetition counting in the wild*, CVPR 2020 (counting the
periodic part of real-world videos); Morris et al., RecoFit, CHI 2014 (period-based sets).
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .confidence import coefficient_of_variation
from .features import periodic_body_features
from .periodic import PeriodicConfig, PeriodicCounter, analyse_array

#: The period-based counter on body-landmark features: every feature its own group,
#: weighted by its periodicity (a limb that repeats, not one that jitters, sets the period);
#: a feature moving less than 0.02 torso lengths RMS (metres for a Kinect skeleton) is still.
#: No resuming after a pause (``resume_s``): on Countix it counted movement after sets.
#: A set is established only at a clearer periodicity than on a worn IMU (autocorrelation
#: 0.6, 0.8 over the short window; it still ends below 0.3): a camera sees the whole body,
#: and walking, settling into position or tracking that wobbles is partly periodic for a
#: few seconds (docs/motion.md, "Only reps of a set").
BODY_PERIODIC = PeriodicConfig(
    accel_floor=0.02,
    per_channel=True,
    periodicity_power=4.0,
    resume_s=0.0,
    on_corr=0.6,
    short_on_corr=0.8,
)

#: Confidence of a rep by how it was confirmed (0..1, see docs/motion.md "Confidence"):
#: agreed by both counters, a chain of similar reps, counted by the periodic counter where
#: the level-crossing counter disagreed, and reported without any set being recognised.
REP_CONFIDENCE = {"agreed": 0.9, "chain": 0.75, "periodic": 0.6, "unconfirmed": 0.35}


@dataclass(frozen=True)
class GateConfig:
    """Parameters of :class:`SetGate` (see the module docstring)."""

    chain_reps: int = 3
    chain_min_cycle_s: float = 3.5  # ... of reps slower than this (start to start)
    long_chain_reps: int = 6  # a chain this long confirms itself at any pace
    duration_ratio: float = 2.0
    pause_s: float = 2.0
    agree_low: float = 0.7
    agree_high: float = 1.4
    span_periods: float = 1.0
    judge_reps: int = 3  # periodic reps before the counts are compared
    overlap: float = 0.5  # a rep overlapping a span or a reported rep by more than this


@dataclass
class Candidate:
    """A rep proposed by one counter: its span (s), where it came from (``"lc"`` level
    crossing, ``"p"`` periodic) and the counter's payload (metrics or rep info)."""

    start_s: float
    end_s: float
    src: str
    payload: Any
    how: str = ""

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def _overlaps(a: Candidate, b: tuple[float, float], frac: float) -> bool:
    return min(a.end_s, b[1]) - max(a.start_s, b[0]) > frac * max(a.end_s - a.start_s, 1e-9)


def _median(xs: list[float]) -> float:
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


@dataclass
class _PeriodicSet:
    reps: list[Candidate] = field(default_factory=list)
    agree: bool | None = None  # None: too few reps to judge yet

    @property
    def period_s(self) -> float:
        return _median([r.duration_s for r in self.reps])

    def span(self, periods: float) -> tuple[float, float]:
        p = periods * self.period_s
        return self.reps[0].start_s - p, self.reps[-1].end_s + p


class SetGate:
    """Streaming arbitration between level-crossing and periodic rep candidates.

    ``lc(c)`` and ``periodic(c)`` take one :class:`Candidate` each, in emission order, and
    return the candidates to report now (``how`` set to a key of :data:`REP_CONFIDENCE`);
    ``lc_started(t)`` follows the level-crossing rep in progress; ``finish()`` returns what
    is still to report at the end of the stream.
    """

    def __init__(self, cfg: GateConfig | None = None):
        self.cfg = cfg or GateConfig()
        self.held: list[Candidate] = []
        self.reported: list[Candidate] = []
        self.chain: list[Candidate] = []  # the established chain's recent reps
        self.pset: _PeriodicSet | None = None
        self.lc_open: float | None = None
        self.confirmed = False

    # -- level-crossing candidates ----------------------------------------------------------
    def _similar(self, prev: list[Candidate], c: Candidate) -> bool:
        """``c`` continues the reps ``prev`` (similar duration, short pause)."""
        med = _median([r.duration_s for r in prev])
        r = self.cfg.duration_ratio
        pause = c.start_s - prev[-1].end_s
        return med / r <= c.duration_s <= med * r and pause <= max(self.cfg.pause_s, med)

    def _is_chain(self, reps: list[Candidate]) -> bool:
        return all(self._similar(reps[:i], reps[i]) for i in range(1, len(reps)))

    def _slow(self, reps: list[Candidate]) -> bool:
        """Reps too slow for the periodic counter to judge (their cycle, start to start, is
        near or beyond its longest period): a chain of them confirms itself."""
        cycles = [b.start_s - a.start_s for a, b in itertools.pairwise(reps)]
        return _median(cycles) >= self.cfg.chain_min_cycle_s

    def lc_started(self, t_start: float | None) -> None:
        """The level-crossing counter began a rep at ``t_start`` (``None``: it dropped it)."""
        self.lc_open = t_start

    def lc(self, c: Candidate) -> list[Candidate]:
        self.lc_open = None
        out = self._close_if_past(c.start_s)
        ps = self.pset
        in_set = ps is not None and _overlaps(c, ps.span(self.cfg.span_periods), 0.0)
        if ps is not None and ps.agree is not None and in_set:
            self.held.append(c)
            ps.agree = self._agrees(ps)
            if not ps.agree:
                return out  # the periodic set decides when it ends
            out += self._agreed(ps)
            if c not in self.held:
                return out
            self.held.remove(c)  # at the set's edge: it may continue the agreed reps
        if self.chain and self._similar(self.chain, c):
            self.chain = [*self.chain[-(self.cfg.chain_reps + 2) :], c]
            return out + self._report([c], "chain")
        self.chain = []
        self.held.append(c)
        for n, slow_only in ((self.cfg.chain_reps, True), (self.cfg.long_chain_reps, False)):
            tail = self.held[-n:]
            if len(tail) == n and self._is_chain(tail) and (self._slow(tail) or not slow_only):
                self.chain = list(tail)
                self.held = self.held[:-n]
                return out + self._report(tail, "chain")
        return out

    # -- periodic candidates ----------------------------------------------------------------
    def periodic(self, c: Candidate) -> list[Candidate]:
        ps = self.pset
        out: list[Candidate] = []
        if ps is None or not _overlaps(c, ps.span(1.0), 0.0):
            out = self._close()
            ps = self.pset = _PeriodicSet()
        ps.reps.append(c)
        ps.reps.sort(key=lambda r: r.start_s)  # a set's leading edge rep comes at its end
        if len(ps.reps) >= self.cfg.judge_reps:
            ps.agree = self._agrees(ps)
            if ps.agree:
                out += self._agreed(ps)
        return out

    def _agrees(self, ps: _PeriodicSet) -> bool:
        """Whether the level-crossing reps over the periodic set's span (those held, reported
        or in progress) stand: they number within one of its periodic reps, or, when the two
        counts differ more, within ``agree_low`` .. ``agree_high`` of them and at least as
        regular (rep durations' coefficient of variation) as the periodic reps."""
        cfg = self.cfg
        span = ps.span(0.0)
        lcs = [
            r
            for r in (*self.held, *self.reported)
            if r.src == "lc" and _overlaps(r, span, cfg.overlap)
        ]
        m = len(lcs) + (self.lc_open is not None and span[0] <= self.lc_open < span[1])
        k = len(ps.reps)
        same_pace = True
        if len(lcs) >= 3 and k >= 3:
            # A counter that counts each rep twice (or every other one) does so at twice
            # (half) the other's rate from its first reps on, before the counts differ.
            starts = sorted(r.start_s for r in lcs)
            cycle = _median([b - a for a, b in itertools.pairwise(starts)])
            same_pace = cfg.agree_low <= cycle / ps.period_s <= cfg.agree_high
        if same_pace and abs(m - k) <= 1:
            return True
        if same_pace and not cfg.agree_low * k <= m <= cfg.agree_high * k:
            return False
        # Close counts at another pace, or counts apart at the same pace: the more regular
        # counter stands (the periodic one may be at a harmonic while it settles).
        lc_cv = coefficient_of_variation([r.duration_s for r in lcs])
        return bool(lc_cv <= coefficient_of_variation([r.duration_s for r in ps.reps]))

    def _pop_held(self, ps: _PeriodicSet) -> list[Candidate]:
        """Remove and return the held reps within the periodic set's (extended) span."""
        span = ps.span(self.cfg.span_periods)
        inside = [r for r in self.held if _overlaps(r, span, self.cfg.overlap)]
        self.held = [r for r in self.held if r not in inside]
        return inside

    def _agreed(self, ps: _PeriodicSet) -> list[Candidate]:
        """Report the held reps of an agreeing periodic set that are like its reps; they
        continue as a chain (the periodic counter often ends a set one rep early)."""
        inside = self._like_set(ps, self._pop_held(ps))
        if inside:
            self.chain = [*self.chain, *inside][-(self.cfg.chain_reps + 2) :]
        return self._report(inside, "agreed")

    def _like_set(self, ps: _PeriodicSet, inside: list[Candidate]) -> list[Candidate]:
        """The held reps whose duration is within ``duration_ratio`` of the median of the
        set's level-crossing reps (those over the periodic reps' own span, held or already
        reported), as in a chain. The periodic set's span reaches one period beyond its
        reps, and there the level-crossing counter sees the twitches of getting into
        position (0.3-0.7 s against reps of 2-4 s on Countix): agreeing with the set does
        not make them reps of it. A periodic set of fewer than ``judge_reps`` reps (a
        clip's two reps) does not tell what its reps look like: its held reps stay."""
        if len(ps.reps) < self.cfg.judge_reps:
            return inside
        span = ps.span(0.0)
        ov = self.cfg.overlap
        own = [r for r in (*inside, *self.reported) if r.src == "lc" and _overlaps(r, span, ov)]
        med = _median([r.duration_s for r in own]) if own else ps.period_s
        ratio = self.cfg.duration_ratio
        return [r for r in inside if med / ratio <= r.duration_s <= med * ratio]

    def _close_if_past(self, t_s: float) -> list[Candidate]:
        ps = self.pset
        if ps is not None and t_s > ps.span(self.cfg.span_periods)[1]:
            return self._close()
        return []

    def _close(self) -> list[Candidate]:
        """The periodic set ended: if it still disagrees with the level-crossing reps, its
        own reps count over its span (those not overlapping a reported rep)."""
        ps, self.pset = self.pset, None
        if ps is None or len(ps.reps) < 2:
            return []
        if len(ps.reps) < self.cfg.judge_reps:
            # A short periodic set confirms no more held reps than its own (about): it
            # must not vouch for a stretch of other movement around it.
            span = ps.span(self.cfg.span_periods)
            near = sum(_overlaps(r, span, self.cfg.overlap) for r in self.held)
            if near <= len(ps.reps) + 1 and self._agrees(ps):
                return self._agreed(ps)
            return []  # its held reps wait for a chain or the end
        if self._agrees(ps):
            # The level-crossing reps stand, and where the periodic set has more, its
            # uncovered reps make up the difference: the level-crossing counter often misses
            # a set's first or last rep (a return short of its threshold as the movement
            # stops) that the periodic counter has. (Before _like_set, a twitch of getting
            # into position, confirmed with the set, often made up for it by chance.)
            return self._agreed(ps) + self._make_up(ps, like_set=True)
        self._pop_held(ps)  # dropped: the periodic count stands
        return self._make_up(ps)

    def _make_up(self, ps: _PeriodicSet, like_set: bool = False) -> list[Candidate]:
        """The periodic set's count over its span: the level-crossing reps already reported
        there stay, periodic reps they do not cover make up the difference. With
        ``like_set`` (the set agreed), only periodic reps within ``duration_ratio`` of its
        period: not the half cycle the periodic counter extends at a set's edge into
        whatever follows it (:meth:`~.cycle_tracker.CycleTracker._edge_reps`)."""
        span = ps.span(0.0)
        done = sum(r.src == "lc" and _overlaps(r, span, self.cfg.overlap) for r in self.reported)
        fresh = [r for r in ps.reps if not self._covered(r)]
        if like_set:
            p, ratio = ps.period_s, self.cfg.duration_ratio
            fresh = [r for r in fresh if p / ratio <= r.duration_s <= p * ratio]
        return self._report(fresh[: max(0, len(ps.reps) - done)], "periodic")

    def _covered(self, c: Candidate) -> bool:
        """Reported reps cover more than ``overlap`` of ``c`` (a rep is never counted twice)."""
        cover = sum(
            max(0.0, min(c.end_s, q.end_s) - max(c.start_s, q.start_s)) for q in self.reported
        )
        return cover > self.cfg.overlap * max(c.duration_s, 1e-9)

    # -- end --------------------------------------------------------------------------------
    def finish(self) -> list[Candidate]:
        out = self._close()
        held, self.held = self.held, []
        if self.confirmed:
            return out
        return out + self._report(self._like_longest_run(held), "unconfirmed")

    def _like_longest_run(self, reps: list[Candidate]) -> list[Candidate]:
        """No set was recognised: the reps like the longest run of consecutive similar reps
        (durations within ``duration_ratio`` of its median): one or two deliberate reps of a
        short clip, or an unrecognised set, without the stray movements around them."""
        best: list[Candidate] = reps[:1]
        run: list[Candidate] = []
        for c in reps:
            run = [*run, c] if run and self._similar(run, c) else [c]
            if len(run) > len(best):
                best = run
        if not best:
            return []
        med = _median([c.duration_s for c in best])
        r = self.cfg.duration_ratio
        return [c for c in reps if med / r <= c.duration_s <= med * r]

    def _report(self, cands: list[Candidate], how: str) -> list[Candidate]:
        for c in cands:
            c.how = how
        if cands:
            self.confirmed = True
        self.reported.extend(cands)
        del self.reported[:-64]  # overlap checks only look back a few sets
        return sorted(cands, key=lambda c: c.start_s)


class BodyPeriodic:
    """The period-based counter on :func:`~.features.periodic_body_features` of raw rows,
    and the :class:`SetGate` that arbitrates it with the level-crossing counter."""

    def __init__(self, fn, n_features: int, fs_hz: float):
        self.fn = fn
        self.counter = PeriodicCounter(fs_hz, n_features, 0, BODY_PERIODIC)
        self.gate = SetGate()
        self._last: deque[np.ndarray] = deque(maxlen=3)

    @classmethod
    def build(
        cls, channels: tuple[str, ...], kind: str, aspect: float, fs_hz: float
    ) -> BodyPeriodic | None:
        feats = periodic_body_features(channels, kind, aspect)
        return None if feats is None else cls(feats[0], feats[1], fs_hz)

    def candidate(self, info: dict) -> Candidate:
        d = self.counter.delay_s
        return Candidate(info["t_start"] - d, info["t_end"] - d, "p", info)

    def push(self, t_s: float, row: np.ndarray) -> list[dict]:
        """Periodic reps completed by one raw row (rows whose features are missing skip).
        Features are the median of the last 3 rows: a one-frame tracking spike is not a
        movement (and spikes at a steady rate must not look periodic)."""
        z = self.fn(row.reshape(1, -1))[0]
        if np.isnan(z).any():
            return []
        last = self._last
        last.append(z)
        if len(last) == 3:  # median of three: sum less the largest and the smallest
            a, b, c = last
            z = a + b + c - np.maximum(np.maximum(a, b), c) - np.minimum(np.minimum(a, b), c)
        elif len(last) == 2:
            z = 0.5 * (last[0] + last[1])
        return self.counter.push(t_s, z)

    def analyse(self, t_s: np.ndarray, data: np.ndarray) -> tuple[list[dict], float]:
        """File path: the same reps as :meth:`push` over every row then the stream's end,
        and the time of the last row with features (``-inf`` if none)."""
        z = self.fn(data)
        keep = ~np.isnan(z).any(axis=1)
        t, z = t_s[keep], z[keep]
        if z.shape[0] >= 3:
            med = np.median(np.stack([z[:-2], z[1:-1], z[2:]]), axis=0)
            z = np.concatenate([z[:1], 0.5 * (z[:1] + z[1:2]), med])
        reps, _d = analyse_array(t, z, self.counter.fs, z.shape[1], 0, BODY_PERIODIC)
        return reps, float(t[-1]) if t.size else -math.inf


__all__ = ["BODY_PERIODIC", "REP_CONFIDENCE", "BodyPeriodic", "Candidate", "GateConfig", "SetGate"]
