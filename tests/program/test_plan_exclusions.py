"""The exclusion rules one by one, at their edges, with the words the plan quotes."""

from __future__ import annotations

import pytest
from plan_helpers import LIBRARY, profile

from openrehab.program.planner import (
    build_plan,
    is_severe,
    rule_contraindications,
    rule_equipment,
    rule_standing_safety,
    rule_unlocked,
)
from openrehab.program.profile import RegionStatus


@pytest.mark.parametrize(
    ("mas", "active", "severe"),
    [("2", True, False), ("3", True, True), ("4", True, True), ("0", False, True)],
)
def test_a_region_is_severe_from_mas_3_or_without_active_movement(
    mas: str, active: bool, severe: bool
) -> None:
    """R3: passive and stretch work first from MAS 3, or whenever the person cannot move
    the region at all, whatever its tone."""
    assert is_severe(RegionStatus(mas=mas, active_movement=active)) is severe  # type: ignore[arg-type]


def test_standing_only_work_waits_for_safe_standing_even_without_a_balance_requirement() -> None:
    """R1: an exercise done only standing is not planned for someone who cannot stand
    safely, even if its entry forgot to list standing balance."""
    standing_only = LIBRARY.get("seated_heel_raise").model_copy(
        update={"positions": ("standing",), "requires": ()}
    )
    assert rule_standing_safety(profile(can_stand_safely=False), standing_only) == (
        "standing is not yet safe"
    )
    assert rule_standing_safety(profile(can_stand_safely=True), standing_only) is None
    either = standing_only.model_copy(update={"positions": ("seated", "standing")})
    assert rule_standing_safety(profile(can_stand_safely=False), either) is None


def test_every_clash_and_every_missing_item_is_named() -> None:
    nmes = LIBRARY.get("nmes_wrist_finger_extension")
    p = profile(conditions=["pacemaker", "pregnancy"])
    assert rule_contraindications(p, nmes) == "contraindicated with pacemaker, pregnancy"
    no_equipment = profile(equipment=[])
    assert rule_equipment(no_equipment, LIBRARY.get("reach_and_grasp_cup")) == "needs cup, table"
    assert rule_equipment(no_equipment, LIBRARY.get("mini_squat")) == "needs sturdy_support"


def test_balance_is_not_equipment() -> None:
    """R12 is about things at hand: sitting or standing balance is judged by R1/R2, never
    reported as missing equipment."""
    no_equipment = profile(equipment=[])
    assert rule_equipment(no_equipment, LIBRARY.get("trunk_lateral_lean")) is None
    trunk = {"trunk": {"mas": "1", "active_movement": True}}
    plan = build_plan(profile(regions=trunk, equipment=[]), LIBRARY)
    assert "trunk_lateral_lean" in {i.exercise for i in plan.items}


def test_an_exercise_unlocks_on_each_side_by_that_side_s_progress() -> None:
    """R11 per side: both arms affected, the left elbow at level 3 and the right at 1:
    hand to mouth is planned on the left only (and mirrored); the reason names every
    prerequisite."""
    p = profile(affected_side="both", regions={"elbow": {"mas": "1", "active_movement": True}})
    progress = {("elbow_flexion", "left"): 3, ("elbow_flexion", "right"): 1}
    plan = build_plan(p, LIBRARY, progress=progress)
    assert [i.side for i in plan.items if i.exercise == "hand_to_mouth"] == ["left"]
    mirrored = {("elbow_flexion", "left"): 1, ("elbow_flexion", "right"): 3}
    plan = build_plan(p, LIBRARY, progress=mirrored)
    assert [i.side for i in plan.items if i.exercise == "hand_to_mouth"] == ["right"]
    cup = LIBRARY.get("reach_and_grasp_cup")
    assert rule_unlocked(cup, "left", {}, LIBRARY) == (
        "unlocks at Slide the hand forward level 3 and Make a fist level 3"
    )
    assert rule_unlocked(LIBRARY.get("hand_to_mouth"), "left", progress, LIBRARY) is None
