"""The browser flow: login page, cookie session, pages for each role, logout, health."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openrehab.services.demo import DEMO_LOGINS, seed_demo
from support import World


def _login(client: TestClient, username: str, password: str, next_path: str = "/") -> object:
    return client.post(
        "/login",
        data={"username": username, "password": password, "next": next_path},
        follow_redirects=False,
    )


def test_health_reports_database(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.json()["status"] == "ok"


def test_openapi_documents_api_routes(client: TestClient, world: World) -> None:
    assert client.get("/openapi.json").status_code == 401
    spec = client.get("/openapi.json", headers=world.headers("patient_p")).json()
    paths = spec["paths"]
    assert "/api/patients/{patient_id}/sessions" in paths
    assert all(not path.startswith(("/login", "/logout")) for path in paths)
    # Every operation documents the refusals it can give, not only success and 422.
    add_pain = paths["/api/patients/{patient_id}/pain-reports"]["post"]["responses"]
    assert {"201", "401", "403", "404", "413", "422", "429"} <= set(add_pain)


def test_home_redirects_anonymous_to_login(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    page = client.get("/login")
    assert page.status_code == 200
    assert '<form method="post" action="/login"' in page.text
    assert 'href="/static/app.css"' in page.text
    assert not re.search(r'(src|href)="(https?:)?//', page.text), "no external assets"


def test_wrong_password_shows_message_and_sets_no_cookie(client: TestClient, db: Session) -> None:
    seed_demo(db)
    db.commit()
    response = _login(client, "patient", "wrong-password")
    assert response.status_code == 401
    assert "do not match" in response.text
    assert "openrehab_session" not in response.cookies


def test_demo_logins_work_and_cookie_is_http_only(client: TestClient, db: Session) -> None:
    seed_demo(db)
    db.commit()
    for login in DEMO_LOGINS:
        response = _login(client, login.username, login.password)
        assert response.status_code == 303, login.username
        cookie_header = response.headers["set-cookie"].lower()
        assert "httponly" in cookie_header and "samesite=lax" in cookie_header
        home = client.get("/")
        assert home.status_code == 200
        assert login.display_name in home.text
        client.post("/logout")
        assert client.get("/", follow_redirects=False).status_code == 303


def test_patient_home_shows_today_and_history(client: TestClient, db: Session) -> None:
    seed_demo(db)
    db.commit()
    _login(client, "patient", "demo-patient")
    page = client.get("/")
    assert "Your day" in page.text
    assert "repetitions" in page.text
    assert "Your exercises today" in page.text
    assert "Straighten the elbow" in page.text or "Slide the hand forward" in page.text
    assert "days in a row" in page.text
    assert "How much pain" in page.text


def test_pain_button_saves_a_report(client: TestClient, db: Session) -> None:
    seed_demo(db)
    db.commit()
    _login(client, "patient", "demo-patient")
    patient_id = client.get("/api/me").json()["id"]
    before = len(client.get(f"/api/patients/{patient_id}/pain-reports").json())
    response = client.post(f"/patients/{patient_id}/pain", data={"nrs": "7"})
    assert response.status_code == 200 and "Stop exercising for today" in response.text
    reports = client.get(f"/api/patients/{patient_id}/pain-reports").json()
    assert len(reports) == before + 1 and reports[0]["nrs"] == 7


def test_therapist_sees_own_patients_only(client: TestClient, world: World) -> None:
    response = _login(client, "therapist-a", "password-therapist_a")
    assert response.status_code == 303
    page = client.get("/")
    assert "patient-p" in page.text and "patient-q" not in page.text
    assert client.get(f"/patients/{world.ids['patient_p']}").status_code == 200
    other = client.get(f"/patients/{world.ids['patient_q']}")
    assert other.status_code == 403 and "do not have access" in other.text


def test_login_next_only_allows_local_paths(client: TestClient, world: World) -> None:
    response = _login(client, "admin", "password-admin", next_path="//evil.example/")
    assert response.headers["location"] == "/"


def test_cookie_session_works_for_the_api(client: TestClient, world: World) -> None:
    _login(client, "caregiver-c", "password-caregiver_c")
    me = client.get("/api/me")
    assert me.status_code == 200 and me.json()["role"] == "caregiver"


def test_unknown_page_is_a_friendly_404(client: TestClient) -> None:
    response = client.get("/no-such-page", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "Not found" in response.text


def test_durations_are_written_in_plain_words() -> None:
    from openrehab.web.app import format_seconds

    assert [format_seconds(v) for v in (0, None, 0.5, 1, 2.0, 15)] == [
        "",
        "",
        "0.5 seconds",
        "1 second",
        "2 seconds",
        "15 seconds",
    ]
