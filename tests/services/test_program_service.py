"""The program persisted: built from the stored profile and progress, overridden, rebuilt."""

from __future__ import annotations

import pytest
from service_helpers import give_profile
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openrehab.exercises.library import load_library
from openrehab.program.planner import build_plan
from openrehab.services import ServiceError
from openrehab.services import program as program_service
from openrehab.services import progress as progress_service
from openrehab.store.models import Program, ProgressEvent, User
from support import World


def _therapist(db: Session, world: World) -> User:
    user = db.get(User, world.ids["therapist_a"])
    assert user is not None
    return user


def test_program_is_the_plan_of_the_stored_profile(db: Session, world: World) -> None:
    patient = give_profile(db, world.ids["patient_p"])
    program = program_service.build_program(db, patient, by=_therapist(db, world), note="first")
    db.commit()
    plan = build_plan(program_service.patient_profile(patient), load_library())
    assert [(i.exercise_id, i.side, i.mode, i.sets, i.reps, i.level) for i in program.items] == [
        (i.exercise, i.side, i.mode, i.sets, i.reps, i.level) for i in plan.items
    ]
    # What the session page and the music need is stored with each item too.
    assert [
        (i.rest_s, i.hold_s, i.tempo_bpm, i.assisted_by, i.max_velocity_deg_s)
        for i in program.items
    ] == [
        (i.rest_s, i.hold_s, i.tempo_bpm, i.assisted_by, i.max_velocity_deg_s) for i in plan.items
    ]
    assert all(i.tempo_bpm for i in program.items)
    assert [i.position for i in program.items] == list(range(1, len(plan.items) + 1))
    assert program.reasons == plan.reasons
    assert program.items[0].body_position == plan.items[0].position
    assert program.created_by_id == world.ids["therapist_a"] and program.note == "first"


def test_rebuild_deactivates_the_previous_program(db: Session, world: World) -> None:
    patient = give_profile(db, world.ids["patient_p"])
    first = program_service.build_program(db, patient, by=None)
    second = program_service.build_program(db, patient, by=None)
    db.commit()
    db.refresh(first)
    assert not first.active and second.active
    assert program_service.active_program(db, patient.id).id == second.id
    active = db.scalar(
        select(func.count(Program.id)).where(
            Program.patient_id == patient.id, Program.active.is_(True)
        )
    )
    assert active == 1


def test_incomplete_profile_is_refused_with_the_field(db: Session, world: World) -> None:
    patient = db.get(User, world.ids["patient_p"])
    with pytest.raises(ServiceError) as caught:
        program_service.build_program(db, patient, by=None)
    assert caught.value.field == "profile" and "regions" in caught.value.message
    assert program_service.profile_problems(patient.profile)


def test_override_is_recorded_and_survives_rebuilds(db: Session, world: World) -> None:
    patient = give_profile(db, world.ids["patient_p"])
    therapist = _therapist(db, world)
    program = program_service.build_program(db, patient, by=therapist)
    item = next(i for i in program.items if i.exercise_id == "elbow_flexion")
    changed = program_service.override_item(
        db, patient, item, by=therapist, reason="keep it short", sets=2, reps=6, rest_s=90
    )
    db.commit()
    new = next(i for i in changed.items if i.exercise_id == "elbow_flexion")
    assert (new.sets, new.reps, new.rest_s) == (2, 6, 90)
    assert new.overridden_by_id == therapist.id and new.note == "keep it short"
    assert "R14" in new.rules
    assert any("Therapist changed" in r and "keep it short" in r for r in changed.reasons)
    stored = changed.overrides["items"][0]
    assert stored["by"] == therapist.id and stored["action"] == "change"
    rebuilt = program_service.build_program(db, patient, by=None, note="again")
    again = next(i for i in rebuilt.items if i.exercise_id == "elbow_flexion")
    assert (again.sets, again.reps, again.overridden_by_id) == (2, 6, therapist.id)


def test_remove_add_and_side_change(db: Session, world: World) -> None:
    patient = give_profile(db, world.ids["patient_p"])
    therapist = _therapist(db, world)
    program = program_service.build_program(db, patient, by=therapist)
    item = next(i for i in program.items if i.exercise_id == "elbow_flexion")
    program = program_service.remove_item(db, patient, item, by=therapist, reason="sore")
    assert "elbow_flexion" not in {i.exercise_id for i in program.items}
    program = program_service.add_item(
        db, patient, by=therapist, exercise_id="toe_curls", reason="cramps", sets=2
    )
    added = next(i for i in program.items if i.exercise_id == "toe_curls")
    assert added.sets == 2 and added.note == "cramps" and added.overridden_by_id == therapist.id
    program = program_service.override_item(
        db, patient, added, by=therapist, reason="other foot too", side="right"
    )
    sides = {i.side for i in program.items if i.exercise_id == "toe_curls"}
    assert sides == {"right"}
    rebuilt = program_service.build_program(db, patient, by=None)
    assert "elbow_flexion" not in {i.exercise_id for i in rebuilt.items}
    assert {(i.exercise_id, i.side) for i in rebuilt.items} >= {("toe_curls", "right")}


def test_level_override_moves_progress_with_an_explained_event(db: Session, world: World) -> None:
    patient = give_profile(db, world.ids["patient_p"])
    therapist = _therapist(db, world)
    program = program_service.build_program(db, patient, by=therapist)
    item = next(i for i in program.items if i.exercise_id == "elbow_extension")
    program = program_service.override_item(
        db, patient, item, by=therapist, reason="moves well in clinic", level=4
    )
    db.commit()
    assert next(i for i in program.items if i.exercise_id == "elbow_extension").level == 4
    assert progress_service.progress_levels(db, patient.id)[("elbow_extension", "left")] == 4
    event = db.scalar(select(ProgressEvent).where(ProgressEvent.kind == "therapist_level"))
    assert event is not None
    assert event.reason.startswith("Straighten the elbow level 1 -> 4 because your therapist")
    assert "moves well in clinic" in event.reason


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"mode": "stretch"}, "mode"),
        ({"side": "both"}, "side"),
        ({"level": 99}, "level"),
        ({}, None),
    ],
)
def test_invalid_overrides_name_the_field(
    db: Session, world: World, changes: dict, field: str | None
) -> None:
    patient = give_profile(db, world.ids["patient_p"])
    therapist = _therapist(db, world)
    program = program_service.build_program(db, patient, by=therapist)
    item = next(i for i in program.items if i.exercise_id == "elbow_flexion")
    with pytest.raises(ServiceError) as caught:
        program_service.override_item(db, patient, item, by=therapist, reason="x", **changes)
    assert caught.value.field == field


def test_unknown_exercise_in_overrides_is_refused(db: Session, world: World) -> None:
    patient = give_profile(db, world.ids["patient_p"])
    with pytest.raises(ServiceError) as caught:
        program_service.build_program(
            db, patient, by=None, new_overrides=[{"action": "add", "exercise": "juggling"}]
        )
    assert caught.value.field == "overrides[0].exercise"


def test_stale_override_is_set_aside_with_a_reason(db: Session, world: World) -> None:
    patient = give_profile(db, world.ids["patient_p"])
    therapist = _therapist(db, world)
    program = program_service.build_program(db, patient, by=therapist)
    item = next(i for i in program.items if i.exercise_id == "shoulder_abduction")
    program_service.override_item(db, patient, item, by=therapist, reason="more", sets=5)
    # The shoulder is no longer involved: the change cannot apply any more.
    patient.profile.regions = {"elbow": {"mas": "1", "active_movement": True}}
    rebuilt = program_service.build_program(db, patient, by=None)
    assert rebuilt.overrides["items"] == []
    assert any("no longer applies" in reason for reason in rebuilt.reasons)
