"""The stored program's rules: the profile as stored, who changed what, what a therapist may
ask for, and what happens to changes that no longer apply. Each test reads back what was
stored, not only what was returned."""

from __future__ import annotations

from datetime import datetime

import pytest
from service_helpers import give_profile
from sqlalchemy.orm import Session

from openrehab.exercises.library import load_library
from openrehab.program import rules
from openrehab.program.profile import DEFAULT_EQUIPMENT, parse_profile
from openrehab.services import NotFoundError, ServiceError
from openrehab.services import program as program_service
from openrehab.services import progress as progress_service
from openrehab.store.models import User
from support import World


def _user(db: Session, world: World, name: str) -> User:
    user = db.get(User, world.ids[name])
    assert user is not None
    return user


def test_the_profile_round_trips_and_unset_equipment_means_the_household_defaults(
    db: Session, world: World
) -> None:
    """A profile is stored field by field; equipment the therapist did not give is stored
    as "not given" (None) so the household defaults apply, and pain not given is 0."""
    patient = _user(db, world, "patient_p")
    assert patient.profile is not None
    data = {
        "affected_side": "right",
        "regions": {"elbow": {"mas": "1+", "active_movement": True, "painful": True}},
        "can_sit_unsupported": False,
        "can_stand_safely": True,
        "hand_function": "grasp_only",
        "conditions": ["pacemaker"],
        "other_conditions": ["migraine"],
        "pain_nrs": 5,
        "goals": ["reach"],
        "equipment": ["table", "soft_ball"],
        "daily_rep_target": 250,
    }
    profile = parse_profile(data)
    program_service.store_profile(patient.profile, profile, equipment_given=True)
    db.flush()
    assert program_service.patient_profile(patient) == profile
    assert program_service.profile_data(patient.profile) == {
        **data,
        "regions": {"elbow": {"mas": "1+", "active_movement": True, "painful": True}},
    }
    program_service.store_profile(patient.profile, profile, equipment_given=False)
    patient.profile.pain_nrs = None
    db.flush()
    assert patient.profile.equipment is None
    stored = program_service.patient_profile(patient)
    assert stored.equipment == DEFAULT_EQUIPMENT and stored.pain_nrs == 0
    assert program_service.profile_data(None) == {}


def test_an_incomplete_profile_is_explained_field_by_field(db: Session, world: World) -> None:
    patient = _user(db, world, "patient_p")
    problem = "field 'regions': Dictionary should have at least 1 item after validation, not 0"
    assert program_service.profile_problems(patient.profile) == [problem]
    with pytest.raises(ServiceError) as caught:
        program_service.patient_profile(patient)
    assert caught.value.field == "profile"
    assert caught.value.message == (
        f"The clinical profile is not complete yet (profile: {problem}); a therapist fills "
        "it in first."
    )
    assert program_service.profile_problems(give_profile(db, patient.id).profile) == []


def test_only_items_of_the_current_program_of_that_patient_are_found(
    db: Session, world: World
) -> None:
    """An item of a rebuilt (older) program, or of another patient's program, is "not
    found": a change must not land on a program nobody sees any more."""
    patient = give_profile(db, world.ids["patient_p"])
    old = program_service.build_program(db, patient, by=None)
    old_item = old.items[0]
    new = program_service.build_program(db, patient, by=None)
    assert program_service.program_item(db, patient.id, new.items[0].id) is new.items[0]
    other = give_profile(db, world.ids["patient_q"])
    program_service.build_program(db, other, by=None)
    for patient_id, item_id in (
        (patient.id, old_item.id),
        (other.id, new.items[0].id),
        (patient.id, 10**6),
    ):
        with pytest.raises(NotFoundError) as caught:
            program_service.program_item(db, patient_id, item_id)
        assert str(caught.value) == (
            f"No item {item_id} in this patient's current program (it may have been rebuilt; "
            "reload it)."
        )
    assert program_service.planned_reps(new) == sum(i.sets * i.reps for i in new.items) > 0


def test_each_change_is_stored_with_who_made_it_and_kept_until_replaced(
    db: Session, world: World
) -> None:
    """R14: a stored change names the therapist (id and name) and when; the therapist's
    daily target is kept across rebuilds until set again, and ``replace_overrides`` starts
    from no changes."""
    patient = give_profile(db, world.ids["patient_p"])
    therapist = _user(db, world, "therapist_a")
    program = program_service.build_program(
        db,
        patient,
        by=therapist,
        daily_rep_target=120,
        set_target=True,
        new_overrides=[{"action": "change", "exercise": "elbow_flexion", "sets": 3}],
    )
    (entry,) = program.overrides["items"]
    assert {k: v for k, v in entry.items() if k != "at"} == {
        "action": "change",
        "exercise": "elbow_flexion",
        "sets": 3,
        "by": therapist.id,
        "by_name": therapist.display_name,
    }
    assert entry["at"] and program.overrides["daily_rep_target"] == 120
    assert program.daily_rep_target == 120 and program.created_by_id == therapist.id
    rebuilt = program_service.build_program(db, patient, by=None)
    assert rebuilt.daily_rep_target == 120 and rebuilt.overrides["items"] == [entry]
    assert rebuilt.created_by_id is None
    fresh = program_service.build_program(db, patient, by=None, replace_overrides=True)
    assert fresh.overrides == {"daily_rep_target": 120, "items": []}
    assert next(i for i in fresh.items if i.exercise_id == "elbow_flexion").sets != 3
    default = program_service.build_program(db, patient, by=None, set_target=True)
    assert default.daily_rep_target == 300 and default.overrides["daily_rep_target"] is None


def test_a_system_change_is_stored_without_a_name(db: Session, world: World) -> None:
    patient = give_profile(db, world.ids["patient_p"])
    program = program_service.build_program(
        db,
        patient,
        by=None,
        replace_overrides=True,
        new_overrides=[{"action": "remove", "exercise": "elbow_flexion"}],
    )
    (entry,) = program.overrides["items"]
    assert (entry["by"], entry["by_name"]) == (None, None)


def test_a_new_change_that_cannot_apply_is_refused_with_its_own_index(
    db: Session, world: World
) -> None:
    """A stored change stays; the new request's item is named by its index in the
    request (items[0]), not in the stored list, and nothing is stored."""
    patient = give_profile(db, world.ids["patient_p"])
    therapist = _user(db, world, "therapist_a")
    first = program_service.build_program(
        db,
        patient,
        by=therapist,
        new_overrides=[{"action": "change", "exercise": "elbow_flexion", "sets": 3}],
    )
    with pytest.raises(ServiceError) as caught:
        program_service.build_program(
            db,
            patient,
            by=therapist,
            new_overrides=[{"action": "change", "exercise": "bridging", "sets": 2}],
        )
    assert caught.value.field == "overrides[0]"
    assert caught.value.message == (
        "field 'items[0].exercise': 'bridging' is not in the plan (use action 'add')"
    )
    assert program_service.active_program(db, patient.id) is first
    with pytest.raises(ServiceError) as caught:
        program_service.build_program(
            db, patient, by=therapist, new_overrides=[{"action": "juggle", "exercise": "x"}]
        )
    assert caught.value.field == "overrides[0]"
    assert caught.value.message.startswith("overrides[0]: field 'action': Input should be ")
    with pytest.raises(ServiceError) as caught:
        program_service.build_program(
            db,
            patient,
            by=therapist,
            new_overrides=[
                {"action": "replace", "exercise": "elbow_flexion", "replacement": "juggling"}
            ],
        )
    assert (caught.value.field, caught.value.message) == (
        "overrides[0].replacement",
        "unknown exercise 'juggling' (see GET /api/exercises)",
    )


def test_a_stale_change_is_set_aside_with_the_planner_s_reason(db: Session, world: World) -> None:
    patient = give_profile(db, world.ids["patient_p"])
    therapist = _user(db, world, "therapist_a")
    program_service.build_program(
        db,
        patient,
        by=therapist,
        new_overrides=[{"action": "change", "exercise": "shoulder_abduction", "sets": 5}],
    )
    assert patient.profile is not None
    patient.profile.regions = {"elbow": {"mas": "1", "active_movement": True}}
    rebuilt = program_service.build_program(db, patient, by=None)
    assert rebuilt.overrides["items"] == []
    assert rebuilt.reasons[-1] == rules.OVERRIDE.cite(
        "An earlier therapist change (change shoulder_abduction) no longer applies and was "
        "set aside: 'shoulder_abduction' is not in the plan (use action 'add')."
    )


def test_the_latest_change_of_an_item_names_who_and_why(db: Session, world: World) -> None:
    """An item changed twice shows the last therapist and note; a change for one side
    does not mark the item on the other side."""
    patient = give_profile(db, world.ids["patient_p"])
    assert patient.profile is not None
    patient.profile.affected_side = "both"
    a, b = _user(db, world, "therapist_a"), _user(db, world, "therapist_b")
    program_service.build_program(
        db,
        patient,
        by=a,
        new_overrides=[
            {"action": "change", "exercise": "elbow_flexion", "sets": 3, "note": "first"}
        ],
    )
    program = program_service.build_program(
        db,
        patient,
        by=b,
        new_overrides=[
            {
                "action": "change",
                "exercise": "elbow_flexion",
                "side": "right",
                "sets": 4,
                "note": "second",
            }
        ],
    )
    items = {i.side: i for i in program.items if i.exercise_id == "elbow_flexion"}
    assert (items["right"].sets, items["right"].overridden_by_id, items["right"].note) == (
        4,
        b.id,
        "second",
    )
    assert (items["left"].sets, items["left"].overridden_by_id, items["left"].note) == (
        3,
        a.id,
        "first",
    )
    untouched = next(i for i in program.items if i.exercise_id == "elbow_extension")
    assert (untouched.overridden_by_id, untouched.note) == (None, None)


@pytest.mark.parametrize(
    ("exercise_id", "changes", "field", "message"),
    [
        (
            "elbow_flexion",
            {"mode": "stretch"},
            "mode",
            "Bend the elbow has no mode 'stretch'; it has active, active_assisted, passive",
        ),
        (
            "elbow_flexion",
            {"level": 9},
            "level",
            "Bend the elbow has levels 1 to 8",
        ),
        (
            "elbow_flexion",
            {"side": "both"},
            "side",
            "this exercise is done on one side: give 'left' or 'right'",
        ),
        (
            "bridging",
            {"side": "left"},
            "side",
            "this exercise uses both sides (or the trunk): give 'both'",
        ),
        ("juggling", {}, "exercise_id", "unknown exercise 'juggling' (see GET /api/exercises)"),
    ],
)
def test_an_added_exercise_must_have_the_mode_side_and_level_asked_for(
    db: Session,
    world: World,
    exercise_id: str,
    changes: dict[str, object],
    field: str,
    message: str,
) -> None:
    patient = give_profile(db, world.ids["patient_p"])
    therapist = _user(db, world, "therapist_a")
    with pytest.raises(ServiceError) as caught:
        program_service.add_item(
            db, patient, by=therapist, exercise_id=exercise_id, reason="x", **changes
        )
    assert (caught.value.field, caught.value.message) == (field, message)


def test_an_exercise_already_planned_is_changed_not_added_again(db: Session, world: World) -> None:
    patient = give_profile(db, world.ids["patient_p"])
    therapist = _user(db, world, "therapist_a")
    program_service.build_program(db, patient, by=therapist)
    for side in (None, "left"):
        with pytest.raises(ServiceError) as caught:
            program_service.add_item(
                db, patient, by=therapist, exercise_id="elbow_flexion", reason="x", side=side
            )
        assert (caught.value.field, caught.value.message) == (
            "exercise_id",
            "Bend the elbow is already in the program; change that item instead",
        )
    added = program_service.add_item(
        db, patient, by=therapist, exercise_id="elbow_flexion", reason="both arms", side="right"
    )
    assert {i.side for i in added.items if i.exercise_id == "elbow_flexion"} == {"left", "right"}
    assert added.note == f"Changed by {therapist.display_name}: both arms"
    item = next(i for i in added.items if i.exercise_id == "elbow_flexion" and i.side == "left")
    with pytest.raises(ServiceError) as caught:
        program_service.override_item(db, patient, item, by=therapist, reason="x", side="right")
    assert (caught.value.field, caught.value.message) == (
        "side",
        "Bend the elbow is already planned on the right side",
    )


def test_progress_rebuilds_only_an_existing_program_from_a_complete_profile(
    db: Session, world: World
) -> None:
    patient = give_profile(db, world.ids["patient_p"])
    assert program_service.rebuild_after_progress(db, patient, ["Level 1 -> 2."]) is None
    program_service.build_program(db, patient, by=None)
    rebuilt = program_service.rebuild_after_progress(db, patient, ["Level 1 -> 2.", "Unlocked."])
    assert (
        rebuilt is not None
        and rebuilt.note == "Updated after your progress: Level 1 -> 2. Unlocked."
    )
    assert patient.profile is not None
    patient.profile.regions = {}
    assert program_service.rebuild_after_progress(db, patient, ["x"]) is None
    assert program_service.active_program(db, patient.id) is rebuilt


def test_a_level_change_without_a_side_moves_every_side_it_is_planned_on(
    db: Session, world: World
) -> None:
    """A level in a change (or an addition) is progress, not a pin: one-sided exercises move
    on each affected side, a two-sided one on "both"; the stored change keeps no level."""
    patient = give_profile(db, world.ids["patient_p"])
    assert patient.profile is not None
    patient.profile.affected_side = "both"
    therapist = _user(db, world, "therapist_a")
    program = program_service.build_program(
        db,
        patient,
        by=therapist,
        new_overrides=[
            {"action": "change", "exercise": "elbow_extension", "level": 3},
            {"action": "add", "exercise": "scapular_retraction", "level": 2},
        ],
    )
    levels = progress_service.progress_levels(db, patient.id)
    assert levels[("elbow_extension", "left")] == levels[("elbow_extension", "right")] == 3
    assert levels[("scapular_retraction", "both")] == 2
    assert ("scapular_retraction", "left") not in levels
    assert all("level" not in entry for entry in program.overrides["items"])
    assert {(i.exercise_id, i.side, i.level) for i in program.items} >= {
        ("elbow_extension", "left", 3),
        ("elbow_extension", "right", 3),
        ("scapular_retraction", "both", 2),
    }


def test_a_level_given_with_a_replacement_is_the_replacement_s(db: Session, world: World) -> None:
    patient = give_profile(db, world.ids["patient_p"])
    therapist = _user(db, world, "therapist_a")
    program_service.build_program(
        db,
        patient,
        by=therapist,
        new_overrides=[
            {
                "action": "replace",
                "exercise": "elbow_extension",
                "replacement": "wrist_extension",
                "side": "left",
                "level": 2,
            }
        ],
    )
    levels = progress_service.progress_levels(db, patient.id)
    assert levels[("wrist_extension", "left")] == 2
    assert ("elbow_extension", "left") not in levels


def test_a_change_is_stamped_in_utc_with_the_program_it_made(db: Session, world: World) -> None:
    """The change's time is the new program's creation time, both timezone-aware UTC, so a
    server in another timezone orders changes the same way."""
    patient = give_profile(db, world.ids["patient_p"])
    program = program_service.build_program(
        db,
        patient,
        by=_user(db, world, "therapist_a"),
        new_overrides=[{"action": "change", "exercise": "elbow_flexion", "sets": 3}],
    )
    at = program.overrides["items"][0]["at"]
    assert at.endswith("+00:00")
    assert datetime.fromisoformat(at) == program.created_at


def test_moving_an_item_to_the_other_side_keeps_or_changes_its_mode(
    db: Session, world: World
) -> None:
    """A side move is a removal plus an addition: the mode given goes with it, otherwise the
    item's own mode does (as do its sets, reps and rest)."""
    patient = give_profile(db, world.ids["patient_p"])
    therapist = _user(db, world, "therapist_a")
    program = program_service.build_program(db, patient, by=therapist)
    item = next(i for i in program.items if i.exercise_id == "elbow_flexion")
    assert item.mode == "active"
    program = program_service.override_item(
        db, patient, item, by=therapist, reason="right arm too", side="right"
    )
    moved = next(i for i in program.items if i.exercise_id == "elbow_flexion")
    assert (moved.side, moved.mode, moved.sets, moved.reps, moved.rest_s) == (
        "right",
        item.mode,
        item.sets,
        item.reps,
        item.rest_s,
    )
    program = program_service.override_item(
        db,
        patient,
        moved,
        by=therapist,
        reason="back, with help",
        side="left",
        mode="active_assisted",
    )
    back = next(i for i in program.items if i.exercise_id == "elbow_flexion")
    assert (back.side, back.mode) == ("left", "active_assisted")


def test_a_missing_profile_lists_every_missing_field_separately() -> None:
    assert program_service.profile_problems(None) == [
        f"field '{name}': required field is missing"
        for name in ("affected_side", "regions", "can_sit_unsupported", "can_stand_safely")
    ]


def test_a_removal_with_a_level_moves_no_level(db: Session, world: World) -> None:
    """A level only means something for an item that stays; removing one leaves its
    progress where it was."""
    patient = give_profile(db, world.ids["patient_p"])
    program_service.build_program(
        db,
        patient,
        by=_user(db, world, "therapist_a"),
        new_overrides=[{"action": "remove", "exercise": "elbow_flexion", "level": 4}],
    )
    assert ("elbow_flexion", "left") not in progress_service.progress_levels(db, patient.id)


def test_a_replacement_and_a_removal_name_the_therapist_and_why(db: Session, world: World) -> None:
    patient = give_profile(db, world.ids["patient_p"])
    therapist = _user(db, world, "therapist_a")
    program = program_service.build_program(
        db,
        patient,
        by=therapist,
        new_overrides=[
            {
                "action": "replace",
                "exercise": "elbow_extension",
                "replacement": "wrist_extension",
                "side": "left",
                "note": "wrist first",
            }
        ],
    )
    new = next(i for i in program.items if i.exercise_id == "wrist_extension")
    assert (new.overridden_by_id, new.note) == (therapist.id, "wrist first")
    item = next(i for i in program.items if i.exercise_id == "elbow_flexion")
    program = program_service.remove_item(db, patient, item, by=therapist, reason="sore elbow")
    assert program.note == f"Changed by {therapist.display_name}: sore elbow"
    assert program.created_by_id == therapist.id


def test_the_highest_level_can_be_set_and_one_more_cannot(db: Session, world: World) -> None:
    patient = give_profile(db, world.ids["patient_p"])
    therapist = _user(db, world, "therapist_a")
    program = program_service.build_program(db, patient, by=therapist)
    item = next(i for i in program.items if i.exercise_id == "elbow_flexion")
    top = load_library().get("elbow_flexion").max_level
    with pytest.raises(ServiceError) as caught:
        program_service.override_item(db, patient, item, by=therapist, reason="x", level=top + 1)
    assert (caught.value.field, caught.value.message) == (
        "level",
        f"Bend the elbow has levels 1 to {top}",
    )
    program = program_service.override_item(
        db, patient, item, by=therapist, reason="strong", level=top
    )
    assert next(i for i in program.items if i.exercise_id == "elbow_flexion").level == top


def test_a_side_move_with_a_level_sets_it_on_the_new_side(db: Session, world: World) -> None:
    patient = give_profile(db, world.ids["patient_p"])
    therapist = _user(db, world, "therapist_a")
    program = program_service.build_program(db, patient, by=therapist)
    item = next(i for i in program.items if i.exercise_id == "elbow_flexion")
    program = program_service.override_item(
        db, patient, item, by=therapist, reason="right arm", side="right", level=3
    )
    moved = next(i for i in program.items if i.exercise_id == "elbow_flexion")
    assert (moved.side, moved.level) == ("right", 3)
    assert progress_service.progress_levels(db, patient.id)[("elbow_flexion", "right")] == 3
