"""Plans for distinct profiles, checked against each rule; each test fails if its rule breaks."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan_helpers import ARM, LIBRARY, exercise_of, profile

from openrehab.exercises.schema import REGIONS
from openrehab.program import rules
from openrehab.program.planner import (
    FINE_MOTOR_SIGNALS,
    Overrides,
    Plan,
    PlanError,
    build_plan,
    involved_limbs,
    is_severe,
    parse_overrides,
    rule_contraindications,
)
from openrehab.program.profile import PatientProfile, parse_profile
from openrehab.program.progression import is_unlocked


def items_for_region(plan: Plan, region: str) -> list[Any]:
    return [i for i in plan.items if region in exercise_of(i).regions]


def fine_motor(plan: Plan, mode: str) -> set[str]:
    """Pinch and finger-tapping exercises planned in ``mode``."""
    return {
        i.exercise
        for i in plan.items
        if i.mode == mode and exercise_of(i).sensing.signal in FINE_MOTOR_SIGNALS
    }


def needs_standing(item: Any) -> bool:
    exercise = exercise_of(item)
    return "standing_balance" in exercise.requires or item.position == "standing"


# --- invariants, checked on every plan ---------------------------------------------------
def check_invariants(
    p: PatientProfile, plan: Plan, progress: dict[tuple[str, str], int] | None = None
) -> None:
    # R1: nothing needing standing balance unless standing is safe.
    if not p.can_stand_safely:
        assert not [i.exercise for i in plan.items if needs_standing(i)]
    # R2: no unsupported-sitting work without sitting balance.
    if not p.can_sit_unsupported:
        assert not [i for i in plan.items if "sitting_balance" in exercise_of(i).requires]
    # R7: nothing contraindicated.
    for item in plan.items:
        assert not set(exercise_of(item).contraindications) & set(p.conditions), item.exercise
    # R4: every involved region is moved on every affected side, or the gap is explained.
    for region in p.regions:
        for side in p.sides:
            covered = [i for i in items_for_region(plan, region) if i.side in (side, "both")]
            explained = any(
                r.startswith("[R4") and region.capitalize() in r and "no safe home exercise" in r
                for r in plan.reasons
            )
            assert covered or explained, (region, side)
    # R3: severe regions: no active item without active movement; passive/stretch first.
    for region, status in p.regions.items():
        region_items = items_for_region(plan, region)
        no_gentle_option = any(
            r.startswith("[R3") and f"{region.capitalize()}: no passive or stretch" in r
            for r in plan.reasons
        )
        if is_severe(status) and region_items and not no_gentle_option:
            assert region_items[0].mode in ("passive", "stretch"), (region, region_items[0])
        if not status.active_movement:
            own = [i for i in region_items if exercise_of(i).primary_region == region]
            assert all(i.mode in ("passive", "stretch") for i in own), region
    # R5/R8: no stretch into pain; stretch items carry the slow-velocity limit.
    for item in plan.items:
        if item.mode == "stretch":
            assert item.max_velocity_deg_s is not None and item.max_velocity_deg_s <= 30
            assert p.pain_nrs < 7
            for region in exercise_of(item).regions:
                status = p.regions.get(region)
                assert status is None or not status.painful
    # R6: the unaffected side helps where it can; nobody "unaffected" when both sides are.
    for item in plan.items:
        if item.mode == "active":
            assert item.assisted_by is None
        elif p.unaffected_side and exercise_of(item).self_assist:
            assert item.assisted_by == "unaffected_side", item.exercise
        else:
            assert item.assisted_by == "caregiver", item.exercise
    # R13: no active pinch or finger tapping before the hand can grasp and release.
    if p.hand_function in ("none", "grasp_only"):
        active = sorted(fine_motor(plan, "active"))
        assert not active, f"R13: hand function {p.hand_function!r} got active {active}"
    # R10: order passive -> stretch -> assisted -> active, functional last.
    rank = {"passive": 0, "stretch": 1, "active_assisted": 2, "active": 3}
    keys = [(exercise_of(i).kind == "functional", rank[i.mode]) for i in plan.items]
    assert keys == sorted(keys)
    # R11: every item is unlocked for its side (no progress: no prerequisites at all).
    for item in plan.items:
        assert is_unlocked(exercise_of(item), item.side, progress or {}), item.exercise


# --- the six-plus named profiles -------------------------------------------------------
def test_mild_arm_only() -> None:
    p = profile()
    plan = build_plan(p, LIBRARY)
    check_invariants(p, plan)
    assert {i.mode for i in plan.items} == {"active"}
    assert {exercise_of(i).primary_region for i in plan.items} <= set(ARM)
    assert all(i.side == "left" for i in plan.items)
    assert plan.daily_rep_target == 300
    assert 270 <= plan.planned_reps <= 360


def test_severe_hand_without_active_movement() -> None:
    p = profile(
        regions={
            "hand": {"mas": "3", "active_movement": False},
            "elbow": {"mas": "1+", "active_movement": True},
        }
    )
    plan = build_plan(p, LIBRARY)
    check_invariants(p, plan)
    hand = [i for i in plan.items if exercise_of(i).primary_region == "hand"]
    assert [i.mode for i in hand] == ["passive", "stretch"]
    assert plan.items[0].exercise == hand[0].exercise  # first thing of the day
    assert all(i.assisted_by == "unaffected_side" for i in hand)
    assert any(r.startswith("[R3") and "Hand: MAS 3" in r for r in plan.reasons)


def test_bilateral() -> None:
    p = profile(
        affected_side="both",
        regions={
            "elbow": {"mas": "2", "active_movement": True},
            "hand": {"mas": "3", "active_movement": False},
            "knee": {"mas": "1", "active_movement": True},
        },
    )
    plan = build_plan(p, LIBRARY)
    check_invariants(p, plan)
    unilateral = [i for i in plan.items if exercise_of(i).laterality == "unilateral"]
    for exercise_id in {i.exercise for i in unilateral}:
        assert {i.side for i in unilateral if i.exercise == exercise_id} == {"left", "right"}
    assert all(i.assisted_by in (None, "caregiver") for i in plan.items)
    # MAS 2 with movement: slow stretch before active work.
    elbow = [i.mode for i in plan.items if exercise_of(i).primary_region == "elbow"]
    assert elbow[0] == "stretch" and "active" in elbow


def test_cannot_stand_has_no_standing_items_but_would_with_standing() -> None:
    regions = {
        "knee": {"mas": "1", "active_movement": True},
        "ankle": {"mas": "1+", "active_movement": True},
        "hip": {"mas": "1", "active_movement": True},
    }
    unlocked = {
        ("seated_knee_extension", "left"): 8,
        ("seated_heel_raise", "left"): 6,
        ("hip_abduction_lying", "left"): 8,
        ("sit_to_stand", "both"): 6,
    }
    unsafe = profile(regions=regions, can_stand_safely=False)
    plan = build_plan(unsafe, LIBRARY, progress=unlocked)
    check_invariants(unsafe, plan, unlocked)
    assert not [i for i in plan.items if needs_standing(i)]
    assert any("[R1" in r and "Sit to stand" in r for r in plan.reasons)
    # Control: the same person able to stand gets standing work, so the rule is what removed it.
    safe = profile(regions=regions, can_stand_safely=True)
    safe_plan = build_plan(safe, LIBRARY, progress=unlocked)
    check_invariants(safe, safe_plan, unlocked)
    assert [i for i in safe_plan.items if needs_standing(i)]


def test_pacemaker_excludes_electrical_stimulation() -> None:
    nmes = LIBRARY.get("nmes_wrist_finger_extension")
    with_pacemaker = profile(conditions=["pacemaker"], equipment=["table", "nmes_device"])
    assert rule_contraindications(with_pacemaker, nmes) == "contraindicated with pacemaker"
    assert rule_contraindications(profile(equipment=["nmes_device"]), nmes) is None
    override = Overrides(items=[{"action": "add", "exercise": nmes.id}])
    plan = build_plan(with_pacemaker, LIBRARY, override)
    # Added only because the therapist insisted, with the clash spelled out.
    assert any(
        "[R14" in r and "contraindicated with pacemaker" in r and "supervised" in r
        for r in plan.reasons
    )


def test_contraindication_rule_removes_what_would_otherwise_be_planned() -> None:
    regions = {"hip": {"mas": "1", "active_movement": True}}
    plain = build_plan(profile(regions=regions), LIBRARY)
    assert "seated_march" in {i.exercise for i in plain.items}
    precautions = profile(regions=regions, conditions=["hip_precautions"])
    plan = build_plan(precautions, LIBRARY)
    check_invariants(precautions, plan)
    assert "seated_march" not in {i.exercise for i in plan.items}
    assert any("[R7" in r and "Seated march" in r for r in plan.reasons)


def test_high_pain_removes_stretch_and_cuts_volume() -> None:
    regions = {
        "elbow": {"mas": "2", "active_movement": True},
        "wrist": {"mas": "2", "active_movement": True},
    }
    calm = build_plan(profile(regions=regions, pain_nrs=0), LIBRARY)
    assert any(i.mode == "stretch" for i in calm.items)
    p = profile(regions=regions, pain_nrs=8)
    plan = build_plan(p, LIBRARY)
    check_invariants(p, plan)
    assert not [i for i in plan.items if i.mode == "stretch"]
    assert plan.daily_rep_target == 75 and plan.planned_reps < calm.planned_reps
    assert any("[R8" in r and "clinician" in r for r in plan.reasons)


def test_moderate_pain_halves_volume_and_keeps_stretch_gentlest() -> None:
    regions = {"elbow": {"mas": "2", "active_movement": True}}
    progress = {("elbow_flexor_slow_stretch", "left"): 4, ("elbow_extension", "left"): 4}
    p = profile(regions=regions, pain_nrs=5)
    plan = build_plan(p, LIBRARY, progress=progress)
    check_invariants(p, plan, progress)
    assert plan.daily_rep_target == 150
    stretch = [i for i in plan.items if i.mode == "stretch"]
    assert stretch and all(i.level == 1 for i in stretch)
    assert [i.level for i in plan.items if i.exercise == "elbow_extension"] == [4]


def test_daily_target_follows_the_pain_band_and_the_therapist_wins() -> None:
    """R8 with R9/R14: the day's repetitions are the profile's target at pain NRS 0-3, half
    of it at NRS 4-6 (moderate) and a quarter at NRS 7-10 (severe), so that pain lowers the
    load rather than being trained through (Serlin et al. 1995 cut points); a therapist's
    daily target replaces the computed one at any pain level."""
    divisor = {nrs: 1 if nrs <= 3 else 2 if nrs <= 6 else 4 for nrs in range(11)}
    for base in (300, 100):
        targets = {
            nrs: build_plan(profile(pain_nrs=nrs, daily_rep_target=base), LIBRARY).daily_rep_target
            for nrs in range(11)
        }
        assert targets == {nrs: base // d for nrs, d in divisor.items()}, base
    therapist = Overrides(daily_rep_target=120)
    overridden = {
        nrs: build_plan(profile(pain_nrs=nrs), LIBRARY, therapist).daily_rep_target
        for nrs in range(11)
    }
    assert overridden == dict.fromkeys(range(11), 120)


#: Progress that unlocks pinch (finger release level 3) and finger tapping (pinch level 3).
FINE_MOTOR_UNLOCKED = {("finger_extension_release", "left"): 3, ("pinch_thumb_index", "left"): 3}


def _hand_plan(mas: str, hand_function: str) -> Plan:
    hand = {"hand": {"mas": mas, "active_movement": True}}
    p = profile(regions=hand, hand_function=hand_function)
    plan = build_plan(p, LIBRARY, progress=FINE_MOTOR_UNLOCKED)
    check_invariants(p, plan, FINE_MOTOR_UNLOCKED)
    return plan


@pytest.mark.parametrize("mas", ["0", "1+", "2"])
def test_no_active_fine_hand_work_before_grasp_and_release(mas: str) -> None:
    """R13: pinch and finger tapping are planned actively only once the hand can grasp and
    release (GRASP graded levels, Harris et al. 2009), even when progress has unlocked them:
    a hand with no function or grasp only gets grasp and release practice instead."""
    for able in ("grasp_and_release", "fine"):  # control: unlocked and wanted otherwise
        assert fine_motor(_hand_plan(mas, able), "active") == {
            "pinch_thumb_index",
            "finger_tapping",
        }
    for limited in ("none", "grasp_only"):
        plan = _hand_plan(mas, limited)
        active = sorted(fine_motor(plan, "active"))
        assert not active, f"hand function {limited!r} got active {active}"
        assert any(
            r.startswith("[R13") and "Pinch (needs grasp and release first)" in r
            for r in plan.reasons
        )


def test_assisted_pinch_stays_open_to_a_hand_that_only_grasps() -> None:
    """R13 limits active fine work only: at MAS 3 the hand is planned assisted, and a helper
    moving the fingers through a pinch is allowed whatever the hand can do alone."""
    for hand_function in ("none", "grasp_only", "grasp_and_release"):
        plan = _hand_plan("3", hand_function)
        assert fine_motor(plan, "active_assisted") == {"pinch_thumb_index"}, hand_function


def test_painful_region_gets_no_stretch() -> None:
    p = profile(regions={"elbow": {"mas": "2", "active_movement": True, "painful": True}})
    plan = build_plan(p, LIBRARY)
    check_invariants(p, plan)
    assert not [i for i in plan.items if i.mode == "stretch"]


def test_cannot_sit_unsupported() -> None:
    p = profile(
        regions={"trunk": {"mas": "1", "active_movement": True}},
        can_sit_unsupported=False,
        can_stand_safely=False,
    )
    plan = build_plan(p, LIBRARY)
    check_invariants(p, plan)
    # Trunk work that needs no sitting balance remains: supported sitting or lying.
    assert plan.items and {i.position for i in plan.items} <= {"seated", "lying"}
    assert "trunk_lateral_lean" not in {i.exercise for i in plan.items}
    assert any("[R2" in r for r in plan.reasons)


def test_therapist_daily_target_and_profile_target() -> None:
    assert build_plan(profile(daily_rep_target=500), LIBRARY).daily_rep_target == 500
    plan = build_plan(profile(), LIBRARY, Overrides(daily_rep_target=120))
    assert plan.daily_rep_target == 120 and any("[R14" in r for r in plan.reasons)


def test_unlocked_exercises_join_the_plan_when_progress_allows() -> None:
    p = profile()
    before = {i.exercise for i in build_plan(p, LIBRARY).items}
    assert "hand_to_mouth" not in before
    after = build_plan(p, LIBRARY, progress={("elbow_flexion", "left"): 3})
    assert "hand_to_mouth" in {i.exercise for i in after.items}
    assert (
        build_plan(p, LIBRARY, progress={("elbow_flexion", "left"): 2}).items
        == build_plan(p, LIBRARY).items
    )


# --- overrides -----------------------------------------------------------------------------
def test_overrides_remove_change_add_replace() -> None:
    p = profile()
    base = build_plan(p, LIBRARY)
    first, second = base.items[0].exercise, base.items[1].exercise
    changes = parse_overrides(
        {
            "items": [
                {"action": "remove", "exercise": first, "note": "sore today"},
                {"action": "change", "exercise": second, "sets": 3, "reps": 12, "level": 2},
                {"action": "add", "exercise": "soft_ball_squeeze", "sets": 2},
                {
                    "action": "replace",
                    "exercise": base.items[2].exercise,
                    "replacement": "wrist_flexor_slow_stretch",
                    "mode": "stretch",
                },
            ]
        }
    )
    plan = build_plan(p, LIBRARY, changes)
    ids = [i.exercise for i in plan.items]
    assert first not in ids and base.items[2].exercise not in ids
    changed = next(i for i in plan.items if i.exercise == second)
    assert (changed.sets, changed.reps, changed.level) == (3, 12, 2) and "R14" in changed.rules
    added = next(i for i in plan.items if i.exercise == "soft_ball_squeeze")
    assert added.sets == 2 and added.rules == ["R14"]
    replaced = next(i for i in plan.items if i.exercise == "wrist_flexor_slow_stretch")
    assert replaced.mode == "stretch" and replaced.max_velocity_deg_s == 10
    assert ids.index("wrist_flexor_slow_stretch") == 1  # took the replaced item's place
    override_reasons = [r for r in plan.reasons if r.startswith("[R14")]
    assert len(override_reasons) == 4 and "sore today" in override_reasons[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"items": [{"action": "add", "exercise": "ghost"}]}, "items[0].exercise': unknown"),
        ({"items": [{"action": "change", "exercise": "bridging", "sets": 2}]}, "not in the plan"),
        ({"items": [{"action": "replace", "exercise": "elbow_extension"}]}, "needs 'replacement'"),
        ({"items": [{"action": "add", "exercise": "bridging", "mode": "stretch"}]}, "no mode"),
        ({"items": [{"action": "explode", "exercise": "bridging"}]}, "items[0].action"),
    ],
)
def test_bad_overrides_are_one_line_errors(data: dict[str, Any], message: str) -> None:
    with pytest.raises(PlanError) as caught:
        build_plan(profile(), LIBRARY, parse_overrides(data))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_every_rule_has_reason_and_source() -> None:
    for rule in rules.ALL_RULES:
        assert rule.reason and rule.source and rule.id.startswith("R")
    assert len({r.id for r in rules.ALL_RULES}) == len(rules.ALL_RULES)


# --- property: the invariants hold for any profile ---------------------------------------
status = st.fixed_dictionaries(
    {
        "mas": st.sampled_from(["0", "1", "1+", "2", "3", "4"]),
        "active_movement": st.booleans(),
        "painful": st.booleans(),
    }
)
profiles = st.fixed_dictionaries(
    {
        "affected_side": st.sampled_from(["left", "right", "both"]),
        "regions": st.dictionaries(st.sampled_from(REGIONS), status, min_size=1, max_size=9),
        "can_sit_unsupported": st.booleans(),
        "can_stand_safely": st.booleans(),
        "conditions": st.lists(
            st.sampled_from(
                [
                    "pacemaker",
                    "hip_precautions",
                    "recent_fracture",
                    "shoulder_subluxation",
                    "uncontrolled_hypertension",
                ]
            ),
            unique=True,
        ),
        "pain_nrs": st.integers(0, 10),
        "hand_function": st.sampled_from([None, "none", "grasp_only", "grasp_and_release", "fine"]),
        "equipment": st.lists(
            st.sampled_from(
                [
                    "table",
                    "towel",
                    "cup",
                    "nmes_device",
                    "resistance_band",
                    "sturdy_support",
                    "chair_with_armrests",
                    "soft_ball",
                    "small_objects",
                ]
            ),
            unique=True,
        ),
    }
)
levels = st.dictionaries(
    st.tuples(st.sampled_from(LIBRARY.ids()), st.sampled_from(["left", "right", "both"])),
    st.integers(1, 8),
    max_size=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=profiles, progress=levels)
def test_rules_hold_for_any_profile(data: dict[str, Any], progress: dict[Any, int]) -> None:
    p = parse_profile(data)
    check_invariants(p, build_plan(p, LIBRARY, progress=progress), progress)


def test_docs_quote_every_rule() -> None:
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "program.md").read_text()
    for rule in rules.ALL_RULES:
        assert f"| {rule.id} | {rule.title} | {rule.reason} | {rule.source} |" in docs, rule.id


@pytest.mark.parametrize(
    ("regions", "limbs"),
    [
        (("elbow",), {"arm"}),
        (("hand", "knee"), {"arm", "leg"}),
        (("trunk",), {"trunk"}),
        (("ankle", "trunk", "shoulder"), {"arm", "leg", "trunk"}),
    ],
)
def test_involved_limbs_names_each_limb_group_with_a_region(
    regions: tuple[str, ...], limbs: set[str]
) -> None:
    some = {r: {"mas": "1", "active_movement": True} for r in regions}
    assert involved_limbs(profile(regions=some)) == limbs
