"""judge_set: how the stored repetitions of a set become the progression's input.

No database needed: the set and its repetitions are built as the store holds them. The elbow
flexion at level 1 needs 40 % of its 10 -> 130 degree excursion: 48 degrees.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from openrehab.exercises.library import load_library
from openrehab.services.progress import judge_set, progress_key_side
from openrehab.store.models import ExerciseSet, Repetition

LIBRARY = load_library()
ELBOW = LIBRARY.get("elbow_flexion")  # 8 levels, 8 reps at level 1, 15 at level 8
NEEDED = 48.0
ENDED = datetime(2024, 5, 1, 9, 2, tzinfo=UTC)


def a_set(**fields: Any) -> ExerciseSet:
    return ExerciseSet(
        **{"level": 1, "mode": "active", "target_reps": 8, "ended_at": ENDED, **fields}
    )


def reps(*roms: float | None, **fields: Any) -> list[Repetition]:
    return [Repetition(rom=rom, rom_unit="deg", too_fast=False, **fields) for rom in roms]


def test_a_rep_reaches_the_range_at_exactly_the_needed_excursion_in_either_direction() -> None:
    judgement = judge_set(a_set(target_reps=4), ELBOW, reps(NEEDED, -NEEDED, NEEDED - 0.01, 0))
    assert judgement.result.reps_reached == 2
    assert judgement.result.target_reached_fraction == 0.5
    assert [r.rom for r in judgement.result.reps] == [NEEDED, NEEDED, NEEDED - 0.01, 0]
    assert judgement.to_dict() == {
        "level": 1,
        "reps_target": 4,
        "reps_completed": 4,
        "reps_reached": 2,
        "reps_measured": 4,
        "needed_excursion": 48.0,
        "unit": "deg",
        "success": False,
        "pain_reported": False,
    }
    assert judgement.result.at == ENDED


def test_only_reps_measured_in_the_exercise_s_unit_are_judged_on_range() -> None:
    """A rep without a range, or measured in another unit, counts as done but is not
    judged on range; a rep without a unit is taken to be in the exercise's unit."""
    mixed = [
        *reps(NEEDED, NEEDED),
        Repetition(rom=NEEDED, rom_unit=None, too_fast=False),
        Repetition(rom=500.0, rom_unit="cm", too_fast=False),
        Repetition(rom=None, rom_unit="deg", too_fast=False),
        *reps(10.0),
    ]
    result = judge_set(a_set(target_reps=6), ELBOW, mixed).result
    assert (result.reps_completed, len(result.reps), result.target_reached_fraction) == (
        6,
        4,
        0.75,
    )


def test_without_any_measured_range_a_set_is_judged_on_its_count_and_notes_hit() -> None:
    """Manual entry or a rhythm game: every rep done counts as reaching the range, except
    missed notes, which are stored but neither done nor reached."""
    hit = {"judgement": "perfect"}
    miss = {"judgement": "miss"}
    notes = [Repetition(rom=None, too_fast=False, metrics=m) for m in (hit, hit, hit, miss)]
    result = judge_set(a_set(target_reps=4), ELBOW, notes).result
    assert (result.reps_completed, result.target_reached_fraction) == (3, 0.75)
    manual = [Repetition(rom=None, too_fast=False) for _ in range(8)]
    assert judge_set(a_set(), ELBOW, manual).result.success
    empty = judge_set(a_set(), ELBOW, []).result
    assert (empty.reps_completed, empty.target_reached_fraction) == (0, 0.0)


@pytest.mark.parametrize(("mode", "reached"), [("stretch", 1), ("active", 2)])
def test_a_too_fast_rep_counts_as_reaching_only_outside_stretch_mode(
    mode: str, reached: int
) -> None:
    fast = Repetition(rom=NEEDED * 2, rom_unit="deg", too_fast=True)
    result = judge_set(a_set(mode=mode, target_reps=2), ELBOW, [*reps(NEEDED), fast]).result
    assert (result.reps_completed, result.reps_reached) == (2, reached)


def test_the_target_and_level_come_from_the_set_within_the_exercise() -> None:
    """The set's own target wins; without one the level's; a stored level outside the
    exercise's levels is judged at the nearest level."""
    assert judge_set(a_set(target_reps=None), ELBOW, []).result.reps_target == 8
    assert judge_set(a_set(target_reps=0), ELBOW, []).result.reps_target == 8
    top = judge_set(a_set(level=99, target_reps=None), ELBOW, reps(120.0))
    assert (top.level, top.result.reps_target, top.needed_excursion) == (8, 15, 120.0)
    assert judge_set(a_set(level=0), ELBOW, []).level == 1


def test_smoothness_is_kept_as_measured_and_never_above_zero() -> None:
    measured = [
        Repetition(rom=NEEDED, rom_unit="deg", too_fast=False, sparc=sparc)
        for sparc in (-1.7, 0.2, None)
    ]
    result = judge_set(a_set(target_reps=3), ELBOW, measured, pain_reported=True).result
    assert [r.sparc for r in result.reps] == [-1.7, 0.0, None]
    assert result.pain_reported and not result.success


def test_bilateral_and_midline_progress_is_kept_under_both() -> None:
    assert [progress_key_side(s) for s in ("left", "right", "both", "midline")] == [
        "left",
        "right",
        "both",
        "both",
    ]


def test_a_one_rep_set_that_reaches_the_range_succeeds() -> None:
    """A set's target is its own (a therapist may set 1 rep); one rep done and reaching the
    range is 100 % of it, so the set succeeds."""
    judgement = judge_set(a_set(target_reps=1), ELBOW, reps(NEEDED))
    assert (judgement.result.reps_target, judgement.result.success) == (1, True)
    assert judgement.to_dict()["reps_target"] == 1


def test_the_needed_excursion_is_reported_to_the_millimetre() -> None:
    """A reach measured in metres needs 0.125 m at level 1 (50 % of 0.25 m): the answer keeps
    three decimals, not a rounded 0 m."""
    exercise = LIBRARY.get("move_objects_across")
    judgement = judge_set(
        a_set(target_reps=2, exercise_id=exercise.id),
        exercise,
        [Repetition(rom=0.2, rom_unit="m", too_fast=False)] * 2,
    )
    assert judgement.to_dict()["needed_excursion"] == 0.125
    assert judgement.to_dict()["unit"] == "m"
