"""Clinical records through the API: stored under the right patient, and every write audited.

A pain report decides whether a set counts as pain (NRS >= 4 holds the progression and tells
the therapist): filed under the wrong person it vanishes from the patient's chart. The audit
log answers "who changed this patient's record, and what" for the clinic and for the patient
(GDPR art. 30, and any clinical incident review), so a write it misses cannot be accounted for.

One clinic (app and database) for the module: each test measures what its request changed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openrehab.program.planner import MODERATE_PAIN_NRS
from openrehab.store.models import User
from support import (
    Clinic,
    audited_patient,
    fresh_program,
    store_changes,
    tardieu_body,
    write_routes,
)

PAIN_REPORTERS = ["patient_p", "caregiver_c", "therapist_a", "admin"]  # who may record for P


def _pain_url(clinic: Clinic) -> str:
    return f"/api/patients/{clinic.world.ids['patient_p']}/pain-reports"


@pytest.mark.parametrize("nrs", [0, MODERATE_PAIN_NRS - 1, MODERATE_PAIN_NRS, 10])
@pytest.mark.parametrize("reporter", PAIN_REPORTERS)
def test_pain_filed_for_a_patient_is_that_patients_record(
    reporter: str, nrs: int, clinic: Clinic, clinic_client: TestClient
) -> None:
    """Rule: pain filed for patient P, by P or by P's caregiver, therapist or an admin, is
    stored with patient_id P and the reporter as its author, and is in P's pain list."""
    world, p = clinic.world, clinic.world.ids["patient_p"]
    # The current pain is another value of the report's band, whatever ran before: the report
    # changes it, and the program (rule R8 acts on bands) is left as it is.
    with clinic.session() as db:
        profile_row = db.get_one(User, p).profile
        assert profile_row is not None
        profile_row.pain_nrs = nrs + 1 if nrs in (0, MODERATE_PAIN_NRS) else nrs - 1
        db.commit()
    before = clinic.snapshot()
    sent = {"nrs": nrs, "location": f"left elbow ({reporter})"}
    response = clinic_client.post(_pain_url(clinic), json=sent, headers=world.headers(reporter))
    assert response.status_code == 201, response.text
    changes = store_changes(before, clinic.snapshot())
    assert set(changes) == {"pain_reports", "patient_profiles", "audit_log"}
    assert [row["pain_nrs"] for row in changes["patient_profiles"].added] == [nrs], (
        "the report becomes the profile's current pain"
    )
    [row] = changes["pain_reports"].added
    stored = {key: row[key] for key in ("id", "patient_id", "reported_by_id", "nrs", "location")}
    assert stored == {
        "id": response.json()["id"],
        "patient_id": p,
        "reported_by_id": world.ids[reporter],
        **sent,
    }, "stored under the patient of the address, with the reporter as its author"
    listed = clinic_client.get(_pain_url(clinic), headers=world.headers("patient_p")).json()
    assert {"id": row["id"], "patient_id": p, "nrs": nrs} in [
        {key: item[key] for key in ("id", "patient_id", "nrs")} for item in listed
    ]


@pytest.mark.parametrize("nrs", [-1, 11])
def test_pain_outside_the_0_to_10_scale_is_refused_and_not_stored(
    nrs: int, clinic: Clinic, clinic_client: TestClient
) -> None:
    """Rule: the numeric rating scale is 0-10; -1 and 11 are refused (422) and store nothing,
    through the API and the page's pain buttons alike."""
    world = clinic.world
    before = clinic.snapshot()
    api = clinic_client.post(
        _pain_url(clinic), json={"nrs": nrs}, headers=world.headers("caregiver_c")
    )
    page = clinic_client.post(
        f"/patients/{world.ids['patient_p']}/pain",
        data={"nrs": str(nrs)},
        headers=world.headers("caregiver_c"),
    )
    assert (api.status_code, page.status_code) == (422, 422)
    assert store_changes(before, clinic.snapshot()) == {}


def test_pain_cannot_be_tied_to_another_patients_session(
    clinic: Clinic, clinic_client: TestClient, clinic_db: Session
) -> None:
    """Rule: a pain report names a session of its own patient only (else another patient's
    set would be judged painful); the mismatch is refused and nothing is stored."""
    world = clinic.world
    q = world.ids["patient_q"]
    others = clinic_client.post(
        f"/api/patients/{q}/sessions", json={}, headers=world.headers("patient_q")
    )
    before = clinic.snapshot()
    response = clinic_client.post(
        _pain_url(clinic),
        json={"nrs": 6, "session_id": others.json()["id"]},
        headers=world.headers("admin"),
    )
    assert response.status_code == 422
    assert store_changes(before, clinic.snapshot()) == {}


# --- every write about a patient is audited -------------------------------------------------
RECORDERS = ("patient_p", "caregiver_c", "therapist_a", "admin")
PRESCRIBERS = ("therapist_a", "admin")
_numbers = itertools.count(1)


@dataclass
class Writer:
    """Makes the records a write needs, as ``actor``, for patient_p."""

    clinic: Clinic
    client: TestClient
    db: Session
    actor: str

    @property
    def base(self) -> str:
        return f"/api/patients/{self.clinic.world.ids['patient_p']}"

    def post(self, path: str, body: dict[str, Any]) -> int:
        response = self.client.post(
            self.base + path, json=body, headers=self.clinic.world.headers(self.actor)
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def session(self) -> str:
        return f"/sessions/{self.post('/sessions', {})}"

    def set(self) -> str:
        session = self.session()
        body = {"exercise_id": "elbow_flexion", "side": "left"}
        return f"{session}/sets/{self.post(session + '/sets', body)}"

    def program(self) -> str:
        """A fresh program (and a complete profile): the program's address."""
        fresh_program(self.db, self.clinic.world.ids["patient_p"])
        return self.base + "/program"

    def item(self) -> str:
        """A fresh program: the address of its first item."""
        program = fresh_program(self.db, self.clinic.world.ids["patient_p"])
        return f"{self.base}/program/items/{program.items[0].id}"


Write = Callable[[Writer], tuple[str, str, dict[str, Any] | None]]
PROFILE = {
    "affected_side": "left",
    "regions": {"elbow": {"mas": "1+", "active_movement": True}},
    "can_sit_unsupported": True,
    "can_stand_safely": False,
}
# (method, path) -> (its audit action, who may do it, the request)
PATIENT_WRITES: dict[tuple[str, str], tuple[str, tuple[str, ...], Write]] = {
    ("POST", "/api/patients/{patient_id}/sessions"): (
        "session.start",
        RECORDERS,
        lambda w: ("POST", w.base + "/sessions", {"source": "manual"}),
    ),
    ("POST", "/api/patients/{patient_id}/sessions/{session_id}/end"): (
        "session.end",
        RECORDERS,
        lambda w: ("POST", w.base + w.session() + "/end", None),
    ),
    ("POST", "/api/patients/{patient_id}/sessions/{session_id}/sets"): (
        "set.start",
        RECORDERS,
        lambda w: (
            "POST",
            w.base + w.session() + "/sets",
            {"exercise_id": "elbow_extension", "side": "left"},
        ),
    ),
    ("POST", "/api/patients/{patient_id}/sessions/{session_id}/sets/{set_id}/end"): (
        "set.end",
        RECORDERS,
        lambda w: ("POST", w.base + w.set() + "/end", None),
    ),
    ("POST", "/api/patients/{patient_id}/sessions/{session_id}/sets/{set_id}/repetitions"): (
        "repetitions.add",
        RECORDERS,
        lambda w: (
            "POST",
            w.base + w.set() + "/repetitions",
            {"repetitions": [{"start_s": 0.0, "end_s": 2.0}]},
        ),
    ),
    ("POST", "/api/patients/{patient_id}/pain-reports"): (
        "pain.report",
        RECORDERS,
        lambda w: ("POST", w.base + "/pain-reports", {"nrs": next(_numbers) % 11}),
    ),
    ("POST", "/api/patients/{patient_id}/assessments"): (
        "assessment.add",
        PRESCRIBERS,
        lambda w: (
            "POST",
            w.base + "/assessments",
            {"kind": "tardieu", "region": "elbow", "side": "left", "r1_deg": 70, "r2_deg": 120},
        ),
    ),
    ("POST", "/api/patients/{patient_id}/tardieu"): (
        "assessment.add",
        RECORDERS,
        lambda w: ("POST", w.base + "/tardieu", tardieu_body()),
    ),
    ("POST", "/api/patients/{patient_id}/therapy-events"): (
        "therapy.add",
        PRESCRIBERS,
        lambda w: (
            "POST",
            w.base + "/therapy-events",
            {"kind": "botulinum_toxin", "started_on": "2026-11-01"}
            | {"muscles": ["soleus"], "units": 100},
        ),
    ),
    ("POST", "/api/patients/{patient_id}/pain-reports/{report_id}/undo"): (
        "pain.withdraw",
        RECORDERS,
        lambda w: (
            "POST",
            w.base + f"/pain-reports/{w.post('/pain-reports', {'nrs': 3})}/undo",
            None,
        ),
    ),
    ("POST", "/api/patients/{patient_id}/symptom-reports"): (
        "symptoms.report",
        RECORDERS,
        lambda w: (
            "POST",
            w.base + "/symptom-reports",
            {"about": "botulinum_toxin", "symptoms": ["speaking"]},
        ),
    ),
    ("PUT", "/api/patients/{patient_id}/profile"): (
        "profile.update",
        PRESCRIBERS,
        lambda w: ("PUT", w.base + "/profile", PROFILE),
    ),
    ("POST", "/api/patients/{patient_id}/program"): (
        "program.build",
        PRESCRIBERS,
        lambda w: (
            "POST",
            w.program(),
            {"daily_rep_target": 200 + next(_numbers)},
        ),
    ),
    ("PATCH", "/api/patients/{patient_id}/program/items/{item_id}"): (
        "program.item.change",
        PRESCRIBERS,
        lambda w: ("PATCH", w.item(), {"sets": 3, "reason": "tired"}),
    ),
    ("DELETE", "/api/patients/{patient_id}/program/items/{item_id}"): (
        "program.item.remove",
        PRESCRIBERS,
        lambda w: ("DELETE", w.item() + "?reason=sore", None),
    ),
    ("POST", "/api/patients/{patient_id}/program/items"): (
        "program.item.add",
        PRESCRIBERS,
        lambda w: (
            "POST",
            w.program() + "/items",
            {"exercise_id": "toe_curls", "reason": "foot cramps"},
        ),
    ),
}
CASES = [(op, actor) for op, (_, actors, _) in PATIENT_WRITES.items() for actor in actors]


def test_the_audit_table_lists_every_write_about_a_patient(clinic: Clinic) -> None:
    writes = {op for op in write_routes(clinic.app) if op[1].startswith("/api/patients/")}
    assert writes == set(PATIENT_WRITES), "add new patient writes to PATIENT_WRITES"


@pytest.mark.parametrize(("operation", "actor"), CASES, ids=[f"{m} {p} {a}" for (m, p), a in CASES])
def test_every_write_about_a_patient_is_audited_with_actor_patient_and_action(
    operation: tuple[str, str],
    actor: str,
    clinic: Clinic,
    clinic_client: TestClient,
    clinic_db: Session,
) -> None:
    """Rule: each clinical write (sessions, sets, repetitions, pain, assessments, therapies,
    profile, program) leaves exactly one audit entry naming who did it, the action, and a
    record of the patient it was about."""
    action, _, write = PATIENT_WRITES[operation]
    method, url, body = write(Writer(clinic, clinic_client, clinic_db, actor))
    before = clinic.snapshot()
    response = clinic_client.request(method, url, json=body, headers=clinic.world.headers(actor))
    assert response.status_code in (200, 201), response.text
    changes = store_changes(before, clinic.snapshot())
    entries = changes["audit_log"].added if "audit_log" in changes else []
    clinic_db.expire_all()
    named = [(e["user_id"], e["action"], audited_patient(clinic_db, e)) for e in entries]
    assert named == [(clinic.world.ids[actor], action, clinic.world.ids["patient_p"])]
