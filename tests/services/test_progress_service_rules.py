"""Progress persisted: therapist-set levels, the "today" overview, the event list, the state
as loaded, and when a finished set rebuilds the program."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from service_helpers import do_set, give_profile, progress_row
from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.services import ServiceError
from openrehab.services import program as program_service
from openrehab.services import progress as progress_service
from openrehab.store import records
from openrehab.store.models import ExerciseProgress, ProgressEvent, User
from support import World


def _user(db: Session, world: World, name: str) -> User:
    user = db.get(User, world.ids[name])
    assert user is not None
    return user


def test_a_therapist_set_level_is_explained_and_keeps_the_xp(db: Session, world: World) -> None:
    """The event names the therapist and their reason (or just "your therapist"); the
    progress moves to the bottom of the level with XP and history kept; asking for the
    level it already has stores nothing."""
    p = world.ids["patient_p"]
    therapist = _user(db, world, "therapist_a")
    progress_service.finish_set(db, do_set(db, p))
    event = progress_service.set_level(
        db, p, "elbow_flexion", "left", 3, by=therapist, reason="strong in clinic"
    )
    assert event is not None
    assert (event.kind, event.side, event.from_level, event.to_level, event.xp) == (
        "therapist_level",
        "left",
        1,
        3,
        0,
    )
    assert event.reason == (
        f"Bend the elbow level 1 -> 3 because your therapist {therapist.display_name} set it: "
        "strong in clinic"
    )
    row = progress_row(db, p, "elbow_flexion")
    assert (row.level, row.xp, row.state["units"], len(row.state["history"])) == (3, 16, 8, 1)
    assert (
        progress_service.set_level(db, p, "elbow_flexion", "left", 3, by=None, reason=None) is None
    )
    events = progress_service.recent_events(db, p, kinds=["therapist_level"])
    assert [e.id for e in events] == [event.id]
    bridge = progress_service.set_level(db, p, "bridging", "midline", 2, by=None, reason=None)
    assert bridge is not None and bridge.side == "both"
    assert bridge.reason == "Bridge level 1 -> 2 because your therapist set it."
    first = progress_service.set_level(db, p, "toe_curls", "left", 1, by=None, reason=None)
    assert first is not None and (first.from_level, first.to_level) == (1, 1)


@pytest.mark.parametrize("level", [0, 9])
def test_a_level_outside_the_exercise_is_refused(db: Session, world: World, level: int) -> None:
    with pytest.raises(ServiceError) as caught:
        progress_service.set_level(
            db, world.ids["patient_p"], "elbow_flexion", "left", level, by=None, reason=None
        )
    assert (caught.value.field, caught.value.message) == (
        "level",
        "Bend the elbow has levels 1 to 8",
    )
    assert progress_service.progress_levels(db, world.ids["patient_p"]) == {}


def test_today_compares_the_reps_done_with_the_day_s_target(db: Session, world: World) -> None:
    """The target is the one asked for, else the active program's, else the profile's;
    the percentage is rounded and capped at 100, and a zero target counts as done."""
    patient = give_profile(db, world.ids["patient_p"])
    assert patient.profile is not None
    patient.profile.daily_rep_target = 250
    today = datetime.now(UTC).date()
    progress_service.finish_set(db, do_set(db, patient.id))  # 8 reps today
    today_view = progress_service.overview(db, patient, today=today)["today"]
    assert today_view == {"date": today.isoformat(), "reps": 8, "target": 250, "percent": 3}
    program_service.build_program(db, patient, by=None, daily_rep_target=16, set_target=True)
    assert progress_service.overview(db, patient)["today"]["percent"] == 50
    for target, percent in ((12, 67), (8, 100), (5, 100), (0, 100)):
        view = progress_service.overview(db, patient, daily_target=target)["today"]
        assert (view["target"], view["percent"]) == (target, percent)
    yesterday = progress_service.overview(db, patient, today=today - timedelta(days=1))
    assert yesterday["today"]["reps"] == 0 and yesterday["today"]["percent"] == 0


def test_the_overview_lists_each_exercise_with_its_last_outcome(db: Session, world: World) -> None:
    patient = _user(db, world, "patient_p")
    progress_service.finish_set(db, do_set(db, patient.id, reached=1.0))
    progress_service.finish_set(db, do_set(db, patient.id, reached=0.25))
    progress_service.set_level(db, patient.id, "bridging", "both", 2, by=None, reason=None)
    view = progress_service.overview(db, patient, events_limit=2)
    assert view["exercises"] == [
        {
            "exercise_id": "bridging",
            "name": "Bridge",
            "side": "both",
            "level": 2,
            "max_level": 6,
            "xp": 0,
            "sets_done": 0,
            "last_set_success": None,
        },
        {
            "exercise_id": "elbow_flexion",
            "name": "Bend the elbow",
            "side": "left",
            "level": 1,
            "max_level": 8,
            "xp": 16 + 10,
            "sets_done": 2,
            "last_set_success": False,
        },
    ]
    assert len(view["events"]) == 2 and view["events"][0].kind == "therapist_level"


def test_recent_events_are_newest_first_and_filtered_by_kind(db: Session, world: World) -> None:
    p = world.ids["patient_p"]
    start = datetime(2024, 5, 1, 9, tzinfo=UTC)
    for day in range(3):
        progress_service.finish_set(db, do_set(db, p, at=start + timedelta(days=day)))
    sets = progress_service.recent_events(db, p, kinds=["set"])
    assert [e.at.date() for e in sets] == [date(2024, 5, 3), date(2024, 5, 2), date(2024, 5, 1)]
    assert [e.id for e in progress_service.recent_events(db, p, limit=2)] == [
        e.id for e in sets[:2]
    ]
    assert progress_service.recent_events(db, p, kinds=["unlock"]) == []
    assert progress_service.recent_events(db, world.ids["patient_q"]) == []


def test_loaded_state_skips_retired_exercises_and_survives_a_damaged_row(
    db: Session, world: World
) -> None:
    """A progress row of an exercise no longer in the library is kept but not used; a row
    whose stored state cannot be read starts again at its stored level."""
    p = world.ids["patient_p"]
    db.add(ExerciseProgress(patient_id=p, exercise_id="retired", side="left", level=4, xp=9))
    db.add(
        ExerciseProgress(
            patient_id=p,
            exercise_id="elbow_flexion",
            side="left",
            level=3,
            xp=40,
            state={"units": "broken"},
        )
    )
    db.flush()
    state = progress_service.load_state(db, p)
    assert list(state.exercises) == [("elbow_flexion", "left")]
    recovered = state.exercises[("elbow_flexion", "left")]
    assert (recovered.level, recovered.units, recovered.xp) == (3, 8, 0)
    assert progress_service.progress_levels(db, p) == {
        ("retired", "left"): 4,
        ("elbow_flexion", "left"): 3,
    }


def test_only_finished_sets_with_repetitions_are_days_practised(db: Session, world: World) -> None:
    p = world.ids["patient_p"]
    day = datetime(2024, 5, 1, 9, tzinfo=UTC)
    progress_service.finish_set(db, do_set(db, p, at=day))
    progress_service.finish_set(db, do_set(db, p, roms=[], at=day + timedelta(days=1)))
    do_set(db, p, at=day + timedelta(days=2))  # ended but never finished
    assert progress_service.days_practised(db, p) == (date(2024, 5, 1),)


def test_the_program_is_rebuilt_only_when_a_level_or_exercise_changes(
    db: Session, world: World
) -> None:
    patient = give_profile(db, world.ids["patient_p"])
    program = program_service.build_program(db, patient, by=None)
    progress_service.finish_set(db, do_set(db, patient.id))  # one good set: same level
    assert program_service.active_program(db, patient.id) is program
    progress_service.set_level(db, patient.id, "elbow_flexion", "left", 2, by=None, reason=None)
    events = progress_service.finish_set(
        db, do_set(db, patient.id, level=2, reached=0.25), update_program=False
    )
    assert "level_down" in [e.kind for e in events]
    assert program_service.active_program(db, patient.id) is program
    events = progress_service.finish_set(
        db, do_set(db, patient.id, reached=0.0), pain_reported=True
    )
    assert [e.kind for e in events if e.kind == "pain"] == ["pain"]
    assert program_service.active_program(db, patient.id) is not program


def test_ending_a_session_finishes_its_open_sets(db: Session, world: World) -> None:
    p = world.ids["patient_p"]
    exercise_set = do_set(db, p)
    exercise_session = exercise_set.session
    events = progress_service.finish_session(db, exercise_session)
    assert exercise_session.ended_at is not None and exercise_set.progressed_at is not None
    assert [e.kind for e in events] == ["set"] and events[0].set_id == exercise_set.id
    assert progress_service.finish_session(db, exercise_session) == []
    stored = db.scalars(select(ProgressEvent).where(ProgressEvent.patient_id == p)).all()
    assert len(stored) == 1


def test_a_set_of_an_exercise_no_longer_in_the_library_is_not_judged(
    db: Session, world: World
) -> None:
    p = world.ids["patient_p"]
    exercise_session = records.start_session(db, p)
    retired = records.start_set(
        db, exercise_session, exercise_id="retired", side="left", mode="active", level=1
    )
    records.add_repetitions(db, retired, [{"start_s": 0.0, "end_s": 2.0}])
    assert progress_service.finish_set(db, retired) == []
    assert retired.progressed_at is not None
    assert progress_service.set_judgement(db, retired) is None
