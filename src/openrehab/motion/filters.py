"""One step of a second-order-sections filter, shared by the streaming filters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def sos_step(coef: Sequence[tuple[float, ...]], state: Sequence[Any], x: Any) -> Any:
    """Filter one input ``x`` (a float, or an array of channels) through the sections
    ``coef`` (rows ``b0, b1, b2, a0, a1, a2`` of ``scipy.signal`` ``sos``, ``a0 = 1``) and
    update ``state`` in place (per section ``[z0, z1]``): direct form II transposed, the
    same recursion as ``scipy.signal.sosfilt``."""
    y = x
    for (b0, b1, b2, _a0, a1, a2), z in zip(coef, state, strict=True):
        out = b0 * y + z[0]
        z[0] = b1 * y - a1 * out + z[1]
        z[1] = b2 * y - a2 * out
        y = out
    return y


__all__ = ["sos_step"]
