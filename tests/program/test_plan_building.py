"""How the planner fills the day: which exercise per region and mode, which rules each item
carries, capacity-driven top-up, daily-range fallbacks and functional tasks."""

from __future__ import annotations

import pytest
from plan_helpers import LIBRARY, profile

from openrehab.exercises.library import Library
from openrehab.program import rules
from openrehab.program.planner import (
    build_plan,
    choose_position,
    rule_active_capacity,
    rule_no_stretch_into_pain,
)

MILD = {"mas": "1", "active_movement": True}


def test_active_work_needs_movement_and_mas_under_3_in_every_region_it_moves() -> None:
    """R3: forward reach moves the shoulder and the elbow; a region the profile does not
    list is no obstacle, a listed one must allow the mode."""
    reach = LIBRARY.get("forward_reach_table_slide")  # shoulder, elbow
    severe_elbow = profile(regions={"elbow": {"mas": "3", "active_movement": True}})
    assert rule_active_capacity(severe_elbow, reach, "active") == (
        "elbow MAS 3: assisted or passive work first"
    )
    assert rule_active_capacity(severe_elbow, reach, "active_assisted") is None
    assert rule_active_capacity(severe_elbow, reach, "passive") is None
    mas2 = profile(regions={"elbow": {"mas": "2", "active_movement": True}})
    assert rule_active_capacity(mas2, reach, "active") is None
    still = profile(regions={"elbow": {"mas": "1", "active_movement": False}})
    assert rule_active_capacity(still, reach, "active_assisted") == (
        "needs active movement of the elbow"
    )


@pytest.mark.parametrize(("nrs", "why"), [(6, None), (7, "pain 7/10")])
def test_severe_pain_stops_every_stretch_even_of_an_unlisted_region(
    nrs: int, why: str | None
) -> None:
    """R8: from NRS 7 no stretch at all, also of a region the profile does not list."""
    hamstring = LIBRARY.get("hamstring_slow_stretch")  # knee, not in the arm profile
    assert rule_no_stretch_into_pain(profile(pain_nrs=nrs), hamstring, "stretch") == why
    assert rule_no_stretch_into_pain(profile(pain_nrs=nrs), hamstring, "passive") is None


def test_the_first_safe_position_is_chosen() -> None:
    """R1: an exercise listed standing first is done seated by someone who cannot stand
    safely, standing by someone who can; with no safe position it is not planned."""
    either = LIBRARY.get("seated_heel_raise").model_copy(
        update={"positions": ("standing", "seated")}
    )
    assert choose_position(profile(can_stand_safely=False), either) == "seated"
    assert choose_position(profile(can_stand_safely=True), either) == "standing"
    only = either.model_copy(update={"positions": ("standing",)})
    assert choose_position(profile(can_stand_safely=False), only) is None


def test_each_item_carries_the_rules_behind_it() -> None:
    """Severe-region items cite R3 and R4, the helping side R6 and stretches R5; only
    stretch items carry the slow-stretch velocity limit."""
    plan = build_plan(profile(regions={"elbow": {"mas": "3", "active_movement": True}}), LIBRARY)
    assert [(i.mode, i.rules, i.max_velocity_deg_s) for i in plan.items] == [
        ("passive", ["R3", "R4", "R6"], None),
        ("stretch", ["R3", "R4", "R6", "R5"], 15.0),
        ("active_assisted", ["R3", "R4", "R6"], None),
    ]
    both = build_plan(
        profile(regions={"elbow": {"mas": "3", "active_movement": True}}, affected_side="both"),
        LIBRARY,
    )
    assert {tuple(i.rules) for i in both.items if i.mode == "stretch"} == {("R3", "R4", "R5")}


def test_goals_choose_between_exercises_for_a_region() -> None:
    """Task-specific practice: for a dressing goal the shoulder is trained in abduction
    rather than the default forward reach."""
    default = build_plan(profile(), LIBRARY)
    dressing = build_plan(profile(goals=["dressing"]), LIBRARY)
    assert [i.exercise for i in default.items if i.region == "shoulder"] == [
        "forward_reach_table_slide"
    ]
    assert [i.exercise for i in dressing.items if i.region == "shoulder"] == ["shoulder_abduction"]


def test_one_stretch_per_region() -> None:
    plan = build_plan(profile(regions={"wrist": {"mas": "2", "active_movement": True}}), LIBRARY)
    assert [i.exercise for i in plan.items if i.mode == "stretch"] == ["wrist_flexor_slow_stretch"]
    assert not [r for r in plan.reasons if r.startswith("[R8 ")]
    assert not [r for r in build_plan(profile(), LIBRARY).reasons if r.startswith("[R8 ")]


def test_a_severe_region_without_a_gentle_option_is_handed_to_the_therapist() -> None:
    """R3: trunk at MAS 3 with hip precautions has no passive or stretch exercise left;
    the plan says so rather than silently starting with active work."""
    plan = build_plan(
        profile(
            regions={"trunk": {"mas": "3", "active_movement": True}}, conditions=["hip_precautions"]
        ),
        LIBRARY,
    )
    assert [(i.exercise, i.mode) for i in plan.items] == [("trunk_rotation", "active_assisted")]
    assert (
        rules.PASSIVE_FIRST.cite(
            "Trunk: no passive or stretch exercise is safe for you in the library; please ask "
            "your therapist to move this region with you."
        )
        in plan.reasons
    )
    gentle = build_plan(profile(regions={"trunk": {"mas": "3", "active_movement": True}}), LIBRARY)
    assert not [r for r in gentle.reasons if "no passive or stretch" in r]


@pytest.mark.parametrize(("target", "added"), [(259, []), (260, ["wrist_flexion"])])
def test_top_up_counts_passive_sets_twice_a_stretch_once_and_active_items_at_ten(
    target: int, added: list[str]
) -> None:
    """R9 capacity: passive 2 x 8 + stretch 1 x 3 + assisted 10 x 8 + two wrist actives
    10 x 8 = 259 reps fit; at 260 a third wrist exercise is added."""
    regions = {"elbow": {"mas": "3", "active_movement": True}, "wrist": MILD}
    plan = build_plan(profile(regions=regions, daily_rep_target=target), LIBRARY)
    assert [i.exercise for i in plan.items if i.rules == ["R9", "R4"]] == added


def test_top_up_keeps_going_round_the_regions_until_nothing_more_fits() -> None:
    plan = build_plan(profile(daily_rep_target=2000), LIBRARY)
    assert len(plan.items) == 12 and plan.planned_reps == 1020


def test_a_region_without_active_options_is_moved_passively() -> None:
    """R4 fallback: with no table, no wrist exercise can be done actively; the wrist is
    still moved through its range passively, once."""
    plan = build_plan(profile(regions={"wrist": MILD}, equipment=[]), LIBRARY)
    assert [(i.exercise, i.mode, i.rules, i.max_velocity_deg_s) for i in plan.items] == [
        ("wrist_flexor_slow_stretch", "passive", ["R4", "R6"], None)
    ]
    assert not [r for r in plan.reasons if "no safe home exercise" in r]


def test_bilateral_work_covers_a_region_on_every_side() -> None:
    """R4: trunk work done with both sides counts as moving the trunk on each side; no
    fallback exercise or warning is added."""
    plan = build_plan(profile(regions={"trunk": MILD}), LIBRARY)
    assert {i.side for i in plan.items} == {"both"}
    assert [r for r in plan.reasons if r.startswith("[R4 ")] == [
        rules.DAILY_RANGE.cite("Moved every day: trunk.")
    ]
    # The trunk is moved actively with both sides; knee rolls, still possible passively with
    # a hip that cannot move, are not added as a fallback for the left side.
    still_hip = {"trunk": MILD, "hip": {"mas": "1", "active_movement": False}}
    plan = build_plan(profile(regions=still_hip), LIBRARY)
    assert [i.side for i in plan.items if i.region == "trunk"] == ["both"] * 4
    assert "knee_rolls" not in {i.exercise for i in plan.items}


def test_a_functional_task_is_planned_when_the_regions_it_uses_can_move() -> None:
    """R10: hand to mouth (elbow, shoulder, forearm) is planned for an active forearm once
    unlocked, even though other functional tasks use none of the person's regions."""
    plan = build_plan(
        profile(regions={"forearm": MILD}), LIBRARY, progress={("elbow_flexion", "left"): 3}
    )
    assert [(i.exercise, i.mode, i.rules) for i in plan.items][-1] == (
        "hand_to_mouth",
        "active",
        ["R10"],
    )


def test_functional_tasks_are_done_actively_when_they_can_be() -> None:
    """A functional task is practised in active mode when it has one, whatever order its
    modes are listed in; otherwise in its first mode."""
    task = LIBRARY.get("hand_to_mouth")
    others = tuple(e for e in LIBRARY if e.kind != "functional")
    progress = {("elbow_flexion", "left"): 3}
    for modes, planned in (
        (("active_assisted", "active"), "active"),
        (("active_assisted",), "active_assisted"),
    ):
        library = Library(exercises=(*others, task.model_copy(update={"modes": modes})), sources={})
        plan = build_plan(profile(regions={"forearm": MILD}), library, progress=progress)
        assert [i.mode for i in plan.items if i.exercise == "hand_to_mouth"] == [planned]


def test_every_uncovered_region_gets_its_passive_fallback() -> None:
    """R4 for each region in turn: without a table the wrist falls back to a passive
    stretch exercise, and the trunk (no sitting balance, hip and shoulder without active
    movement) to passive knee rolls done with both sides, which covers it."""
    still = {"mas": "1", "active_movement": False}
    plan = build_plan(
        profile(
            regions={"wrist": MILD, "trunk": MILD, "hip": still, "shoulder": still},
            can_sit_unsupported=False,
            can_stand_safely=False,
            equipment=[],
        ),
        LIBRARY,
    )
    assert ("knee_rolls", "passive", "both") in [(i.exercise, i.mode, i.side) for i in plan.items]
    assert ("wrist_flexor_slow_stretch", "passive") in [(i.exercise, i.mode) for i in plan.items]
    assert [r for r in plan.reasons if r.startswith("[R4 ")] == [
        rules.DAILY_RANGE.cite("Moved every day: hip, shoulder, trunk, wrist.")
    ]


def test_a_region_nothing_can_move_is_handed_to_the_therapist_daily() -> None:
    """R4: a trunk without active movement, with hip precautions and high blood pressure
    and no sitting balance has no safe home exercise; the plan says so and that nothing is
    moved yet."""
    plan = build_plan(
        profile(
            regions={"trunk": {"mas": "1", "active_movement": False}},
            can_sit_unsupported=False,
            can_stand_safely=False,
            conditions=["hip_precautions", "uncontrolled_hypertension"],
        ),
        LIBRARY,
    )
    assert plan.items == []
    assert [r for r in plan.reasons if r.startswith("[R4 ")] == [
        rules.DAILY_RANGE.cite(
            "Trunk: no safe home exercise found; please ask your therapist to move this "
            "region with you daily."
        ),
        rules.DAILY_RANGE.cite("Moved every day: nothing yet."),
    ]


def test_a_stretch_is_gentle_work_for_a_severe_region() -> None:
    """R3: a severe region planned with a stretch but no passive exercise (a library with
    a stretch-only exercise) has its gentle start; no "ask your therapist" note."""
    stretch_only = LIBRARY.get("elbow_flexor_slow_stretch").model_copy(
        update={"modes": ("stretch",)}
    )
    library = Library(exercises=(stretch_only,), sources={})
    plan = build_plan(profile(regions={"elbow": {"mas": "3", "active_movement": True}}), library)
    assert [i.mode for i in plan.items] == ["stretch"]
    assert not [r for r in plan.reasons if "no passive or stretch" in r]
