"""Patients and their clinical records through the API (web/routes/patients.py, clinical.py):
the summary a carer sees, the profile, assessments, add-on therapies and pain, each stored
under the patient of the address with its author, listed newest first.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.accounts.service import create_user
from openrehab.store.models import Assessment, AuditLog, Role, TherapyEvent
from support import Clinic, fresh_program

_numbers = itertools.count(1)


def _api(clinic: Clinic, client: TestClient, caller: str) -> Any:
    def send(method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = client.request(method, path, json=body, headers=clinic.world.headers(caller))
        assert response.status_code == status, response.text
        return response.json()

    return send


def test_a_patients_summary_counts_todays_reps_and_the_last_session(
    clinic: Clinic, clinic_client: TestClient, clinic_db: Session
) -> None:
    """Rule: the summary a carer sees names the patient, the affected side, the repetitions
    done today and when the last session started."""
    p = clinic.world.ids["patient_p"]
    fresh_program(clinic_db, p)  # affected side: left
    send = _api(clinic, clinic_client, "patient_p")
    before = send("GET", f"/api/patients/{p}")["reps_today"]
    session = send("POST", f"/api/patients/{p}/sessions", {}, 201)
    base = f"/api/patients/{p}/sessions/{session['id']}/sets"
    set_id = send("POST", base, {"exercise_id": "elbow_flexion", "side": "left"}, 201)["id"]
    reps = [{"start_s": 2.0 * i, "end_s": 2.0 * i + 1} for i in range(3)]
    send("POST", f"{base}/{set_id}/repetitions", {"repetitions": reps}, 201)
    summary = _api(clinic, clinic_client, "therapist_a")("GET", f"/api/patients/{p}")
    assert summary == {
        "id": p,
        "username": "patient-p",
        "display_name": "patient-p",
        "affected_side": "left",
        "reps_today": before + 3,
        "last_session_at": session["started_at"],
    }


def test_the_list_gives_each_patient_their_own_reps_and_last_session(
    clinic: Clinic, clinic_client: TestClient, clinic_db: Session
) -> None:
    """Rule: the list (counted for all patients at once) says for each patient what their own
    summary says; reps by one patient change only their row."""
    p, q = clinic.world.ids["patient_p"], clinic.world.ids["patient_q"]
    admin = _api(clinic, clinic_client, "admin")
    before = {row["id"]: row for row in admin("GET", "/api/patients")}
    send = _api(clinic, clinic_client, "patient_p")
    session = send("POST", f"/api/patients/{p}/sessions", {}, 201)
    base = f"/api/patients/{p}/sessions/{session['id']}/sets"
    set_id = send("POST", base, {"exercise_id": "elbow_flexion", "side": "left"}, 201)["id"]
    reps = [{"start_s": 2.0 * i, "end_s": 2.0 * i + 1} for i in range(4)]
    send("POST", f"{base}/{set_id}/repetitions", {"repetitions": reps}, 201)
    after = {row["id"]: row for row in admin("GET", "/api/patients")}
    assert after[p] == before[p] | {
        "reps_today": before[p]["reps_today"] + 4,
        "last_session_at": session["started_at"],
    }
    assert after[q] == before[q]
    for patient_id, row in after.items():
        assert admin("GET", f"/api/patients/{patient_id}") == row


def test_the_patient_list_is_in_name_order(
    clinic: Clinic, clinic_client: TestClient, clinic_db: Session
) -> None:
    """Rule: a carer's list of patients is sorted by name (not by when the account was made);
    a caregiver linked to nobody gets an empty list."""
    aaron = create_user(clinic_db, "aaron-first", "blue kettle under stairs", Role.patient, "Aaron")
    clinic_db.commit()
    listed = _api(clinic, clinic_client, "admin")("GET", "/api/patients")
    names = [row["display_name"] for row in listed]
    assert names == sorted(names) and names[0] == "Aaron" and listed[0]["id"] == aaron.id
    assert _api(clinic, clinic_client, "caregiver_d")("GET", "/api/patients") == []


def test_the_profile_keeps_the_equipment_only_when_given(
    clinic: Clinic, clinic_client: TestClient
) -> None:
    """Rule: equipment sent with the profile is stored; a profile sent without it goes back to
    the household defaults (None). Updates are audited."""
    p = clinic.world.ids["patient_p"]
    send = _api(clinic, clinic_client, "therapist_a")
    profile = {
        "affected_side": "right",
        "regions": {"elbow": {"mas": "1", "active_movement": True}},
        "can_sit_unsupported": True,
        "can_stand_safely": False,
        "pain_nrs": 2,
    }
    stored = send("PUT", f"/api/patients/{p}/profile", {**profile, "equipment": ["table"]})
    assert (stored["equipment"], stored["pain_nrs"], stored["complete"]) == (["table"], 2, True)
    assert send("GET", f"/api/patients/{p}/profile")["equipment"] == ["table"]
    assert send("PUT", f"/api/patients/{p}/profile", profile)["equipment"] is None


def test_an_assessment_is_stored_with_its_assessor_and_listed_newest_first(
    clinic: Clinic, clinic_client: TestClient, clinic_db: Session
) -> None:
    """Rule: an assessment is the patient's, with the therapist who made it and the values sent;
    it is audited; the list is newest first and ``limit`` long."""
    p, therapist = clinic.world.ids["patient_p"], clinic.world.ids["therapist_a"]
    send = _api(clinic, clinic_client, "therapist_a")
    url = f"/api/patients/{p}/assessments"
    start = datetime(2030, 1, 1, tzinfo=UTC)
    made = [
        send(
            "POST",
            url,
            {"kind": "tardieu", "region": "elbow", "side": "left", "r1_deg": 60 + i, "r2_deg": 120},
            201,
        )
        for i in range(3)
    ]
    for i, row in enumerate(made):  # measured a day apart, the last one first
        clinic_db.get_one(Assessment, row["id"]).measured_at = start - timedelta(days=i)
    clinic_db.commit()
    stored = clinic_db.get_one(Assessment, made[1]["id"])
    assert (stored.patient_id, stored.assessor_id, stored.r1_deg) == (p, therapist, 61)
    listed = send("GET", url + "?limit=2")
    assert [row["id"] for row in listed] == [made[0]["id"], made[1]["id"]]
    entry = clinic_db.scalars(
        select(AuditLog).where(
            AuditLog.action == "assessment.add", AuditLog.target_id == str(made[2]["id"])
        )
    ).one()
    assert (entry.user_id, entry.target_type) == (therapist, "assessment")


def test_a_therapy_event_is_stored_with_who_recorded_it(
    clinic: Clinic, clinic_client: TestClient, clinic_db: Session
) -> None:
    p, admin = clinic.world.ids["patient_q"], clinic.world.ids["admin"]
    send = _api(clinic, clinic_client, "admin")
    body = {"kind": "splint", "started_on": "2030-02-01", "details": {"joint": "wrist"}}
    body |= {"splint_name": "resting splint", "region": "wrist", "wear_hours_per_day": 8}
    made = send("POST", f"/api/patients/{p}/therapy-events", body, 201)
    stored = clinic_db.get_one(TherapyEvent, made["id"])
    assert (stored.patient_id, stored.recorded_by_id, stored.kind, stored.details) == (
        p,
        admin,
        "splint",
        {
            "joint": "wrist",
            "splint_name": "resting splint",
            "region": "wrist",
            "wear_hours_per_day": 8.0,
        },
    )
    listed = send("GET", f"/api/patients/{p}/therapy-events")
    assert made["id"] in [row["id"] for row in listed]


def test_pain_names_only_the_patients_own_session_and_is_audited_with_its_rating(
    clinic: Clinic, clinic_client: TestClient, clinic_db: Session
) -> None:
    """Rule: a pain report may name a session of its own patient (stored with it, audited with
    the rating); another patient's session, or none that exists, is refused with the reason."""
    p, q = clinic.world.ids["patient_p"], clinic.world.ids["patient_q"]
    send = _api(clinic, clinic_client, "caregiver_c")
    own = send("POST", f"/api/patients/{p}/sessions", {}, 201)["id"]
    others = _api(clinic, clinic_client, "patient_q")(
        "POST", f"/api/patients/{q}/sessions", {}, 201
    )
    url = f"/api/patients/{p}/pain-reports"
    made = send("POST", url, {"nrs": 7, "session_id": own}, 201)
    assert (made["patient_id"], made["session_id"], made["nrs"]) == (p, own, 7)
    entry = clinic_db.scalars(
        select(AuditLog).where(
            AuditLog.action == "pain.report", AuditLog.target_id == str(made["id"])
        )
    ).one()
    assert (entry.user_id, entry.target_type, entry.detail) == (
        clinic.world.ids["caregiver_c"],
        "pain_report",
        {"patient": p, "nrs": 7},
    )
    for session_id in (others["id"], 999999):
        refused = send("POST", url, {"nrs": 7, "session_id": session_id}, 422)
        assert refused["detail"][0]["msg"] == (
            f"Session {session_id} is not one of this patient's sessions."
        )
