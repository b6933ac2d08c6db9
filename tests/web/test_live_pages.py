"""The live session page: who may open it, what data it hands to the browser, its assets, and
the Start buttons on the today page."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openrehab.exercises.library import load_library
from openrehab.program.music import metronome_schedule
from openrehab.services import program as program_service
from openrehab.services.demo import seed_demo
from openrehab.store.models import User
from openrehab.web.routes.session_pages import camera_setup, sensor_for
from support import World


def _login(client: TestClient, username: str, password: str) -> None:
    response = client.post(
        "/login",
        data={"username": username, "password": password, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303


def _data(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="live-data">(.*?)</script>', html, re.S)
    assert match, "the page must carry its data for the script"
    return json.loads(match.group(1))


@pytest.fixture
def demo(db: Session) -> dict:
    seed_demo(db)
    db.commit()
    patient = db.query(User).filter_by(username="patient").one()
    program = program_service.active_program(db, patient.id)
    assert program is not None and program.items
    return {"patient": patient.id, "items": [i.id for i in program.items]}


def test_anonymous_is_sent_to_login_and_back(client: TestClient, demo: dict) -> None:
    url = f"/patients/{demo['patient']}/session?item={demo['items'][0]}"
    response = client.get(url, follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/login?next=")
    # after logging in, the login form sends the person to the very same session
    login = client.get(location)
    assert f'value="{url}"' in login.text.replace("&amp;", "&")


def test_patient_opens_an_item_with_everything_the_script_needs(
    client: TestClient, demo: dict, db: Session
) -> None:
    _login(client, "patient", "demo-patient")
    item_id = demo["items"][0]
    response = client.get(f"/patients/{demo['patient']}/session?item={item_id}")
    assert response.status_code == 200
    html = response.text
    data = _data(html)
    assert data["patient_id"] == demo["patient"] and data["own"] is True
    assert data["ws_path"] == f"/api/patients/{demo['patient']}/live"
    assert data["today_url"] == "/"
    assert data["vision"]["bundle"] == "/static/vendor/tasks-vision-0.10.21/vision_bundle.mjs"
    assert data["vision"]["wasm"] == "/static/vendor/tasks-vision-0.10.21/wasm"
    assert data["vision"]["pose_lite"].endswith("pose_landmarker_lite-0.10.21.task")
    assert data["vision"]["hand"].endswith("hand_landmarker-0.10.21.task")
    [item] = data["items"]
    stored = program_service.program_item(db, demo["patient"], item_id)
    exercise = load_library().get(stored.exercise_id)
    assert item["item_id"] == item_id
    assert item["exercise"]["id"] == exercise.id
    assert item["exercise"]["name"] == exercise.name
    assert item["exercise"]["steps"] == list(exercise.steps)
    assert item["exercise"]["diagram_url"] == f"/api/exercises/{exercise.id}/diagram.svg"
    assert item["exercise"]["camera_view"] == exercise.sensing.camera_view
    assert item["exercise"]["signal"] == exercise.sensing.signal
    for key in ("side", "mode", "sets", "reps", "rest_s", "level"):
        assert item[key] == getattr(stored, key), key
    level = exercise.level(stored.level)
    assert item["beats_per_rep"] == level.beats_per_rep
    assert item["hold_s"] == stored.hold_s
    assert len(item["beats"]) == level.beats_per_rep
    assert item["beats"][0]["accent"] is True
    assert {b["phase"] for b in item["beats"]} == {"out", "back"}
    assert item["sensor"] in ("pose", "hand", "tap")
    # the first exercise is drawn by the server too (readable before the script runs)
    assert exercise.name in html and exercise.steps[0] in html
    assert 'src="/static/live/main.js"' in html and 'href="/static/live.css"' in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "no external assets"


def test_start_all_walks_through_the_program_in_order(client: TestClient, demo: dict) -> None:
    _login(client, "patient", "demo-patient")
    data = _data(client.get(f"/patients/{demo['patient']}/session?all=1").text)
    assert data["walk"] is True
    assert [i["item_id"] for i in data["items"]] == demo["items"]
    # starting the walk at an item skips the ones before it
    later = _data(
        client.get(f"/patients/{demo['patient']}/session?all=1&item={demo['items'][2]}").text
    )
    assert [i["item_id"] for i in later["items"]] == demo["items"][2:]


def test_caregiver_and_therapist_of_the_patient_may_open_it(client: TestClient, demo: dict) -> None:
    url = f"/patients/{demo['patient']}/session?item={demo['items'][0]}"
    for username, password in (("caregiver", "demo-caregiver"), ("therapist", "demo-therapist")):
        _login(client, username, password)
        response = client.get(url)
        assert response.status_code == 200, username
        assert _data(response.text)["today_url"] == f"/patients/{demo['patient']}"
        client.post("/logout")


def test_other_people_are_refused(client: TestClient, demo: dict, world: World) -> None:
    url = f"/patients/{demo['patient']}/session?item={demo['items'][0]}"
    for who in ("therapist_b", "patient_q", "caregiver_d"):
        response = client.get(url, headers=world.headers(who))
        assert response.status_code == 403, who
        assert "live-data" not in response.text
    # a patient cannot open another patient's session page either
    _login(client, "patient", "demo-patient")
    own_items = demo["items"][0]
    response = client.get(f"/patients/{world.ids['patient_q']}/session?item={own_items}")
    assert response.status_code == 403


def test_unknown_item_or_exercise_is_404(client: TestClient, demo: dict) -> None:
    _login(client, "patient", "demo-patient")
    base = f"/patients/{demo['patient']}/session"
    assert client.get(f"{base}?item=999999").status_code == 404
    assert client.get(f"{base}?item=abc").status_code == 404
    assert client.get(f"{base}?exercise=no_such_exercise").status_code == 404
    assert client.get(base).status_code == 404


def test_free_choice_of_an_exercise(client: TestClient, demo: dict) -> None:
    _login(client, "patient", "demo-patient")
    base = f"/patients/{demo['patient']}/session"
    data = _data(
        client.get(f"{base}?exercise=elbow_flexion&side=right&mode=active&sets=2&reps=4").text
    )
    [item] = data["items"]
    assert item["item_id"] is None
    assert (item["side"], item["mode"], item["sets"], item["reps"]) == ("right", "active", 2, 4)
    assert item["sensor"] == "pose" and item["tap_first"] is False
    assert item["gauge"]["method"] == "flexion3"
    assert item["gauge"]["joints"] == {"right": ["right_shoulder", "right_elbow", "right_wrist"]}
    # a bad side falls back to the affected side, a bad mode to the exercise's first
    fallback = _data(client.get(f"{base}?exercise=elbow_flexion&side=up&mode=fly").text)
    assert fallback["items"][0]["side"] == "left" and fallback["items"][0]["mode"] == "active"


def test_sensor_and_tap_first_follow_the_exercise(client: TestClient, demo: dict) -> None:
    _login(client, "patient", "demo-patient")
    base = f"/patients/{demo['patient']}/session"
    hand = _data(client.get(f"{base}?exercise=pinch_thumb_index&side=left").text)["items"][0]
    assert hand["sensor"] == "hand" and hand["setup"]["what"] == "hand"
    assert hand["gauge"]["joints"] == {"left": ["left_hand:thumb_tip", "left_hand:index_tip"]}
    imu = _data(client.get(f"{base}?exercise=forearm_pronation&side=left").text)["items"][0]
    assert imu["sensor"] == "tap" and imu["tap_first"] is True and imu["demo"] is False
    passive = _data(client.get(f"{base}?exercise=elbow_flexion&side=left&mode=passive").text)
    assert passive["items"][0]["tap_first"] is True
    page = client.get(f"{base}?exercise=forearm_pronation&side=left").text
    assert "cannot see this movement" in page


def test_stretch_tempo_is_capped_to_the_safe_speed(client: TestClient, demo: dict) -> None:
    _login(client, "patient", "demo-patient")
    url = f"/patients/{demo['patient']}/session?exercise=calf_slow_stretch&side=left&mode=stretch"
    item = _data(client.get(url).text)["items"][0]
    exercise = load_library().get("calf_slow_stretch")
    level = exercise.level(item["level"])
    excursion = abs(exercise.level_target(item["level"]) - exercise.sensing.rest)
    out_beats = level.beats_per_rep // 2
    mean_speed = excursion / (out_beats * 60 / item["tempo_bpm"])
    assert mean_speed <= exercise.sensing.max_velocity_deg_s + 1e-6
    beats = metronome_schedule(item["tempo_bpm"], level.beats_per_rep, 1, item["hold_s"])
    assert [b["t"] for b in item["beats"]] == [b.time_s for b in beats]


def test_camera_setup_words() -> None:
    library = load_library()
    squat = camera_setup(library.get("mini_squat"), "both")
    assert squat["what"] == "body" and "head to" in squat["see"]
    arm = camera_setup(library.get("elbow_flexion"), "left")
    assert "beside you, on your left side" in arm["place"]
    assert "shoulder and hand" in arm["lost"]
    hand = camera_setup(library.get("finger_tapping"), "right")
    assert "hand" in hand["place"] and hand["what"] == "hand"
    assert sensor_for(library.get("toe_curls")) == "tap"


def test_today_page_has_start_buttons(client: TestClient, demo: dict) -> None:
    _login(client, "patient", "demo-patient")
    page = client.get("/").text
    for item_id in demo["items"]:
        assert f'href="/patients/{demo["patient"]}/session?item={item_id}"' in page
    assert f'href="/patients/{demo["patient"]}/session?all=1"' in page
    assert "Start today&#39;s exercises" in page or "Start today's exercises" in page
    # the buttons say which exercise they start, for screen readers
    assert re.search(r'aria-label="Start [^"]+, left side">Start</a>', page)


def test_live_assets_are_served_and_complete(client: TestClient) -> None:
    for path in ("/static/live.css", "/static/live/main.js"):
        assert client.get(path).status_code == 200, path
    main = client.get("/static/live/main.js").text
    modules = re.findall(r'from "\./([a-z]+\.js)"', main)
    assert len(modules) >= 8
    for module in modules:
        response = client.get(f"/static/live/{module}")
        assert response.status_code == 200, module
        assert "http://" not in response.text and "https://" not in response.text, module
