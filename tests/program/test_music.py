"""Metronome schedules for a set."""

from __future__ import annotations

import pytest

from openrehab.program.music import (
    beat_period_s,
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
    assert [b.beat for b in beats] == [1, 2, 3, 4] * 2
    assert rep_duration_s(60, 4, 1.0) == 5.0
    assert rep_duration_s(60, 4) == 4.0  # no hold unless one is given
    assert beats[2].to_dict() == {
        "time_s": 3.0,
        "rep": 1,
        "beat": 3,
        "accent": False,
        "phase": "back",
    }


def test_an_odd_beat_count_moves_out_on_the_first_half_rounded_down() -> None:
    """With 3 beats per rep one beat goes out and two come back: the hold and the
    slow-stretch tempo are computed from whole "out" beats."""
    beats = metronome_schedule(tempo_bpm=60, beats_per_rep=3, reps=1, hold_s=2.0)
    assert [(b.time_s, b.phase) for b in beats] == [(0, "out"), (3, "back"), (4, "back")]
    # 60 deg out in one beat at <= 10 deg/s: one beat lasts 6 s, 10 bpm.
    assert stretch_tempo_bpm(60, 3, 60, 10) == pytest.approx(10)


def test_beat_times_are_rounded_to_the_microsecond() -> None:
    beats = metronome_schedule(tempo_bpm=70, beats_per_rep=2, reps=1)
    assert beats[1].time_s == 0.857143  # 60 / 70 s


def test_zero_reps_is_an_empty_schedule_and_slow_tempos_are_allowed() -> None:
    """Only negative counts and non-positive tempos are errors: a set of 0 reps has no
    beats, and a tempo under 1 bpm (a very slow stretch) is still a tempo."""
    assert metronome_schedule(tempo_bpm=60, beats_per_rep=2, reps=0) == []
    assert beat_period_s(0.5) == 120.0


def test_tiny_excursions_are_still_capped_by_the_velocity_limit() -> None:
    """Only a zero (unknown) excursion leaves the tempo alone; 0.5 deg at 0.1 deg/s in
    one "out" beat still needs a 5 s beat (12 bpm)."""
    assert stretch_tempo_bpm(60, 2, 0.5, 0.1) == pytest.approx(12)
    assert stretch_tempo_bpm(60, 2, 0, 0.1) == 60


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
    ("kwargs", "message"),
    [
        ({"tempo_bpm": 0}, "tempo_bpm must be positive"),
        ({"beats_per_rep": 1}, r"beats_per_rep must be at least 2 \(out and back\)"),
        ({"reps": -1}, "reps and hold_s must not be negative"),
        ({"hold_s": -1}, "reps and hold_s must not be negative"),
    ],
)
def test_bad_arguments_are_rejected(kwargs: dict[str, float], message: str) -> None:
    args = {"tempo_bpm": 60.0, "beats_per_rep": 4, "reps": 1, "hold_s": 0.0, **kwargs}
    with pytest.raises(ValueError, match=f"^{message}$"):
        metronome_schedule(**args)  # type: ignore[arg-type]
