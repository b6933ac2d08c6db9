"""The live routes besides the socket (web/routes/live.py): the demo landmark stream and the
``openrehab demo`` entry, which logs a browser in as the demo patient."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.accounts.service import user_for_token
from openrehab.exercises.library import load_library
from openrehab.live.demo_stream import demo_available
from openrehab.services import program as program_service
from openrehab.store.models import AuthToken
from openrehab.web.deps import COOKIE_NAME
from support import Clinic, fresh_program


def test_the_demo_stream_names_what_it_cannot_play(
    clinic: Clinic, clinic_client: TestClient
) -> None:
    """Rule: an unknown exercise is a 404 naming it; a side other than left or right is a 422
    saying which sides there are."""
    headers = clinic.world.headers("patient_p")
    missing = clinic_client.get("/api/live/demo/juggling", headers=headers)
    assert (missing.status_code, missing.json()) == (404, {"detail": "No exercise 'juggling'."})
    up = clinic_client.get("/api/live/demo/elbow_flexion?side=up", headers=headers)
    assert up.status_code == 422 and up.json()["detail"][0]["msg"] == "side: left or right"
    left = clinic_client.get("/api/live/demo/elbow_flexion?side=left", headers=headers)
    assert left.status_code == 200 and left.json()["frames"]


@pytest.fixture
def demo_login(clinic: Clinic) -> Iterator[str]:
    """The clinic runs as ``openrehab demo`` with patient_p as the demo patient."""
    clinic.app.state.demo_login = "patient-p"
    yield "patient-p"
    del clinic.app.state.demo_login


def test_the_demo_entry_logs_in_as_the_demo_patient_at_their_first_item(
    demo_login: str, clinic: Clinic, clinic_client: TestClient, clinic_db: Session
) -> None:
    """Rule: /demo logs the browser in as the demo patient (a new cookie login of that patient)
    and opens a simulated session of the first program item that has a demo."""
    p = clinic.world.ids["patient_p"]
    fresh_program(clinic_db, p)
    program = program_service.active_program(clinic_db, p)
    assert program is not None
    library = load_library()
    first = next(i for i in program.items if demo_available(library.get(i.exercise_id)))
    response = clinic_client.get("/demo")
    assert response.status_code == 303
    assert response.headers["location"] == f"/patients/{p}/session?item={first.id}&demo=1"
    secret = response.cookies[COOKIE_NAME]
    user = user_for_token(clinic_db, secret)
    assert user is not None and user.id == p
    kinds = clinic_db.scalars(select(AuthToken.kind).where(AuthToken.user_id == p))
    assert "cookie" in set(kinds)


def test_the_demo_entry_needs_a_demo_patient_with_a_program(
    clinic: Clinic, clinic_client: TestClient
) -> None:
    """Rule: /demo is a 404 in a normal server, for a demo login that does not exist, and for a
    demo patient without a program (saying so)."""
    assert clinic_client.get("/demo").json() == {"detail": "Not found"}
    for username in ("nobody-here", "patient-q"):
        clinic.app.state.demo_login = username
        try:
            response = clinic_client.get("/demo")
        finally:
            del clinic.app.state.demo_login
        assert (response.status_code, response.json()) == (
            404,
            {"detail": "The demo patient has no program."},
        )
