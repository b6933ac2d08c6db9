"""The whole authorisation matrix: every API route x every kind of caller.

Target patient is ``patient_p``: linked to therapist_a and caregiver_c. The test fails if a
route is added to the API without an entry here, so no route escapes the access rules.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openrehab.accounts.service import create_user
from openrehab.store import records
from openrehab.store.models import CareLink, LinkKind, PainReport, Role
from support import (
    WORLD_USERS,
    World,
    audited,
    fresh_program,
    records_changed,
    store_changes,
    store_snapshot,
    tardieu_body,
)

CALLERS = [None, *WORLD_USERS]  # None = anonymous
EVERYONE = set(WORLD_USERS)
SEES_P = {"admin", "therapist_a", "caregiver_c", "patient_p"}
PRESCRIBES_P = {"admin", "therapist_a"}
_counter = itertools.count()


@dataclass
class Ctx:
    world: World
    db: Session

    @property
    def p(self) -> int:
        return self.world.ids["patient_p"]

    def new_session(self) -> int:
        exercise_session = records.start_session(self.db, self.p)
        self.db.commit()
        return exercise_session.id

    def new_set(self) -> tuple[int, int]:
        exercise_session = records.start_session(self.db, self.p)
        exercise_set = records.start_set(
            self.db, exercise_session, exercise_id="elbow_flexion", side="left", mode="active"
        )
        self.db.commit()
        return exercise_session.id, exercise_set.id

    def new_caregiver_link(self) -> int:
        carer = create_user(self.db, f"carer-{next(_counter)}", "password-x-quartz", Role.caregiver)
        link = CareLink(patient_id=self.p, carer_id=carer.id, kind=LinkKind.caregiver)
        self.db.add(link)
        self.db.commit()
        return link.id

    def fresh_program(self) -> int:
        """A complete profile and a newly built program for patient_p; returns its first item."""
        return int(fresh_program(self.db, self.p).items[0].id)

    def new_pain(self) -> int:
        """A pain report tapped by patient_p just now (undoable by them for a minute)."""
        report = PainReport(patient_id=self.p, reported_by_id=self.p, nrs=2)
        self.db.add(report)
        self.db.commit()
        return report.id

    def new_caregiver(self) -> int:
        carer = create_user(self.db, f"carer-{next(_counter)}", "password-x-quartz", Role.caregiver)
        self.db.commit()
        return carer.id


Request = Callable[[Ctx], tuple[str, str, dict[str, Any] | None]]
P = "/api/patients/{p}"
REP = {"start_s": 0.0, "end_s": 2.0, "peak_s": 1.0, "rom": 80.0, "rom_unit": "deg", "sparc": -1.6}


def _sess(ctx: Ctx) -> str:
    return f"/api/patients/{ctx.p}/sessions/{ctx.new_session()}"


def _program(ctx: Ctx) -> str:
    ctx.fresh_program()
    return f"/api/patients/{ctx.p}/program"


def _set(ctx: Ctx) -> str:
    session_id, set_id = ctx.new_set()
    return f"/api/patients/{ctx.p}/sessions/{session_id}/sets/{set_id}"


# (method, OpenAPI path) -> (who succeeds, success status, request factory)
MATRIX: dict[tuple[str, str], tuple[set[str], int, Request]] = {
    ("POST", "/api/auth/logout"): (EVERYONE, 204, lambda c: ("POST", "/api/auth/logout", None)),
    ("POST", "/api/auth/logout-everywhere"): (
        EVERYONE,
        204,
        lambda c: ("POST", "/api/auth/logout-everywhere", None),
    ),
    ("GET", "/api/me"): (EVERYONE, 200, lambda c: ("GET", "/api/me", None)),
    ("GET", "/api/patients"): (EVERYONE, 200, lambda c: ("GET", "/api/patients", None)),
    ("GET", P.replace("{p}", "{patient_id}")): (
        SEES_P,
        200,
        lambda c: ("GET", f"/api/patients/{c.p}", None),
    ),
    ("GET", "/api/patients/{patient_id}/profile"): (
        SEES_P,
        200,
        lambda c: ("GET", f"/api/patients/{c.p}/profile", None),
    ),
    ("PUT", "/api/patients/{patient_id}/profile"): (
        PRESCRIBES_P,
        200,
        lambda c: (
            "PUT",
            f"/api/patients/{c.p}/profile",
            {
                "affected_side": "right",
                "regions": {"elbow": {"mas": "2", "active_movement": True}},
                "can_sit_unsupported": True,
                "can_stand_safely": False,
            },
        ),
    ),
    ("GET", "/api/patients/{patient_id}/sessions"): (
        SEES_P,
        200,
        lambda c: ("GET", f"/api/patients/{c.p}/sessions", None),
    ),
    ("POST", "/api/patients/{patient_id}/sessions"): (
        SEES_P,
        201,
        lambda c: ("POST", f"/api/patients/{c.p}/sessions", {"source": "imu"}),
    ),
    ("GET", "/api/patients/{patient_id}/sessions/{session_id}"): (
        SEES_P,
        200,
        lambda c: ("GET", _sess(c), None),
    ),
    ("POST", "/api/patients/{patient_id}/sessions/{session_id}/end"): (
        SEES_P,
        200,
        lambda c: ("POST", _sess(c) + "/end", None),
    ),
    ("GET", "/api/patients/{patient_id}/sessions/{session_id}/sets"): (
        SEES_P,
        200,
        lambda c: ("GET", _sess(c) + "/sets", None),
    ),
    ("POST", "/api/patients/{patient_id}/sessions/{session_id}/sets"): (
        SEES_P,
        201,
        lambda c: ("POST", _sess(c) + "/sets", {"exercise_id": "elbow_flexion", "side": "left"}),
    ),
    ("POST", "/api/patients/{patient_id}/sessions/{session_id}/sets/{set_id}/end"): (
        SEES_P,
        200,
        lambda c: ("POST", _set(c) + "/end", None),
    ),
    ("GET", "/api/patients/{patient_id}/sessions/{session_id}/sets/{set_id}/repetitions"): (
        SEES_P,
        200,
        lambda c: ("GET", _set(c) + "/repetitions", None),
    ),
    ("POST", "/api/patients/{patient_id}/sessions/{session_id}/sets/{set_id}/repetitions"): (
        SEES_P,
        201,
        lambda c: ("POST", _set(c) + "/repetitions", {"repetitions": [REP]}),
    ),
    ("GET", "/api/patients/{patient_id}/assessments"): (
        SEES_P,
        200,
        lambda c: ("GET", f"/api/patients/{c.p}/assessments", None),
    ),
    ("POST", "/api/patients/{patient_id}/assessments"): (
        PRESCRIBES_P,
        201,
        lambda c: (
            "POST",
            f"/api/patients/{c.p}/assessments",
            {"kind": "mas", "region": "elbow", "side": "left", "value": "1+"},
        ),
    ),
    ("POST", "/api/patients/{patient_id}/tardieu"): (
        SEES_P,  # a measurement, recorded like pain: the caregiver measures at home
        201,
        lambda c: ("POST", f"/api/patients/{c.p}/tardieu", tardieu_body()),
    ),
    ("GET", "/api/patients/{patient_id}/therapy-events"): (
        SEES_P,
        200,
        lambda c: ("GET", f"/api/patients/{c.p}/therapy-events", None),
    ),
    ("POST", "/api/patients/{patient_id}/therapy-events"): (
        PRESCRIBES_P,
        201,
        lambda c: (
            "POST",
            f"/api/patients/{c.p}/therapy-events",
            {"kind": "botulinum_toxin", "started_on": "2026-11-01", "muscles": ["soleus"]}
            | {"units": 100},
        ),
    ),
    ("GET", "/api/patients/{patient_id}/pain-reports"): (
        SEES_P,
        200,
        lambda c: ("GET", f"/api/patients/{c.p}/pain-reports", None),
    ),
    ("POST", "/api/patients/{patient_id}/pain-reports"): (
        SEES_P,
        201,
        lambda c: ("POST", f"/api/patients/{c.p}/pain-reports", {"nrs": 3}),
    ),
    ("POST", "/api/patients/{patient_id}/pain-reports/{report_id}/undo"): (
        {"patient_p"},  # only whoever tapped it (here the patient)
        200,
        lambda c: ("POST", f"/api/patients/{c.p}/pain-reports/{c.new_pain()}/undo", None),
    ),
    ("GET", "/api/patients/{patient_id}/symptom-reports"): (
        SEES_P,
        200,
        lambda c: ("GET", f"/api/patients/{c.p}/symptom-reports", None),
    ),
    ("POST", "/api/patients/{patient_id}/symptom-reports"): (
        SEES_P,
        201,
        lambda c: (
            "POST",
            f"/api/patients/{c.p}/symptom-reports",
            {"about": "botulinum_toxin", "symptoms": ["speaking"]},
        ),
    ),
    ("GET", "/api/patients/{patient_id}/alerts"): (
        SEES_P,
        200,
        lambda c: ("GET", f"/api/patients/{c.p}/alerts", None),
    ),
    ("GET", "/api/alerts"): (EVERYONE, 200, lambda c: ("GET", "/api/alerts", None)),
    ("GET", "/api/patients/{patient_id}/links"): (
        SEES_P,
        200,
        lambda c: ("GET", f"/api/patients/{c.p}/links", None),
    ),
    ("GET", "/api/patients/{patient_id}/program"): (
        SEES_P,
        200,
        lambda c: ("GET", _program(c), None),
    ),
    ("POST", "/api/patients/{patient_id}/program"): (
        PRESCRIBES_P,
        201,
        lambda c: ("POST", _program(c), {"daily_rep_target": 200}),
    ),
    ("PATCH", "/api/patients/{patient_id}/program/items/{item_id}"): (
        PRESCRIBES_P,
        200,
        lambda c: (
            "PATCH",
            f"/api/patients/{c.p}/program/items/{c.fresh_program()}",
            {"sets": 3, "reason": "tired today"},
        ),
    ),
    ("DELETE", "/api/patients/{patient_id}/program/items/{item_id}"): (
        PRESCRIBES_P,
        200,
        lambda c: (
            "DELETE",
            f"/api/patients/{c.p}/program/items/{c.fresh_program()}?reason=sore",
            None,
        ),
    ),
    ("POST", "/api/patients/{patient_id}/program/items"): (
        PRESCRIBES_P,
        201,
        lambda c: (
            "POST",
            _program(c) + "/items",
            {"exercise_id": "toe_curls", "reason": "foot cramps"},
        ),
    ),
    ("GET", "/api/patients/{patient_id}/progress"): (
        SEES_P,
        200,
        lambda c: ("GET", f"/api/patients/{c.p}/progress", None),
    ),
    ("GET", "/api/exercises"): (EVERYONE, 200, lambda c: ("GET", "/api/exercises", None)),
    ("GET", "/api/exercises/{exercise_id}"): (
        EVERYONE,
        200,
        lambda c: ("GET", "/api/exercises/elbow_extension", None),
    ),
    ("GET", "/api/exercises/{exercise_id}/diagram.svg"): (
        EVERYONE,
        200,
        lambda c: ("GET", "/api/exercises/elbow_extension/diagram.svg", None),
    ),
    ("GET", "/api/live/demo/{exercise_id}"): (
        EVERYONE,
        200,
        lambda c: ("GET", "/api/live/demo/elbow_flexion", None),
    ),
    # The live WebSocket is not an OpenAPI route: tests/live/test_socket.py covers its access.
    ("GET", "/api/users"): ({"admin"}, 200, lambda c: ("GET", "/api/users", None)),
    ("POST", "/api/users"): (
        {"admin", "therapist_a", "therapist_b"},
        201,
        lambda c: (
            "POST",
            "/api/users",
            {
                "username": f"new-{next(_counter)}",
                "password": "long-enough-quartz",
                "role": "patient",
            },
        ),
    ),
    ("POST", "/api/links"): (
        PRESCRIBES_P,
        201,
        lambda c: ("POST", "/api/links", {"patient_id": c.p, "carer_id": c.new_caregiver()}),
    ),
    ("DELETE", "/api/links/{link_id}"): (
        PRESCRIBES_P,
        204,
        lambda c: ("DELETE", f"/api/links/{c.new_caregiver_link()}", None),
    ),
}
PUBLIC = {("POST", "/api/auth/token")}


def test_matrix_covers_every_api_route(client: TestClient, world: World) -> None:
    spec = client.get("/openapi.json", headers=world.headers("admin")).json()
    operations = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        if path.startswith("/api/")
        for method in item
    }
    assert operations - PUBLIC == set(MATRIX), "add new API routes to the access matrix"


@pytest.mark.parametrize("operation", sorted(MATRIX), ids=lambda op: f"{op[0]} {op[1]}")
def test_access_matrix(
    operation: tuple[str, str], client: TestClient, world: World, db: Session
) -> None:
    """Every caller gets the answer the rules give; a refusal (401, 403) stores nothing and
    is audited once, with who asked."""
    allowed, success_status, make_request = MATRIX[operation]
    ctx = Ctx(world, db)
    engine = db.get_bind()
    outcomes, refusals = {}, {}
    for caller in CALLERS:
        method, url, body = make_request(ctx)
        before = store_snapshot(engine)
        response = client.request(method, url, json=body, headers=world.headers(caller))
        outcomes[caller] = response.status_code
        if response.status_code in (401, 403):
            changes = store_changes(before, store_snapshot(engine))
            refusals[caller] = (records_changed(changes), audited(changes))
    expected = {
        caller: 401 if caller is None else (success_status if caller in allowed else 403)
        for caller in CALLERS
    }
    assert outcomes == expected
    assert refusals == {
        caller: ({}, [(world.ids.get(caller or ""), "access.refused")])
        for caller in CALLERS
        if expected[caller] in (401, 403)
    }


@pytest.mark.parametrize("caller", ["therapist_a", "caregiver_c", "patient_q"])
def test_unknown_patient_is_forbidden_not_revealed(
    caller: str, client: TestClient, world: World
) -> None:
    response = client.get("/api/patients/999999/sessions", headers=world.headers(caller))
    assert response.status_code == 403


def test_admin_gets_404_for_unknown_patient(client: TestClient, world: World) -> None:
    response = client.get("/api/patients/999999", headers=world.headers("admin"))
    assert response.status_code == 404


def test_nested_records_of_another_patient_are_not_reachable(
    client: TestClient, world: World, db: Session
) -> None:
    # therapist_b may read patient_q, but not patient_p's session through patient_q's URL.
    session_id = Ctx(world, db).new_session()
    url = f"/api/patients/{world.ids['patient_q']}/sessions/{session_id}"
    assert client.get(url, headers=world.headers("therapist_b")).status_code == 404


@pytest.mark.parametrize(
    ("caller", "visible"),
    [
        ("patient_p", {"patient_p"}),
        ("caregiver_c", {"patient_p"}),
        ("caregiver_d", set()),
        ("therapist_a", {"patient_p"}),
        ("therapist_b", {"patient_q"}),
        ("admin", {"patient_p", "patient_q"}),
    ],
)
def test_patient_list_shows_only_visible_patients(
    caller: str, visible: set[str], client: TestClient, world: World
) -> None:
    listed = {
        row["id"] for row in client.get("/api/patients", headers=world.headers(caller)).json()
    }
    assert listed == {world.ids[name] for name in visible}


def test_denials_are_audited(client: TestClient, world: World, db: Session) -> None:
    from sqlalchemy import select

    from openrehab.store.models import AuditLog

    client.get(
        f"/api/patients/{world.ids['patient_p']}/sessions", headers=world.headers("therapist_b")
    )
    actions = db.scalars(
        select(AuditLog.action).where(AuditLog.user_id == world.ids["therapist_b"])
    )
    assert "access.refused" in list(actions)
