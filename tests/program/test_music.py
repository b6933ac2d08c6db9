"""Metronome schedules for a set."""

from __future__ import annotations

import pytest

from openrehab.program.music import (
    metronome_schedule,
    rep_duration_s,
    stretch_tempo_bpm,
)


def test_schedule_places_beats_and_the_hold() -> None:
    beats = metronome_schedule(tempo_bpm=60, beats_per_rep=4, reps=2, hold_s=1.0)
    assert [b.time_s for b in beats] == [0, 1, 3, 4, 5, 6, 8, 9]
    assert [b.accent for b in beats] == [True, False, False, False] * 2
    assert [b.phase for b in beats[:4]] == ["out", "out", "back", "back"]
    assert [b.rep for b in beats] == [1, 1, 1, 1, 2, 2, 2, 2]
    assert rep_duration_s(60, 4, 1.0) == 5.0


def test_tempo_scales_time_and_start_offsets() -> None:
    beats = metronome_schedule(tempo_bpm=120, beats_per_rep=2, reps=3, start_s=10)
    assert [b.time_s for b in beats] == [10, 10.5, 11, 11.5, 12, 12.5]


def test_stretch_tempo_respects_the_velocity_limit() -> None:
    # 80 deg over 4 "out" beats at <= 10 deg/s: at most 30 bpm.
    assert stretch_tempo_bpm(40, 8, 80, 10) == pytest.approx(30)
    assert stretch_tempo_bpm(20, 8, 80, 10) == 20  # already slower
    tempo = stretch_tempo_bpm(60, 8, 45, 10)
    assert 45 / (4 * 60 / tempo) <= 10 + 1e-9


@pytest.mark.parametrize(
    "kwargs", [{"tempo_bpm": 0}, {"beats_per_rep": 1}, {"reps": -1}, {"hold_s": -1}]
)
def test_bad_arguments_are_rejected(kwargs: dict[str, float]) -> None:
    args = {"tempo_bpm": 60.0, "beats_per_rep": 4, "reps": 1, "hold_s": 0.0, **kwargs}
    with pytest.raises(ValueError):
        metronome_schedule(**args)  # type: ignore[arg-type]
