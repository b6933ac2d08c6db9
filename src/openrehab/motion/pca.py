"""Projection of multichannel samples on their dominant principal direction, streaming.

Used by the motion engine (several channels of one signal -> one) and by the slow-set tilt
counter (:mod:`.slow`, which learns the direction from movement instead of spread).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["OnlinePCA"]


class OnlinePCA:
    """Projection of multichannel samples on their dominant principal direction.

    Exponentially weighted mean and covariance (time constant ``tau_s``), updated from a
    block of ``block_s`` seconds of samples; the direction is refined by two power
    iterations per block (O(n^2) amortised per sample) and its sign kept consistent. Output
    is ``v . (x - mean)``. With ``average=True`` (two sides of one joint angle) the weights
    are ``|v| / sum |v|``, a weighted mean that keeps the unit (degrees).

    With ``noise_q`` (automatic mode on body landmarks), channels dominated by tracking noise
    count less: each channel's noise index ``q`` is the variance of its sample-to-sample
    difference over its variance (about 0.01 for a smooth 2 s movement at 30 Hz, 2 for white
    noise, in between for a joint whose tracking jumps), its weight ``1 / (1 + q / noise_q)``;
    the direction is the principal one of the weighted channels, mapped back to a unit
    vector of the original ones (so the output keeps their unit). A glitching or jittering
    joint then no longer captures the direction or splits reps (Kinect and MediaPipe both
    have them).
    """

    def __init__(
        self,
        n: int,
        fs_hz: float,
        tau_s: float = 10.0,
        block_s: float = 0.2,
        average: bool = False,
        noise_q: float | None = None,
    ):
        self.n = n
        self.k = max(2, round(block_s * fs_hz))
        self.alpha = 1.0 - math.exp(-self.k / (tau_s * fs_hz))
        self.average = average
        self.noise_q = noise_q
        self.buf: list[np.ndarray] = []
        self.mean: np.ndarray | None = None
        self.cov = np.zeros((n, n))
        self.dvar = np.zeros(n)  # EW mean square of sample-to-sample differences
        self.v = np.full(n, 1.0 / math.sqrt(n))
        self.u = self.v.copy()  # direction in the weighted space (noise_q)
        self.w = np.full(n, 1.0 / n) if average else self.v.copy()
        self.ready = average  # averaging starts with equal weights, no warm-up

    def _update(self, block: np.ndarray) -> None:
        bm = block.mean(axis=0)
        d = block - bm
        bc = d.T @ d / block.shape[0]
        if self.noise_q is not None:
            dd = block[1:] - block[:-1]
            bd = (dd * dd).sum(axis=0) / max(dd.shape[0], 1)
        if self.mean is None:
            self.mean, self.cov = bm, bc
            if self.noise_q is not None:
                self.dvar = bd
        else:
            a = self.alpha
            delta = bm - self.mean
            self.mean = self.mean + a * delta
            self.cov = (1 - a) * (self.cov + a * np.outer(delta, delta)) + a * bc
            if self.noise_q is not None:
                self.dvar = (1 - a) * self.dvar + a * bd
        if self.noise_q is None:
            v = self._power(self.cov, self.v)
        else:
            q = self.dvar / np.maximum(np.diag(self.cov), 1e-300)
            sw = 1.0 / (1.0 + q / self.noise_q)
            self.u = self._power(self.cov * sw[:, None] * sw[None, :], self.u)
            v = sw * self.u
            nv = float(np.sqrt(v @ v))
            v = v / nv if nv > 1e-300 else self.v
        if float(v @ self.v) < 0:
            v = -v
        self.v = v
        if self.average:
            av = np.abs(v)
            self.w = av / av.sum()
        else:
            self.w = v
        self.ready = True

    @staticmethod
    def _power(cov: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Two power iterations from ``v`` (the previous direction: it moves slowly)."""
        for _ in range(2):
            u = cov @ v
            nu = float(np.sqrt(u @ u))
            if nu <= 1e-300:
                break
            v = u / nu
        return v

    def fill(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Averaging mode: rows ``(m, n)`` with some channels missing (NaN; e.g. the far arm
        hidden from a side-on camera). Returns the rows to project, where a missing channel
        moves like the weighted mean of the visible ones about its own mean (so a one-sided
        view still gives the joint's angle), and the rows to learn from, where it sits at
        its mean (a hidden side must not gain weight from copied movement)."""
        miss = np.isnan(xs)
        if not miss.any():
            return xs, xs
        off = self.mean if self.mean is not None else np.zeros(self.n)
        vis = ~miss
        wv = np.where(vis, self.w[None, :], 0.0)
        sw = wv.sum(axis=1, keepdims=True)
        wv = np.where(sw > 1e-12, wv, vis.astype(float))  # visible sides of zero weight
        dev = np.where(vis, xs - off, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            avg = (wv * dev).sum(axis=1, keepdims=True) / wv.sum(axis=1, keepdims=True)
        out = np.where(miss, off[None, :] + avg, xs)
        if self.mean is None:
            # Nothing learnt yet: a side hidden from the start takes the visible side's
            # values, so its mean starts there (not at 0, which would later read as a
            # large movement when it appears or hides again).
            return out, out
        learn = np.where(miss, off[None, :], xs)
        return out, learn

    def push(self, x: np.ndarray) -> float:
        """Project one sample (then learn from it). NaN until the first block is learnt."""
        if self.average:
            xo, xl = self.fill(x[None, :])
            y = float(self.w @ xo[0])
            x = xl[0]
        elif self.mean is None:
            y = math.nan
        else:
            y = float(self.w @ (x - self.mean))
        self.buf.append(x)
        if len(self.buf) == self.k:
            self._update(np.asarray(self.buf))
            self.buf = []
        return y

    def project_array(self, xs: np.ndarray) -> np.ndarray:
        """Vectorised equivalent of calling :meth:`push` on each row (same state updates)."""
        out = np.empty(xs.shape[0])
        i = 0
        n = xs.shape[0]
        while i < n:
            j = min(n, i + self.k - len(self.buf))
            blk = xs[i:j]
            if self.average:
                bo, blk = self.fill(blk)
                out[i:j] = bo @ self.w
            elif self.mean is None:
                out[i:j] = math.nan
            else:
                out[i:j] = (blk - self.mean) @ self.w
            self.buf.extend(blk)
            if len(self.buf) == self.k:
                self._update(np.asarray(self.buf))
                self.buf = []
            i = j
        return out
