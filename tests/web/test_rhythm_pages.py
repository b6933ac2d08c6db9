"""The rhythm game page: who may open it, what it offers, and that it loads nothing external."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openrehab.exercises.library import load_library
from openrehab.store.models import ExerciseProgress, User
from openrehab.web.routes.rhythm_pages import RHYTHM_EXERCISES
from support import World, fresh_program


def _login(client: TestClient, who: str) -> None:
    response = client.post(
        "/login",
        data={"username": who.replace("_", "-"), "password": f"password-{who}", "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, who


def _config(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="rhythm-config">(.*?)</script>', html)
    assert match, "the page carries the game's settings"
    return json.loads(match.group(1))


def test_anonymous_is_sent_to_login(client: TestClient, world: World) -> None:
    pid = world.ids["patient_p"]
    response = client.get(f"/patients/{pid}/rhythm", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/patients/{pid}/rhythm"


@pytest.mark.parametrize(
    ("who", "patient", "status"),
    [
        ("patient_p", "patient_p", 200),
        ("patient_p", "patient_q", 403),
        ("caregiver_c", "patient_p", 200),
        ("caregiver_d", "patient_p", 403),
        ("therapist_a", "patient_p", 200),
        ("therapist_a", "patient_q", 403),
        ("therapist_b", "patient_q", 200),
        ("admin", "patient_q", 200),
    ],
)
def test_who_may_play_for_whom(
    client: TestClient, world: World, who: str, patient: str, status: int
) -> None:
    _login(client, who)
    response = client.get(f"/patients/{world.ids[patient]}/rhythm")
    assert response.status_code == status
    if status == 403:
        assert "cannot record exercises for this person" in response.text
        assert "rhythm-config" not in response.text
    else:
        assert "<h1>Rhythm game</h1>" in response.text


def test_not_a_patient_is_a_404(client: TestClient, world: World) -> None:
    _login(client, "admin")
    response = client.get(f"/patients/{world.ids['therapist_a']}/rhythm")
    assert response.status_code == 404 and "no such patient" in response.text
    assert client.get("/patients/999999/rhythm").status_code == 404


def test_page_renders_the_game(client: TestClient, world: World) -> None:
    _login(client, "patient_p")
    pid = world.ids["patient_p"]
    page = client.get(f"/patients/{pid}/rhythm")
    html = page.text
    assert page.status_code == 200
    # Own header link, marked as the current page; scripts and styles served by the app.
    assert f'<a href="/patients/{pid}/rhythm" aria-current="page">Rhythm game</a>' in html
    assert 'src="/static/rhythm/game.js"' in html and 'href="/static/rhythm.css"' in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "no external assets"
    # The keyboard way is said plainly; the camera's video stays on the device.
    assert "<kbd>Space</kbd>" in html and "The video stays on this device" in html
    assert 'id="start"' in html and 'id="board"' in html and 'role="status"' in html
    config = _config(html)
    assert config["patient_id"] == pid
    assert [e["id"] for e in config["exercises"]] == list(RHYTHM_EXERCISES)
    library = load_library()
    for exercise in config["exercises"]:
        # No progress yet: level 1 only, at the library's tempo.
        first = library.get(exercise["id"]).levels[0]
        assert exercise["levels"] == [
            {"level": 1, "tempo_bpm": first.tempo_bpm, "reps": first.reps_per_set}
        ]
        assert exercise["current_level"] == 1
    assert config["side"] in ("left", "right")


def test_levels_follow_the_patients_progress(client: TestClient, world: World, db: Session) -> None:
    pid = world.ids["patient_p"]
    db.add(ExerciseProgress(patient_id=pid, exercise_id="finger_tapping", side="left", level=3))
    db.commit()
    _login(client, "caregiver_c")
    html = client.get(f"/patients/{pid}/rhythm?exercise=finger_tapping&side=left").text
    assert "Playing for" in html and "patient-p" in html
    config = _config(html)
    assert config["exercise"] == "finger_tapping" and config["side"] == "left"
    tapping = next(e for e in config["exercises"] if e["id"] == "finger_tapping")
    assert [level["level"] for level in tapping["levels"]] == [1, 2, 3]
    level3 = load_library().get("finger_tapping").levels[2]
    assert tapping["levels"][2]["tempo_bpm"] == level3.tempo_bpm
    assert tapping["current_level"] == 3


def test_unknown_choices_in_the_address_are_ignored(client: TestClient, world: World) -> None:
    _login(client, "patient_p")
    pid = world.ids["patient_p"]
    page = client.get(f"/patients/{pid}/rhythm?exercise=elbow_flexion&side=up")
    assert page.status_code == 200
    config = _config(page.text)
    assert config["exercise"] in RHYTHM_EXERCISES and config["side"] in ("left", "right")


def test_game_modules_are_served(client: TestClient) -> None:
    modules = ["game", "judge", "adapt", "pinch", "clock", "chart", "music", "draw", "live"]
    for name in [*modules, "camera"]:
        response = client.get(f"/static/rhythm/{name}.js")
        assert response.status_code == 200, name
        assert "javascript" in response.headers["content-type"]
        assert not re.search(r"https?://", response.text), f"{name}.js must not name other hosts"
    assert client.get("/static/rhythm.css").status_code == 200


def test_today_page_links_to_the_rhythm_game(client, world) -> None:  # type: ignore[no-untyped-def]
    patient = world.ids["patient_p"]
    page = client.get(f"/patients/{patient}", headers=world.headers("caregiver_c"))
    assert f'href="/patients/{patient}/rhythm"' in page.text
    seen_only = client.get(f"/patients/{patient}", headers=world.headers("admin"))
    assert seen_only.status_code == 200


def test_the_game_starts_from_the_patients_program(
    client: TestClient, world: World, db: Session
) -> None:
    """Rule: an exercise of the game that is in the program is offered first, on the program's
    side and at the program's level (levels up to it); one that is not starts at level 1. A
    carer's "back" link goes to the patient's page, the patient's own to their start page."""
    pid = world.ids["patient_p"]
    fresh_program(db, pid)  # affected side: left
    body = {"exercise_id": "finger_tapping", "side": "right", "level": 2, "reason": "rhythm"}
    added = client.post(
        f"/api/patients/{pid}/program/items", json=body, headers=world.headers("therapist_a")
    )
    assert added.status_code == 201, added.text
    _login(client, "caregiver_c")
    html = client.get(f"/patients/{pid}/rhythm").text
    config = _config(html)
    assert (config["exercise"], config["side"]) == ("finger_tapping", "right")
    by_id = {e["id"]: e for e in config["exercises"]}
    tapping, pinch = by_id["finger_tapping"], by_id["pinch_thumb_index"]
    assert (tapping["in_program"], tapping["current_level"]) == (True, 2)
    assert [level["level"] for level in tapping["levels"]] == [1, 2]
    assert (pinch["in_program"], pinch["current_level"], len(pinch["levels"])) == (False, 1, 1)
    assert f'<a class="back" href="/patients/{pid}">Back to patient-p</a>' in html
    client.post("/logout")
    _login(client, "patient_p")
    assert (
        '<a class="back" href="/">Back to your day</a>'
        in client.get(f"/patients/{pid}/rhythm").text
    )


@pytest.mark.parametrize(
    ("affected", "side"), [("left", "left"), ("right", "right"), ("both", "right")]
)
def test_without_a_program_the_game_plays_the_affected_side(
    affected: str, side: str, client: TestClient, world: World, db: Session
) -> None:
    """Rule: with no game exercise in the program, the game trains the affected side (the
    right hand when both are affected); the first exercise (the easier pinch) is offered."""
    patient = db.get_one(User, world.ids["patient_p"])
    assert patient.profile is not None
    patient.profile.affected_side = affected
    db.commit()
    _login(client, "patient_p")
    config = _config(client.get(f"/patients/{patient.id}/rhythm").text)
    assert (config["side"], config["exercise"]) == (side, "pinch_thumb_index")
