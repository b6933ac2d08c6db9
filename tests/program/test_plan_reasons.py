"""The plan's reasons are read by the patient: each rule that shaped the plan says so in a
fixed sentence, with the numbers that apply, and only when it applies.

Expected sentences are built with the rule's own ``cite`` so that a reworded rule (kept in
step with docs/program.md by test_plan_rules) does not break these tests; the detail text
is what is checked here.
"""

from __future__ import annotations

from typing import Any

import pytest
from plan_helpers import LIBRARY, profile

from openrehab.program import rules
from openrehab.program.planner import Overrides, Plan, build_plan

ELBOW_MAS2 = {"elbow": {"mas": "2", "active_movement": True}}
#: Ankles without active movement on both sides: two passive items of 2 x 8 = 32 reps.
PASSIVE_ANKLES: dict[str, Any] = {
    "affected_side": "both",
    "regions": {"ankle": {"mas": "1", "active_movement": False}},
    "pain_nrs": 7,
}


def plan_for(**changes: Any) -> Plan:
    return build_plan(profile(**changes), LIBRARY)


@pytest.mark.parametrize(
    ("nrs", "detail", "rule"),
    [
        (3, "Daily target: 300 repetitions.", rules.DOSE),
        (4, "Pain 4/10: daily target halved from 300 to 150.", rules.PAIN),
        (6, "Pain 6/10: daily target halved from 300 to 150.", rules.PAIN),
        (
            7,
            "Pain 7/10: daily target cut from 300 to 75; please tell your clinician about "
            "this pain.",
            rules.PAIN,
        ),
    ],
)
def test_the_first_reason_explains_the_daily_target_by_pain_band(
    nrs: int, detail: str, rule: rules.Rule
) -> None:
    """R8/R9: the day's target and why, at the edges of the pain bands (NRS 3|4, 6|7)."""
    assert plan_for(pain_nrs=nrs).reasons[0] == rule.cite(detail)
    therapist = build_plan(profile(pain_nrs=nrs), LIBRARY, Overrides(daily_rep_target=120))
    assert therapist.reasons[0] == rules.OVERRIDE.cite(
        "Daily target set by the therapist to 120 repetitions."
    )


def test_a_severe_region_says_how_it_is_planned() -> None:
    """R3: MAS 3-4 or no active movement: the region's status and its modes, in order."""
    plan = plan_for(
        regions={
            "hand": {"mas": "3", "active_movement": False},
            "elbow": {"mas": "4", "active_movement": True},
            "wrist": {"mas": "1+", "active_movement": True},
        }
    )
    r3 = [r for r in plan.reasons if r.startswith("[R3 ")]
    assert r3 == [
        rules.PASSIVE_FIRST.cite(
            "Elbow: MAS 4, active movement present. Planned as passive, then active-assisted."
        ),
        rules.PASSIVE_FIRST.cite(
            "Hand: MAS 3, no active movement. Planned as passive, then stretch."
        ),
    ]


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"regions": {"elbow": {**ELBOW_MAS2["elbow"], "painful": True}}}, "painful region"),
        ({"regions": ELBOW_MAS2, "pain_nrs": 7}, "pain 7/10"),
        (
            {"regions": {"elbow": {"mas": "4", "active_movement": True}}},
            "MAS 4: ask your therapist to assess for contracture",
        ),
    ],
)
def test_a_region_without_stretch_says_why(changes: dict[str, Any], why: str) -> None:
    """R5/R8: no stretch into a painful region, at severe pain (NRS >= 7) or at MAS 4,
    and the patient is told which of these it is."""
    plan = plan_for(**changes)
    assert not [i for i in plan.items if i.mode == "stretch"]
    assert rules.PAIN.cite(f"Elbow: no stretching ({why}).") in plan.reasons
    assert (
        rules.SLOW_STRETCH.cite(
            "Stretches: move slowly to a gentle stretch, hold, and stop at any pain."
        )
        not in plan.reasons
    )


def test_stretching_stays_at_pain_6_with_its_instructions() -> None:
    plan = plan_for(regions=ELBOW_MAS2, pain_nrs=6)
    assert [i.exercise for i in plan.items if i.mode == "stretch"] == ["elbow_flexor_slow_stretch"]
    assert not [r for r in plan.reasons if "no stretching" in r]
    assert (
        rules.SLOW_STRETCH.cite(
            "Stretches: move slowly to a gentle stretch, hold, and stop at any pain."
        )
        in plan.reasons
    )


def test_standing_reason_lists_what_waits_for_safe_standing() -> None:
    """R1: when standing is not safe the plan says so, and names the standing exercises
    for the person's regions that wait for it (none for a hand)."""
    hand = plan_for(regions={"hand": {"mas": "1", "active_movement": True}}, can_stand_safely=False)
    assert rules.STANDING_SAFETY.cite("No standing exercises are planned.") in hand.reasons
    knee = plan_for(regions={"knee": {"mas": "1", "active_movement": True}}, can_stand_safely=False)
    assert (
        rules.STANDING_SAFETY.cite(
            "No standing exercises are planned. Waiting for safe standing: Mini squat, "
            "Sit to stand."
        )
        in knee.reasons
    )
    able = plan_for(regions={"knee": {"mas": "1", "active_movement": True}})
    assert not [r for r in able.reasons if r.startswith("[R1 ")]


def test_the_unaffected_side_is_named_when_it_helps() -> None:
    """R6: "Your right side helps" for a left-sided person with an assisted or passive
    item; nothing is said when only active items are planned or both sides are affected."""
    severe = {"elbow": {"mas": "3", "active_movement": True}}
    helped = plan_for(regions=severe)
    assert (
        rules.SELF_ASSIST.cite("Your right side helps in the assisted and passive items.")
        in helped.reasons
    )
    assert not [r for r in plan_for().reasons if r.startswith("[R6 ")]
    both = plan_for(regions=severe, affected_side="both")
    assert not [r for r in both.reasons if r.startswith("[R6 ")]


def test_the_plan_lists_the_regions_moved_and_what_each_rule_left_out() -> None:
    """R4 and the exclusion rules: the regions moved today (alphabetical), then per rule
    the exercises it left out and why, in the rules' order."""
    plan = plan_for(
        regions={"trunk": {"mas": "1", "active_movement": True}},
        can_sit_unsupported=False,
        can_stand_safely=False,
        conditions=["hip_precautions", "uncontrolled_hypertension"],
    )
    unsafe = "sitting without support is not yet safe"
    assert plan.reasons[-6:] == [
        rules.DAILY_RANGE.cite("Moved every day: trunk."),
        rules.ORDER.cite("Items are listed in the order to do them."),
        rules.STANDING_SAFETY.cite(
            "Not planned: Shift your weight standing (standing is not yet safe)."
        ),
        rules.SITTING_BALANCE.cite(
            f"Not planned: Shift your weight ({unsafe}); Lean forward ({unsafe}); "
            f"Lean to the side ({unsafe}); Turn the upper body ({unsafe})."
        ),
        rules.CONTRAINDICATION.cite(
            "Not planned: Knee rolls (contraindicated with hip_precautions); "
            "Bridge (contraindicated with uncontrolled_hypertension)."
        ),
        rules.DOSE.cite(
            "Planned 80 of 300 repetitions: more will be added as active movement and new "
            "exercises unlock."
        ),
    ]
    # Scapular retraction, done with both sides, moves the trunk: no fallback warning.
    assert [r for r in plan.reasons if r.startswith("[R4 ")] == [plan.reasons[-6]]
    arm = plan_for()
    assert rules.DAILY_RANGE.cite("Moved every day: elbow, hand, shoulder, wrist.") in arm.reasons


@pytest.mark.parametrize(("target", "short"), [(32, False), (33, True)])
def test_a_shortfall_is_explained_only_when_the_plan_is_below_target(
    target: int, short: bool
) -> None:
    """R9: "Planned n of target" appears exactly when the planned reps fall short."""
    plan = build_plan(profile(**PASSIVE_ANKLES), LIBRARY, Overrides(daily_rep_target=target))
    assert plan.planned_reps == 32
    shortfall = rules.DOSE.cite(
        f"Planned 32 of {target} repetitions: more will be added as active movement and new "
        "exercises unlock."
    )
    assert (plan.reasons[-1] == shortfall) is short
    assert [r for r in plan.reasons if "Planned 32 of" in r] == ([shortfall] if short else [])
