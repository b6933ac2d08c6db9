"""The safety engine in a live session (care.safety): standing-only exercises need "can stand
safely" (rule S4) and a passive or slow stretch moved too fast is told "slower" (rule S3)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from live_support import exchange, frame_batches, of_type, start_msg, stream
from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.store.models import ExerciseSet, PainReport, PatientProfile, utc_now
from support import World


def _url(world: World) -> str:
    return f"/api/patients/{world.ids['patient_p']}/live"


def _can_stand(db: Session, world: World, safe: bool) -> None:
    profile = db.scalars(
        select(PatientProfile).where(PatientProfile.user_id == world.ids["patient_p"])
    ).one()
    profile.can_stand_safely = safe
    db.commit()


def test_a_standing_only_exercise_needs_standing_judged_safe(
    client: TestClient, world: World, db: Session
) -> None:
    """Rule S4: mini squats are refused (not_safe, nothing stored) until the profile says the
    person can stand safely; then the same start opens a set."""
    start = start_msg("mini_squat", side="both", source="tap")
    _can_stand(db, world, False)
    with client.websocket_connect(_url(world), headers=world.headers("patient_p")) as ws:
        [refused] = exchange(ws, [start])
    assert refused["type"] == "error" and refused["code"] == "not_safe"
    assert "standing" in refused["message"]
    assert db.scalars(select(ExerciseSet)).all() == []
    _can_stand(db, world, True)
    with client.websocket_connect(_url(world), headers=world.headers("patient_p")) as ws:
        [ready] = exchange(ws, [start])
    assert ready["type"] == "ready" and ready["set_id"] > 0


def test_a_sitting_exercise_is_not_limited_by_standing(
    client: TestClient, world: World, db: Session
) -> None:
    _can_stand(db, world, False)
    with client.websocket_connect(_url(world), headers=world.headers("patient_p")) as ws:
        [ready] = exchange(ws, [start_msg("elbow_flexion", source="tap")])
    assert ready["type"] == "ready"


def test_no_set_starts_on_a_day_closed_by_pain_of_7(
    client: TestClient, world: World, db: Session
) -> None:
    """Rule S5: a page opened before the pain score cannot start a new set after it (resting,
    nothing stored), but the set that was open can be resumed (to end it, or to save a
    reconnecting page's reps); a later score of 3 that day opens the day again."""
    patient_id = world.ids["patient_p"]
    start = start_msg("elbow_flexion", source="tap")
    with client.websocket_connect(_url(world), headers=world.headers("patient_p")) as ws:
        [opened] = exchange(ws, [start])
    db.add(PainReport(patient_id=patient_id, nrs=7, reported_at=utc_now() - timedelta(seconds=1)))
    db.commit()
    with client.websocket_connect(_url(world), headers=world.headers("patient_p")) as ws:
        [refused] = exchange(ws, [start])
    assert refused["type"] == "error" and refused["code"] == "resting"
    assert "rest today" in refused["message"]
    assert [s.id for s in db.scalars(select(ExerciseSet))] == [opened["set_id"]]
    with client.websocket_connect(_url(world), headers=world.headers("patient_p")) as ws:
        [resumed] = exchange(ws, [{**start, "set_id": opened["set_id"]}])
    assert resumed["type"] == "ready" and resumed["set_id"] == opened["set_id"]
    db.add(PainReport(patient_id=patient_id, nrs=3, reported_at=utc_now()))
    db.commit()
    with client.websocket_connect(_url(world), headers=world.headers("patient_p")) as ws:
        [ready] = exchange(ws, [start])
    assert ready["type"] == "ready" and ready["set_id"] > opened["set_id"]


def test_a_passive_stretch_moved_too_fast_says_slower(client: TestClient, world: World) -> None:
    """Rule S3 covers passive movement as well as stretching: the carer moving the limb three
    times faster than the stretch's limit is told "slower" each time."""
    frames = stream("elbow_flexor_slow_stretch", reps=3)
    for frame in frames:
        frame["t"] /= 3
    start = start_msg("elbow_flexor_slow_stretch", mode="passive", fps=90)
    with client.websocket_connect(_url(world), headers=world.headers("patient_p")) as ws:
        exchange(ws, [start])
        events = exchange(ws, frame_batches(frames))
    slower = of_type(events, "slower")
    assert len(slower) == 3 and all(e["velocity_deg_s"] > 15.0 for e in slower)
