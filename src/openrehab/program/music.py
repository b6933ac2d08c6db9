"""Metronome schedule for a set: when each beat falls, so a page can play clicks or music.

A rep is ``beats_per_rep`` beats at ``tempo_bpm``: the first half moves towards the target,
then an optional silent hold of ``hold_s`` seconds, then the second half returns. The
first beat of each rep is accented. In stretch mode the tempo is capped so that the
approach stays under the exercise's slow-stretch velocity limit (spastic reflex activity is
velocity dependent, Lance 1980).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Phase = Literal["out", "back"]


@dataclass(frozen=True)
class Beat:
    time_s: float
    rep: int  # 1-based
    beat: int  # 1-based within the rep
    accent: bool
    phase: Phase

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def beat_period_s(tempo_bpm: float) -> float:
    if tempo_bpm <= 0:
        raise ValueError("tempo_bpm must be positive")
    return 60.0 / tempo_bpm


def rep_duration_s(tempo_bpm: float, beats_per_rep: int, hold_s: float = 0.0) -> float:
    """Duration of one rep including its hold."""
    return beats_per_rep * beat_period_s(tempo_bpm) + hold_s


def metronome_schedule(
    tempo_bpm: float,
    beats_per_rep: int,
    reps: int,
    hold_s: float = 0.0,
    start_s: float = 0.0,
) -> list[Beat]:
    """Every beat of a set of ``reps`` reps, in time order."""
    if beats_per_rep < 2:
        raise ValueError("beats_per_rep must be at least 2 (out and back)")
    if reps < 0 or hold_s < 0:
        raise ValueError("reps and hold_s must not be negative")
    period = beat_period_s(tempo_bpm)
    out_beats = beats_per_rep // 2
    beats: list[Beat] = []
    for rep in range(reps):
        rep_start = start_s + rep * rep_duration_s(tempo_bpm, beats_per_rep, hold_s)
        for index in range(beats_per_rep):
            back = index >= out_beats
            # The hold sits between the last "out" beat's interval and the first "back" beat.
            time_s = rep_start + index * period + (hold_s if back else 0.0)
            beats.append(
                Beat(round(time_s, 6), rep + 1, index + 1, index == 0, "back" if back else "out")
            )
    return beats


def stretch_tempo_bpm(
    tempo_bpm: float, beats_per_rep: int, excursion_deg: float, max_velocity_deg_s: float
) -> float:
    """Tempo no faster than the slow-stretch limit allows for the "out" half of a rep.

    The out phase covers ``excursion_deg`` in ``beats_per_rep // 2`` beats, so its mean
    velocity is ``excursion * tempo / (60 * out_beats)``; solving for the limit gives the
    highest tempo that keeps the mean under ``max_velocity_deg_s``.
    """
    if excursion_deg <= 0:
        return tempo_bpm
    out_beats = beats_per_rep // 2
    limit = max_velocity_deg_s * 60.0 * out_beats / excursion_deg
    return min(tempo_bpm, limit)
