"""The today page (program, progress, levels, streak, events), therapist forms, the library."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openrehab.services import program as program_service
from openrehab.services.demo import seed_demo
from openrehab.store.models import User
from support import World

PROFILE = {
    "affected_side": "left",
    "regions": {"elbow": {"mas": "1", "active_movement": True}},
    "can_sit_unsupported": True,
    "can_stand_safely": False,
}


def _login(client: TestClient, username: str, password: str) -> None:
    response = client.post(
        "/login", data={"username": username, "password": password}, follow_redirects=False
    )
    assert response.status_code == 303


def _no_external(html: str) -> None:
    assert not re.search(r'(src|href|action)="(https?:)?//', html), "no external requests"


def test_patient_today_page_shows_program_progress_and_events(
    client: TestClient, db: Session
) -> None:
    seed_demo(db)
    db.commit()
    _login(client, "patient", "demo-patient")
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    _no_external(html)
    patient = db.query(User).filter_by(username="patient").one()
    program = program_service.active_program(db, patient.id)
    assert program is not None
    for item in program.items:
        assert f'href="/exercises/{item.exercise_id}"' in html
    assert 'role="progressbar"' in html and "days in a row" in html
    assert "Overall level" in html and "Left arm: level" in html
    assert re.search(r"Level \d+ -&gt; \d+ because", html)
    assert 'href="/exercises"' in html and ">Today<" in html
    assert "Build program from profile" not in html  # patients do not prescribe


def test_therapist_builds_and_overrides_from_the_page(
    client: TestClient, world: World, db: Session
) -> None:
    p = world.ids["patient_p"]
    headers = world.headers("therapist_a")
    client.put(f"/api/patients/{p}/profile", json=PROFILE, headers=headers)
    _login(client, "therapist-a", "password-therapist_a")
    page = client.get(f"/patients/{p}")
    assert "There is no program yet" in page.text and "Build program from profile" in page.text
    built = client.post(
        f"/patients/{p}/program", data={"daily_rep_target": ""}, follow_redirects=False
    )
    assert built.status_code == 303 and built.headers["location"].startswith(f"/patients/{p}")
    program = client.get(f"/api/patients/{p}/program").json()
    item = next(i for i in program["items"] if i["exercise_id"] == "elbow_flexion")
    form = {
        "action": "change",
        "mode": item["mode"],
        "side": item["side"],
        "sets": "2",
        "reps": str(item["reps"]),
        "level": str(item["level"]),
        "rest_s": str(item["rest_s"]),
        "reason": "Tired after the clinic visit",
    }
    changed = client.post(
        f"/patients/{p}/program/items/{item['id']}", data=form, follow_redirects=False
    )
    assert changed.status_code == 303
    page = client.get(f"/patients/{p}").text
    assert "Set by your therapist: Tired after the clinic visit" in page
    assert "The program was saved" not in page  # only after the redirect's query
    new = next(
        i
        for i in client.get(f"/api/patients/{p}/program").json()["items"]
        if i["exercise_id"] == "elbow_flexion"
    )
    assert new["sets"] == 2
    # A reason is required, and errors are shown on the page.
    refused = client.post(f"/patients/{p}/program/items/{new['id']}", data={**form, "reason": ""})
    assert refused.status_code == 422 and "Please say why" in refused.text
    removed = client.post(
        f"/patients/{p}/program/items/{new['id']}",
        data={"action": "remove", "reason": "sore"},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    added = client.post(
        f"/patients/{p}/program/items",
        data={"exercise_id": "toe_curls", "side": "", "reason": "cramps"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    ids = {i["exercise_id"] for i in client.get(f"/api/patients/{p}/program").json()["items"]}
    assert "toe_curls" in ids and "elbow_flexion" not in ids


def test_carers_see_the_program_but_cannot_change_it(
    client: TestClient, world: World, db: Session
) -> None:
    p = world.ids["patient_p"]
    client.put(f"/api/patients/{p}/profile", json=PROFILE, headers=world.headers("therapist_a"))
    client.post(f"/api/patients/{p}/program", headers=world.headers("therapist_a"))
    _login(client, "caregiver-c", "password-caregiver_c")
    page = client.get(f"/patients/{p}")
    assert page.status_code == 200 and "Exercises today" in page.text
    assert "Build program from profile" not in page.text and "Save change" not in page.text
    refused = client.post(f"/patients/{p}/program", data={})
    assert refused.status_code == 403
    client.post("/logout")
    _login(client, "caregiver-d", "password-caregiver_d")
    assert client.get(f"/patients/{p}").status_code == 403


def test_library_pages(client: TestClient, world: World) -> None:
    _login(client, "patient-p", "password-patient_p")
    page = client.get("/exercises")
    assert page.status_code == 200
    _no_external(page.text)
    assert page.text.count('src="/api/exercises/') == 51
    assert 'aria-current="page">Exercises<' in page.text
    elbow = client.get("/exercises?region=elbow").text
    assert "Straighten the elbow" in elbow and "Make a fist" not in elbow
    assert client.get("/exercises?region=nose").status_code == 404
    detail = client.get("/exercises/elbow_extension_band_press")
    assert detail.status_code == 200
    html = detail.text
    _no_external(html)
    assert "<svg" in html and 'role="img"' in html
    assert "How to do it" in html and '<ol class="steps">' in html
    assert "Safety" in html and "Levels" in html and "References" in html
    assert 'href="/exercises/elbow_extension"' in html  # unlocks after
    assert client.get("/exercises/nope").status_code == 404
    svg = client.get("/api/exercises/elbow_extension/diagram.svg")
    assert svg.status_code == 200  # the cookie session works for the images
    client.post("/logout")
    assert client.get("/exercises", follow_redirects=False).status_code == 303


def test_beat_plan_keeps_stretches_under_the_velocity_limit() -> None:
    from openrehab.exercises.library import load_library
    from openrehab.web.routes.exercise_pages import beat_plan

    library = load_library()
    stretches = [
        e
        for e in library
        if set(e.modes) <= {"stretch", "passive"}
        and e.sensing.max_velocity_deg_s
        and e.sensing.unit == "deg"
    ]
    assert stretches, "the library has slow-stretch exercises"
    for exercise in stretches:
        excursion_deg = abs(exercise.sensing.target - exercise.sensing.rest)
        for level, plan in zip(exercise.levels, beat_plan(exercise), strict=True):
            assert plan["tempo_bpm"] <= level.tempo_bpm
            out_beats = level.beats_per_rep // 2
            out_s = out_beats * 60.0 / plan["tempo_bpm"]
            mean_velocity = excursion_deg * level.target_range_pct / 100 / out_s
            assert mean_velocity <= exercise.sensing.max_velocity_deg_s * 1.01, exercise.id
            assert len(plan["beats"]) == level.beats_per_rep and plan["beats"][0]["accent"]


def test_the_beat_plan_is_each_levels_own_rhythm() -> None:
    """Rule: the exercise page's metronome plays each level at its own tempo (to 0.1 beat per
    minute), repetitions and hold; a stretch's tempo is the capped one. (No library level is
    fast enough to need the cap today, so one is made faster here.)"""
    from openrehab.exercises.library import load_library
    from openrehab.program.music import metronome_schedule, rep_duration_s, stretch_tempo_bpm
    from openrehab.web.routes.exercise_pages import beat_plan

    flexion = load_library().get("elbow_flexion")
    for level, plan in zip(flexion.levels, beat_plan(flexion), strict=True):
        beats = metronome_schedule(level.tempo_bpm, level.beats_per_rep, 1, level.hold_s)
        assert plan == {
            "level": level.level,
            "tempo_bpm": round(level.tempo_bpm, 1),
            "rep_s": round(rep_duration_s(level.tempo_bpm, level.beats_per_rep, level.hold_s), 3),
            "reps": level.reps_per_set,
            "beats": [{"t": b.time_s, "accent": b.accent, "phase": b.phase} for b in beats],
        }
    stretch = load_library().get("elbow_flexor_slow_stretch")
    fast = stretch.levels[0].model_copy(update={"tempo_bpm": 120.0})
    exercise = stretch.model_copy(update={"levels": (fast, *stretch.levels[1:])})
    excursion = abs(exercise.sensing.target - exercise.sensing.rest) * fast.target_range_pct / 100
    limit = exercise.sensing.max_velocity_deg_s
    assert limit is not None
    capped = stretch_tempo_bpm(120.0, fast.beats_per_rep, excursion, limit)
    assert capped < 120.0 and beat_plan(exercise)[0]["tempo_bpm"] == round(capped, 1)
