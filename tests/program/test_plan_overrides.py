"""R14, the therapist decides: each override is applied as asked and recorded in a sentence.

The reasons are shown to the patient as they are, so their wording is checked exactly; the
items are checked field by field (what the therapist set, and what an added item inherits).
"""

from __future__ import annotations

from typing import Any

import pytest
from plan_helpers import LIBRARY, profile

from openrehab.program import rules
from openrehab.program.planner import (
    Plan,
    PlanError,
    PlanItem,
    build_plan,
    parse_overrides,
)
from openrehab.program.profile import PatientProfile

WHY = " Why: " + rules.OVERRIDE.reason + " (" + rules.OVERRIDE.source + ")."
#: Elbow MAS 3 with some movement: planned passive, stretch, then assisted (rule R3).
SEVERE_ELBOW = {"elbow": {"mas": "3", "active_movement": True}}


def planned(
    changes: list[dict[str, Any]],
    p: PatientProfile | None = None,
    progress: dict[tuple[str, str], int] | None = None,
) -> Plan:
    return build_plan(p or profile(), LIBRARY, parse_overrides({"items": changes}), progress)


def override_reasons(plan: Plan) -> list[str]:
    return [r for r in plan.reasons if r.startswith("[R14 ")]


def item(plan: Plan, exercise_id: str) -> PlanItem:
    (found,) = [i for i in plan.items if i.exercise == exercise_id]
    return found


def test_a_removal_says_whether_the_item_was_there() -> None:
    """Removing a planned item is reported as done; removing one that was not planned is
    reported as asked, so nobody believes an exercise was taken out that never was in."""
    plan = planned(
        [
            {"action": "remove", "exercise": "elbow_extension"},
            {"action": "remove", "exercise": "bridging", "note": "Back pain this week."},
        ]
    )
    assert "elbow_extension" not in {i.exercise for i in plan.items}
    assert override_reasons(plan) == [
        "[R14 the therapist decides] Therapist removed: Straighten the elbow." + WHY,
        "[R14 the therapist decides] Therapist asked to remove (not in plan): Bridge. "
        "Note: Back pain this week." + WHY,
    ]


def test_a_change_sets_every_given_field_and_lists_it() -> None:
    """Mode, hold and tempo are the therapist's to change like sets and reps; the reason
    lists exactly what changed ('nothing' when no field was given)."""
    plan = planned(
        [
            {
                "action": "change",
                "exercise": "elbow_extension",
                "mode": "active_assisted",
                "hold_s": 2,
                "tempo_bpm": 30,
            },
            {"action": "change", "exercise": "wrist_extension"},
        ]
    )
    changed = item(plan, "elbow_extension")
    assert (changed.mode, changed.hold_s, changed.tempo_bpm) == ("active_assisted", 2.0, 30.0)
    assert changed.rules == [rules.DAILY_RANGE.id, rules.OVERRIDE.id]
    untouched = item(plan, "wrist_extension")
    assert (untouched.mode, untouched.hold_s, untouched.tempo_bpm) == ("active", 0.0, 40.0)
    assert override_reasons(plan) == [
        "[R14 the therapist decides] Therapist changed Straighten the elbow: "
        "mode=active_assisted, hold_s=2.0, tempo_bpm=30.0." + WHY,
        "[R14 the therapist decides] Therapist changed Wrist up: nothing." + WHY,
    ]


def test_a_replacement_takes_the_place_mode_and_sets_of_the_item_it_replaces() -> None:
    """The replacing exercise keeps the replaced item's mode when it has that mode (a
    passive item stays passive for a severe elbow) and its sets; otherwise it uses its own
    first mode."""
    severe = profile(regions=SEVERE_ELBOW)
    base = build_plan(severe, LIBRARY)
    passive = item(base, "elbow_extension")
    assert (passive.mode, passive.sets) == ("passive", 2)
    plan = planned(
        [{"action": "replace", "exercise": "elbow_extension", "replacement": "shoulder_abduction"}],
        severe,
    )
    new = item(plan, "shoulder_abduction")
    assert (new.mode, new.sets, new.side) == ("passive", 2, "left")
    assert plan.items.index(new) == base.items.index(passive)
    assert override_reasons(plan) == [
        "[R14 the therapist decides] Therapist replaced Straighten the elbow with "
        "Arm out to the side." + WHY
    ]
    # The active elbow extension of a mild arm becomes a stretch: the stretch has no
    # active mode, so it is planned in its first mode, with the helper and speed limit.
    stretch = item(
        planned(
            [
                {
                    "action": "replace",
                    "exercise": "elbow_extension",
                    "replacement": "elbow_flexor_slow_stretch",
                }
            ]
        ),
        "elbow_flexor_slow_stretch",
    )
    assert (stretch.mode, stretch.assisted_by) == ("stretch", "unaffected_side")
    assert stretch.sets == item(build_plan(profile(), LIBRARY), "elbow_extension").sets == 9


def test_an_added_item_starts_at_the_reached_level_or_level_1() -> None:
    """An exercise the therapist adds is planned at the level progress has reached on that
    side, level 1 if it was never practised, with that level's reps and two sets."""
    thumb = LIBRARY.get("thumb_opposition")
    add = [{"action": "add", "exercise": "thumb_opposition"}]
    fresh = item(planned(add), "thumb_opposition")
    assert (fresh.level, fresh.reps, fresh.sets) == (1, thumb.level(1).reps_per_set, 2)
    practised = item(planned(add, progress={("thumb_opposition", "left"): 3}), "thumb_opposition")
    assert (practised.level, practised.reps) == (3, thumb.level(3).reps_per_set)
    assert practised.rules == [rules.OVERRIDE.id] and practised.assisted_by is None


def test_an_added_unsafe_exercise_is_planned_with_a_caution() -> None:
    """R14 over R1/R2: the therapist may add standing or unsupported-sitting work for a
    person who is not safe alone in that position; the reason says so and asks for
    supervision. Without a clash there is no caution."""
    unsafe = profile(can_sit_unsupported=False, can_stand_safely=False)
    plan = planned(
        [
            {"action": "add", "exercise": "trunk_lateral_lean"},
            {"action": "add", "exercise": "mini_squat"},
            {"action": "add", "exercise": "thumb_opposition"},
        ],
        unsafe,
    )
    assert {"trunk_lateral_lean", "mini_squat"} <= {i.exercise for i in plan.items}
    supervised = "; planned on the therapist's decision, do it supervised."
    assert override_reasons(plan) == [
        "[R14 the therapist decides] Therapist added Lean to the side. Caution: sitting "
        "without support is not yet safe" + supervised + WHY,
        "[R14 the therapist decides] Therapist added Mini squat. Caution: standing is not "
        "yet safe" + supervised + WHY,
        f"[R14 the therapist decides] Therapist added {LIBRARY.get('thumb_opposition').name}."
        + WHY,
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"action": "replace", "exercise": "elbow_extension", "replacement": "ghost"},
            "overrides: field 'items[0].replacement': unknown exercise 'ghost'",
        ),
        (
            {"action": "replace", "exercise": "bridging", "replacement": "elbow_flexion"},
            "overrides: field 'items[0].exercise': 'bridging' is not in the plan",
        ),
        (
            {"action": "change", "exercise": "bridging", "sets": 2},
            "overrides: field 'items[0].exercise': 'bridging' is not in the plan "
            "(use action 'add')",
        ),
    ],
)
def test_an_override_that_cannot_apply_names_its_field(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(PlanError) as caught:
        planned([change])
    assert str(caught.value) == message


def test_overrides_errors_name_their_source() -> None:
    with pytest.raises(PlanError, match=r"^overrides: field 'items\[0\]\.action'"):
        parse_overrides({"items": [{"action": "explode", "exercise": "bridging"}]})
    with pytest.raises(PlanError, match=r"^ov\.json: field 'daily_rep_target'"):
        parse_overrides({"daily_rep_target": -1}, "ov.json")


def test_an_added_item_takes_every_field_the_therapist_gave() -> None:
    """Hold, tempo, rest, sets, reps, level and the note of an added item are the
    therapist's; without them the level's values, 2 sets and the usual rest apply."""
    given = item(
        planned(
            [
                {
                    "action": "add",
                    "exercise": "thumb_opposition",
                    "hold_s": 3,
                    "tempo_bpm": 30,
                    "rest_s": 0,
                    "sets": 4,
                    "reps": 5,
                    "level": 2,
                    "note": "slowly",
                }
            ]
        ),
        "thumb_opposition",
    )
    assert (given.hold_s, given.tempo_bpm, given.rest_s, given.sets, given.reps) == (
        3,
        30,
        0,
        4,
        5,
    )
    assert (given.level, given.note) == (2, "slowly")
    level_2 = LIBRARY.get("thumb_opposition").level(2)
    held = item(
        planned([{"action": "add", "exercise": "thumb_opposition", "level": 2}]),
        "thumb_opposition",
    )
    assert (held.hold_s, held.tempo_bpm, held.rest_s, held.note) == (
        level_2.hold_s,
        level_2.tempo_bpm,
        60,
        None,
    )


def test_every_safety_clash_of_an_added_exercise_is_listed() -> None:
    p = profile(can_stand_safely=False, conditions=["hip_precautions"])
    plan = planned([{"action": "add", "exercise": "mini_squat"}], p)
    assert override_reasons(plan) == [
        "[R14 the therapist decides] Therapist added Mini squat. Caution: standing is not yet "
        "safe; contraindicated with hip_precautions; planned on the therapist's decision, do it "
        "supervised." + WHY
    ]
