"""The sentences a patient reads after a set (shown as stored), with their levels and time.

Each event's wording is the product here: "Level 2 -> 3 because ..." must give the true
numbers, and the rest prompt must name what fell and by how much.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from openrehab.exercises.library import load_library
from openrehab.program.progression import (
    UNITS_PER_LEVEL,
    ExerciseProgress,
    ProgressEvent,
    RepQuality,
    SetRecord,
    SetResult,
    level_for_xp,
    new_progress,
    prerequisite_level,
    record_set,
    rest_prompt,
)

EXERCISE = load_library().get("elbow_extension")  # 8 levels
AT = datetime(2024, 5, 1, 9, 0)
BASE = {"exercise_id": "elbow_extension", "side": "left"}


def result(done: int = 10, reached: int = 9, **changes: object) -> SetResult:
    fraction = reached / done if done else 0.0
    data = {"reps_target": 10, "reps_completed": done, "target_reached_fraction": fraction}
    return SetResult(**{**data, **changes})  # type: ignore[arg-type]


def test_a_set_earns_reps_plus_reps_reaching_the_range_and_says_so() -> None:
    """The set is kept in the history as it was done (level, outcome, counts, time)."""
    progress, events = record_set(new_progress(EXERCISE, "left", level=2), result(8, 7, at=AT))
    assert progress.history == (SetRecord(2, True, 8, 10, 7, "2024-05-01T09:00:00"),)
    assert progress.sets_done == 1
    _, events = record_set(new_progress(EXERCISE, "left", level=2), result(at=AT))
    assert events == [
        ProgressEvent(
            "set",
            "+19 points: 10 reps done, 9 reached the target range.",
            from_level=2,
            to_level=2,
            xp=19,
            at="2024-05-01T09:00:00",
            **BASE,
        )
    ]


def test_level_up_and_level_down_sentences() -> None:
    """Up: the reps that reached the range and the recent successes. Down: the same, the
    reps actually done when fewer than the target, and the aim (80 % of the target)."""
    progress = new_progress(EXERCISE, "left", level=2)
    for _ in range(UNITS_PER_LEVEL):
        progress, events = record_set(progress, result())
    assert events[-1] == ProgressEvent(
        "level_up",
        "Level 2 -> 3 because you reached the target range in 9 of 10 reps and 4 of your last "
        "4 sets succeeded.",
        from_level=2,
        to_level=3,
        **BASE,
    )
    _, events = record_set(new_progress(EXERCISE, "left", level=4), result(7, 5, at=AT))
    assert events[-1] == ProgressEvent(
        "level_down",
        "Level 4 -> 3 because you reached the target range in 5 of 10 reps (7 done) (the aim "
        "is 8): practice works best at a level you manage about 3 times out of 4.",
        from_level=4,
        to_level=3,
        at="2024-05-01T09:00:00",
        **BASE,
    )


@pytest.mark.parametrize(("units", "before", "after"), [(5 * 4 + 2, 6, 5), (1, 1, 1)])
def test_pain_drops_to_the_bottom_of_the_level_below_and_says_why(
    units: int, before: int, after: int
) -> None:
    """Pain: bottom of the level below (never below level 1), with the pain sentence and
    no separate "level down" event."""
    progress = ExerciseProgress("elbow_extension", "left", 8, units=units)
    updated, events = record_set(progress, result(10, 10, pain_reported=True))
    assert updated.units == (after - 1) * UNITS_PER_LEVEL
    assert events[1:] == [
        ProgressEvent(
            "pain",
            f"Level {before} -> {after} because you reported pain. Never push into pain; "
            "tell your therapist if it happens again.",
            from_level=before,
            to_level=after,
            **BASE,
        )
    ]


def test_plateau_hold_sentence_counts_the_recent_sets() -> None:
    history = tuple(
        SetRecord(2, ok, 10, 10, 9 if ok else 5) for ok in (True, False, False, True, False)
    )
    progress = ExerciseProgress("elbow_extension", "left", 8, units=7, history=history)
    held, events = record_set(progress, result())
    assert held.units == 7
    assert events[-1] == ProgressEvent(
        "level_hold",
        "Staying at level 2: you reached the target range in 9 of 10 reps, but only 3 of your "
        "last 6 sets succeeded; you move up after 4 of 6.",
        from_level=2,
        to_level=2,
        **BASE,
    )


def _reps(roms: list[float], sparcs: list[float | None] | None = None) -> SetResult:
    sparcs = sparcs or [None] * len(roms)
    reps = tuple(RepQuality(rom=r, sparc=s) for r, s in zip(roms, sparcs, strict=True))
    return SetResult(
        reps_target=len(roms), reps_completed=len(roms), target_reached_fraction=1, reps=reps
    )


def test_rest_prompt_names_what_fell_and_by_how_much() -> None:
    assert rest_prompt(_reps([60, 60, 60, 45, 45, 45])) == (
        "Your movement got smaller during the set (last reps 45 vs first 60, below 80%): "
        "rest for a minute or two."
    )
    assert rest_prompt(_reps([50] * 6, [-1.5] * 3 + [-1.8] * 3)) == (
        "Your movement became less smooth during the set (smoothness -1.80 vs -1.50): rest "
        "for a minute or two."
    )
    timed = _reps([60] * 3 + [45] * 3).model_copy(update={"at": AT})
    _, events = record_set(new_progress(EXERCISE, "left", level=2), timed)
    assert events[-1] == ProgressEvent(
        "rest_prompt",
        rest_prompt(timed) or "",
        from_level=2,
        to_level=2,
        at="2024-05-01T09:00:00",
        **BASE,
    )
    # Ranges under one unit (a distance in metres) are judged the same way.
    assert rest_prompt(_reps([0.9] * 3 + [0.5] * 3)) is not None


def test_smoothness_prompt_starts_just_past_20_percent_worse_with_every_rep_measured() -> None:
    """SPARC 20 % further from zero is the threshold: exactly 20 % worse is no prompt, a
    hair more is; a rep without a smoothness value in either window means no judgement,
    and six reps are enough to judge (five are not)."""
    assert rest_prompt(_reps([50] * 6, [-1.25] * 3 + [-1.5] * 3)) is None
    assert rest_prompt(_reps([50] * 6, [-1.25] * 3 + [-1.5000001] * 3)) is not None
    assert rest_prompt(_reps([50] * 6, [-1.5, -1.5, None] + [-2.5] * 3)) is None
    assert rest_prompt(_reps([50] * 6, [-1.5] * 3 + [-2.5, -2.5, None])) is None
    assert rest_prompt(_reps([60] * 2 + [40] * 3)) is None
    assert rest_prompt(_reps([60] * 3 + [40] * 3)) is not None


def test_new_progress_starts_at_the_bottom_of_a_level_within_the_exercise() -> None:
    assert new_progress(EXERCISE, "left", level=3).units == 2 * UNITS_PER_LEVEL
    assert new_progress(EXERCISE, "left", level=0).level == 1
    assert new_progress(EXERCISE, "left", level=99).level == EXERCISE.max_level
    fresh = new_progress(EXERCISE, "right")
    assert (fresh.exercise_id, fresh.side, fresh.max_level, fresh.units, fresh.xp) == (
        "elbow_extension",
        "right",
        8,
        0,
        0,
    )


def test_prerequisite_level_per_side_and_for_both_sides() -> None:
    """A sided exercise uses that side's level, else a bilateral one; a bilateral exercise
    uses the bilateral level, else the weaker practised side; never practised is 0."""
    levels = {
        ("a", "left"): 4,
        ("a", "right"): 2,
        ("b", "both"): 3,
        ("c", "right"): 5,
        ("e", "left"): 6,
    }
    assert prerequisite_level(levels, "a", "left") == 4
    assert prerequisite_level(levels, "b", "left") == 3
    assert prerequisite_level(levels, "a", "both") == 2
    assert prerequisite_level(levels, "b", "both") == 3
    assert prerequisite_level(levels, "c", "both") == 5
    assert prerequisite_level(levels, "e", "both") == 6
    assert prerequisite_level(levels, "c", "left") == 0
    assert prerequisite_level(levels, "d", "both") == 0


@pytest.mark.parametrize(("xp", "level"), [(0, 1), (99, 1), (100, 2), (219, 2), (220, 3)])
def test_a_level_is_reached_at_exactly_its_xp(xp: int, level: int) -> None:
    assert level_for_xp(xp) == level
