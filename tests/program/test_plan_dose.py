"""R9 dose and the item fields: sets per mode, the active share, top-up, rests and levels."""

from __future__ import annotations

import pytest
from plan_helpers import LIBRARY, profile

from openrehab.program.planner import (
    MAX_SETS_PER_ITEM,
    REST_BETWEEN_SETS_S,
    REST_BETWEEN_STRETCH_HOLDS_S,
    Plan,
    build_plan,
)

MILD = {"mas": "1", "active_movement": True}
#: Elbow MAS 3 with movement: passive 2 x 8, stretch 1 x 3, then assisted reps of 8.
SEVERE_ELBOW = {"elbow": {"mas": "3", "active_movement": True}}


def sets_by_mode(plan: Plan) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for item in plan.items:
        out.setdefault(item.mode, []).append(item.sets)
    return out


@pytest.mark.parametrize(
    ("target", "assisted_sets"),
    [(0, 1), (19 + 8, 1), (19 + 35, 4), (19 + 40, 5), (19 + 80, 10), (19 + 200, MAX_SETS_PER_ITEM)],
)
def test_active_items_share_what_passive_and_stretch_items_leave(
    target: int, assisted_sets: int
) -> None:
    """Passive range of motion is done in 2 sets and a stretch in 1 whatever the target;
    the rest of the target (here target - 19, the stretch's 3 reps included) goes to the
    active items, at least 1 and at most 10 sets each."""
    plan = build_plan(profile(regions=SEVERE_ELBOW, daily_rep_target=target), LIBRARY)
    assert sets_by_mode(plan) == {
        "passive": [2],
        "stretch": [1],
        "active_assisted": [assisted_sets],
    }


@pytest.mark.parametrize(("target", "extra"), [(340, 0), (341, 1), (420, 1), (421, 2)])
def test_more_exercises_are_added_only_while_the_target_cannot_fit(target: int, extra: int) -> None:
    """R9 top-up: the mild arm's four exercises hold up to 3 x 80 + 100 = 340 reps at 10
    sets each; one more exercise (80 more) is added from 341, a second from 421."""
    plan = build_plan(profile(daily_rep_target=target), LIBRARY)
    assert len(plan.items) == 4 + extra
    added = [i for i in plan.items if i.rules == ["R9", "R4"]]
    assert len(added) == extra


def test_a_focal_problem_gets_two_active_exercises_per_region() -> None:
    """Up to three involved regions get two active exercises each; four or more get one, so
    the day's list stays short enough to be done."""
    three = build_plan(
        profile(regions=dict.fromkeys(("shoulder", "elbow", "wrist"), MILD)), LIBRARY
    )
    per_region = {
        r: [i.region for i in three.items].count(r) for r in ("shoulder", "elbow", "wrist")
    }
    assert per_region == {"shoulder": 2, "elbow": 2, "wrist": 2}
    four = build_plan(profile(), LIBRARY)
    assert sorted(i.region for i in four.items) == ["elbow", "hand", "shoulder", "wrist"]


def test_rest_between_sets_is_shorter_between_stretch_holds() -> None:
    plan = build_plan(profile(regions=SEVERE_ELBOW), LIBRARY)
    rests = {i.mode: i.rest_s for i in plan.items}
    assert rests == {
        "passive": REST_BETWEEN_SETS_S,
        "stretch": REST_BETWEEN_STRETCH_HOLDS_S,
        "active_assisted": REST_BETWEEN_SETS_S,
    }
    assert (REST_BETWEEN_SETS_S, REST_BETWEEN_STRETCH_HOLDS_S) == (60, 30)


@pytest.mark.parametrize(("nrs", "stretch_level"), [(0, 5), (3, 5), (4, 1), (6, 1)])
def test_stretch_level_follows_progress_up_to_its_top_and_is_gentlest_in_pain(
    nrs: int, stretch_level: int
) -> None:
    """A stretch is planned at the level reached, capped at the exercise's top level (5
    for the slow elbow stretch, even if 8 was stored); from NRS 4 it is level 1 (R8).
    Active work keeps its level whatever the pain."""
    progress = {("elbow_flexor_slow_stretch", "left"): 8, ("elbow_extension", "left"): 4}
    regions = {"elbow": {"mas": "2", "active_movement": True}}
    plan = build_plan(profile(regions=regions, pain_nrs=nrs), LIBRARY, progress=progress)
    levels = {i.exercise: i.level for i in plan.items}
    assert levels["elbow_flexor_slow_stretch"] == stretch_level
    assert levels["elbow_extension"] == 4
    stretch = LIBRARY.get("elbow_flexor_slow_stretch").level(stretch_level)
    item = next(i for i in plan.items if i.mode == "stretch")
    assert (item.reps, item.hold_s) == (stretch.reps_per_set, stretch.hold_s)


def test_the_active_share_is_split_evenly_between_active_items() -> None:
    """R9: 100 reps over the mild arm's four active items is 25 each: 3 sets of 8, and 2
    sets of the 10-rep hand exercise."""
    plan = build_plan(profile(daily_rep_target=100), LIBRARY)
    assert [(i.sets, i.reps) for i in plan.items] == [(3, 8), (3, 8), (3, 8), (2, 10)]
