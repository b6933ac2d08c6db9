"""How fast one connection may send frames: a token bucket on the wall clock.

A camera gives 15-60 frames a second; a client sending far more is replaying or attacking, and
each frame costs the shared server about 0.1 ms of engine time. The burst covers a page that
catches up after a short network stall.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: Frames a second one live connection may send, sustained (twice a 60 fps camera).
FRAMES_PER_S = 120.0
#: Frames it may send at once (30 s of a 30 fps camera).
BURST_FRAMES = 900.0


class FrameBudget:
    """Token bucket: ``take(n)`` is True while the connection stays within its budget."""

    def __init__(
        self,
        rate_per_s: float = FRAMES_PER_S,
        burst: float = BURST_FRAMES,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.rate = rate_per_s
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._t = clock()

    def take(self, frames: int) -> bool:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._t) * self.rate)
        self._t = now
        if frames > self._tokens:
            return False
        self._tokens -= frames
        return True
