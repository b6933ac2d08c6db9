"""The exercise records API (web/routes/records.py): sessions, sets and repetitions are stored
under the patient of the address, only reachable through it, and every write is audited with
what it did. A record reached through another patient's address would mix two health records.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.store.models import AuditLog, ExerciseSession, ExerciseSet, Repetition
from support import Clinic, last_audit

REPS = [
    {"start_s": 3.0 * i, "end_s": 3.0 * i + 2, "rom": 70.0, "rom_unit": "deg"} for i in range(8)
]


class Api:
    """Requests of one caller about one patient of the module's clinic."""

    def __init__(self, clinic: Clinic, client: TestClient, caller: str, patient: str) -> None:
        self.client, self.headers = client, clinic.world.headers(caller)
        self.base = f"/api/patients/{clinic.world.ids[patient]}/sessions"

    def send(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = self.client.request(method, self.base + path, json=body, headers=self.headers)
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    def session(self, **body: Any) -> int:
        return int(self.send("POST", "", body, 201)["id"])

    def set(self, session_id: int, exercise_id: str = "elbow_flexion") -> int:
        body = {"exercise_id": exercise_id, "side": "left"}
        return int(self.send("POST", f"/{session_id}/sets", body, 201)["id"])


def test_a_session_is_stored_for_the_patient_of_the_address(
    clinic: Clinic, clinic_client: TestClient, clinic_db: Session
) -> None:
    """Rule: a session started by a carer is the patient's, with the source and notes sent;
    it is audited as "session.start" by the carer; the list is newest first, ``limit`` long."""
    api = Api(clinic, clinic_client, "caregiver_c", "patient_p")
    ids = [api.session(source="imu", notes=f"note {i}") for i in range(3)]
    stored = clinic_db.get_one(ExerciseSession, ids[-1])
    assert (stored.patient_id, stored.source, stored.notes) == (
        clinic.world.ids["patient_p"],
        "imu",
        "note 2",
    )
    assert last_audit(clinic_db, "session.start") == (
        clinic.world.ids["caregiver_c"],
        "session",
        str(ids[-1]),
        {},
    )
    listed = api.send("GET", "?limit=2")
    assert [row["id"] for row in listed] == [ids[2], ids[1]]
    assert api.send("GET", f"/{ids[0]}")["notes"] == "note 0"


def test_records_of_another_patient_are_not_found_through_ones_own_address(
    clinic: Clinic, clinic_client: TestClient
) -> None:
    """Rule: a session or set is only reachable under its own patient and session: through
    another address it is a 404 naming what was not found there (and nothing is changed)."""
    own = Api(clinic, clinic_client, "patient_p", "patient_p")
    session_id = own.session()
    set_id = own.set(session_id)
    other = Api(clinic, clinic_client, "patient_q", "patient_q")
    other_session = other.session()
    for method, path in [
        ("GET", f"/{session_id}"),
        ("GET", f"/{session_id}/sets"),
        ("POST", f"/{session_id}/end"),
        ("POST", f"/{session_id}/sets/{set_id}/end"),
    ]:
        missing = other.send(method, path, status=404)
        assert missing == {"detail": f"No session {session_id} here."}
    for method, path in [
        ("GET", f"/{other_session}/sets/{set_id}/repetitions"),
        ("POST", f"/{other_session}/sets/{set_id}/end"),
    ]:
        missing = other.send(method, path, status=404)
        assert missing == {"detail": f"No set {set_id} in this session."}
    assert own.send("GET", f"/{session_id}")["ended_at"] is None


def test_sets_count_their_repetitions_and_are_audited_with_the_exercise(
    clinic: Clinic, clinic_client: TestClient, clinic_db: Session
) -> None:
    """Rule: a new set starts with 0 repetitions and is audited with its exercise; added
    repetitions are stored on the set, audited with their number, and counted per set in the
    session's list of sets."""
    api = Api(clinic, clinic_client, "patient_p", "patient_p")
    session_id = api.session()
    first, second = api.set(session_id), api.set(session_id, "elbow_extension")
    assert api.send("GET", f"/{session_id}/sets")[0]["rep_count"] == 0
    assert last_audit(clinic_db, "set.start")[2:] == (str(second), {"exercise": "elbow_extension"})
    added = api.send("POST", f"/{session_id}/sets/{first}/repetitions", {"repetitions": REPS}, 201)
    assert [rep["index"] for rep in added] == list(range(8))
    stored = clinic_db.scalars(
        select(Repetition.set_id).where(Repetition.id.in_([r["id"] for r in added]))
    )
    assert set(stored) == {first}
    assert last_audit(clinic_db, "repetitions.add")[1:] == ("set", str(first), {"count": 8})
    listed = api.send("GET", f"/{session_id}/sets")
    assert [(row["id"], row["rep_count"]) for row in listed] == [(first, 8), (second, 0)]
    assert len(api.send("GET", f"/{session_id}/sets/{first}/repetitions")) == 8


def test_ended_sets_and_sessions_take_nothing_more(
    clinic: Clinic, clinic_client: TestClient, clinic_db: Session
) -> None:
    """Rule: repetitions for an ended set and sets for an ended session are refused (409, with
    what to do instead) and not stored."""
    api = Api(clinic, clinic_client, "patient_p", "patient_p")
    session_id = api.session()
    set_id = api.set(session_id)
    ended = api.send("POST", f"/{session_id}/sets/{set_id}/end")
    assert ended["ended_at"] and ended["rep_count"] == 0
    late = api.send("POST", f"/{session_id}/sets/{set_id}/repetitions", {"repetitions": REPS}, 409)
    assert late == {"detail": f"Set {set_id} has ended; start a new set."}
    assert clinic_db.scalars(select(Repetition).where(Repetition.set_id == set_id)).all() == []
    # Nor audited as added (the audit entry is written first, and undone with the refusal).
    audited = select(AuditLog).where(
        AuditLog.action == "repetitions.add", AuditLog.target_id == str(set_id)
    )
    assert clinic_db.scalars(audited).all() == []
    api.send("POST", f"/{session_id}/end")
    body = {"exercise_id": "elbow_flexion", "side": "left"}
    refused = api.send("POST", f"/{session_id}/sets", body, 409)
    assert refused == {"detail": f"Session {session_id} has ended; start a new session."}
    assert (
        len(
            clinic_db.scalars(select(ExerciseSet).where(ExerciseSet.session_id == session_id)).all()
        )
        == 1
    )


@pytest.mark.parametrize("pain", [False, True])
def test_ending_a_set_reports_its_result_and_pain(
    pain: bool, clinic: Clinic, clinic_client: TestClient, clinic_db: Session
) -> None:
    """Rule: ending a set judges it against its level and returns the events, audited with
    their number; a set that hurt ("pain_reported") is stored as such and gives a pain event
    (the therapist is told), a set without it gives none."""
    api = Api(clinic, clinic_client, "patient_p", "patient_p")
    session_id = api.session()
    set_id = api.set(session_id)
    api.send("POST", f"/{session_id}/sets/{set_id}/repetitions", {"repetitions": REPS}, 201)
    ended = api.send("POST", f"/{session_id}/sets/{set_id}/end", {"pain_reported": pain})
    assert ended["result"]["reps_reached"] == 8 and ended["rep_count"] == 8
    kinds = [event["kind"] for event in ended["events"]]
    assert ("pain" in kinds) == pain
    clinic_db.expire_all()
    assert clinic_db.get_one(ExerciseSet, set_id).pain_reported == pain
    assert last_audit(clinic_db, "set.end")[1:] == ("set", str(set_id), {"events": len(kinds)})


def test_ending_a_session_ends_its_open_sets_and_is_audited_with_their_events(
    clinic: Clinic, clinic_client: TestClient, clinic_db: Session
) -> None:
    api = Api(clinic, clinic_client, "patient_p", "patient_p")
    session_id = api.session()
    set_id = api.set(session_id)
    api.send("POST", f"/{session_id}/sets/{set_id}/repetitions", {"repetitions": REPS}, 201)
    ended = api.send("POST", f"/{session_id}/end")
    assert ended["ended_at"] and {e["set_id"] for e in ended["events"]} == {set_id}
    assert last_audit(clinic_db, "session.end")[1:] == (
        "session",
        str(session_id),
        {"events": len(ended["events"])},
    )
