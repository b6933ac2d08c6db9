"""The pages' rules (web/routes/pages.py): who is sent where, what a refusal says (and that it
is audited), what a patient's page shows to whom, and how the therapist's forms read numbers.

A page is how patients and carers see the record: a refusal must say why without revealing
it, a carer must not be offered the therapist's controls, and a form must store only what
the therapist changed.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.exercises.library import load_library
from openrehab.services import program as program_service
from openrehab.services import progress as progress_service
from openrehab.store import records
from openrehab.store.models import (
    Assessment,
    AuditLog,
    LoginFailure,
    PainReport,
)
from support import Clinic, browser_of, fresh_program, last_audit, page_text

_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def charted(clinic: Clinic) -> dict[str, Any]:
    """patient_p with a program, a session of 3 repetitions, a pain report and an assessment."""
    p = clinic.world.ids["patient_p"]
    with clinic.session() as db:
        fresh_program(db, p)
        exercise_session = records.start_session(db, p)
        exercise_set = records.start_set(
            db, exercise_session, exercise_id="elbow_flexion", side="left", mode="active"
        )
        records.add_repetitions(
            db, exercise_set, [{"start_s": 2.0 * i, "end_s": 2.0 * i + 1} for i in range(3)]
        )
        events = progress_service.finish_set(db, exercise_set, pain_reported=True)
        [pain] = [event for event in events if event.kind == "pain"]
        db.add(PainReport(patient_id=p, reported_by_id=p, nrs=6, location="left elbow"))
        db.add(
            Assessment(
                patient_id=p,
                assessor_id=clinic.world.ids["therapist_a"],
                kind="tardieu",
                region="elbow",
                side="left",
                r1_deg=70.4,
                r2_deg=121.0,
            )
        )
        db.commit()
        return {"pain_event": pain.reason}


# --- who is sent where ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "sent_to"),
    [
        ("/patients/3", "/patients/3"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("", "/"),
        ("exercises", "/"),
    ],
)
def test_after_login_only_a_local_path_is_followed(
    given: str, sent_to: str, clinic: Clinic, clinic_client: TestClient, clinic_db: Session
) -> None:
    """Rule: the login form sends the browser on to ``next`` only when it is a path of this
    site (so the form cannot bounce someone to another site); else to the start page. A
    logged-in browser opening the login page is sent on the same way."""
    form = {"username": "caregiver-c", "password": "password-caregiver_c", "next": given}
    assert clinic_client.post("/login", data=form).headers["location"] == sent_to
    with browser_of(clinic, clinic_db, "caregiver_c") as browser:
        again = browser.get("/login", params={"next": given})
    assert (again.status_code, again.headers["location"]) == (303, sent_to)


def test_the_login_page_keeps_where_to_go_and_the_name_tried(clinic_client: TestClient) -> None:
    """Rule: a wrong password shows the reason and keeps the name and the destination in the
    form; the page itself carries a local ``next`` only."""
    form = {"username": "patient-p", "password": "not the password", "next": "/exercises"}
    wrong = clinic_client.post("/login", data=form)
    page = page_text(wrong)
    assert wrong.status_code == 401
    assert "That username and password do not match. Please try again." in page
    assert 'value="patient-p"' in page and 'name="next" value="/exercises"' in page
    fresh = page_text(clinic_client.get("/login", params={"next": "//evil.example"}))
    assert 'name="next" value="/"' in fresh


@pytest.mark.parametrize("form", [{"username": "patient-p"}, {"password": "not the password"}])
def test_a_login_without_name_or_password_is_not_an_attempt(
    form: dict[str, str], clinic_client: TestClient, clinic_db: Session
) -> None:
    """Rule: an empty name or password is refused without counting as a guess (no failure
    stored for the throttle, no "login.failed" audit)."""
    failures = clinic_db.scalar(select(LoginFailure.id).order_by(LoginFailure.id.desc()).limit(1))
    audits = clinic_db.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1))
    assert clinic_client.post("/login", data=form).status_code == 401
    clinic_db.expire_all()
    assert (
        clinic_db.scalar(select(LoginFailure.id).order_by(LoginFailure.id.desc()).limit(1))
        == failures
    )
    assert clinic_db.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)) == audits


def test_a_browser_login_is_audited_and_logout_clears_the_cookie(
    clinic: Clinic, clinic_client: TestClient, clinic_db: Session
) -> None:
    form = {"username": "caregiver-c", "password": "password-caregiver_c"}
    assert clinic_client.post("/login", data=form).status_code == 303
    user_id = clinic.world.ids["caregiver_c"]
    assert last_audit(clinic_db, "login.browser") == (user_id, "user", str(user_id), {})
    out = clinic_client.post("/logout")
    assert last_audit(clinic_db, "logout") == (user_id, "user", str(user_id), {})
    cookie = out.headers["set-cookie"].lower()
    assert "openrehab_session=" in cookie and "max-age=0" in cookie and "path=/" in cookie


@pytest.mark.parametrize("path", ["/", "/account", "/exercises", "/exercises/elbow_flexion"])
def test_pages_send_the_anonymous_to_the_login_and_back(
    path: str, clinic_client: TestClient
) -> None:
    response = clinic_client.get(path)
    assert (response.status_code, response.headers["location"]) == (303, f"/login?next={path}")


# --- refusals ---------------------------------------------------------------------------------
REFUSALS = [
    # (caller, method, path under /patients/{patient_p}, data, status, message)
    ("caregiver_d", "GET", "", None, 403, "You do not have access to this person's records."),
    (
        "caregiver_d",
        "POST",
        "/pain",
        {"nrs": "3"},
        403,
        "You cannot record exercises for this person.",
    ),
    ("caregiver_c", "POST", "/program", {}, 403, "Only this person's therapist can do that."),
    (
        "therapist_b",
        "POST",
        "/program/items",
        {"exercise_id": "toe_curls", "reason": "x"},
        403,
        "Only this person's therapist can do that.",
    ),
]


@pytest.mark.parametrize(("caller", "method", "path", "data", "status", "message"), REFUSALS)
def test_a_refused_page_says_why_and_is_audited(
    caller: str,
    method: str,
    path: str,
    data: dict[str, str] | None,
    status: int,
    message: str,
    clinic: Clinic,
    clinic_db: Session,
) -> None:
    """Rule: a page the caller may not use answers 403 with the reason for that kind of
    action (read, record, prescribe), and the refusal is audited with who, where and why."""
    url = f"/patients/{clinic.world.ids['patient_p']}{path}"
    with browser_of(clinic, clinic_db, caller) as browser:
        response = browser.request(method, url, data=data)
    assert response.status_code == status and message in page_text(response)
    assert "Not allowed" in response.text
    assert last_audit(clinic_db, "access.refused") == (
        clinic.world.ids[caller],
        "request",
        None,
        {"status": status, "method": method, "path": url, "reason": message},
    )


def test_a_page_about_someone_who_is_not_a_patient_is_not_found(
    clinic: Clinic, clinic_db: Session
) -> None:
    """Rule: an admin may open any patient, but an id that is not a patient's is a 404 (not
    audited as a refusal)."""
    url = f"/patients/{clinic.world.ids['therapist_a']}"
    with browser_of(clinic, clinic_db, "admin") as browser:
        response = browser.get(url)
    assert response.status_code == 404 and "There is no such patient." in response.text
    assert "Not found" in response.text


# --- what a patient's page shows ---------------------------------------------------------------
def test_the_patients_page_shows_the_record(
    charted: dict[str, Any], clinic: Clinic, clinic_db: Session
) -> None:
    """Rule: the page of a patient shows today's repetitions against the target, the program
    with its reasons, the recent sessions with each set's exercise, side and repetitions, the
    pain reports and the assessments."""
    p = clinic.world.ids["patient_p"]
    with browser_of(clinic, clinic_db, "therapist_a") as browser:
        page = page_text(browser.get(f"/patients/{p}"))
    assert "<h1>patient-p</h1>" in page
    assert "Bend the elbow (left): 3 reps" in page
    assert "6 of 10 (left elbow)" in page
    assert "Modified Tardieu" in page and "elbow, left" in page and "R1 70°, R2 121°" in page
    program = program_service.active_program(clinic_db, p)
    assert program is not None
    library = load_library()
    items = [
        (item.id, library.get(item.exercise_id), item.sets, item.reps, item.level)
        for item in program.items
    ]
    planned = sum(sets * reps for _, _, sets, reps, _ in items)
    assert f"{planned} repetitions are planned" in page and program.reasons[0] in page
    assert "<span>3</span> of 300 repetitions" in page and 'aria-valuenow="3"' in page
    assert "<strong>1</strong> day in a row" in page, "a set done today"
    assert re.search(r"Overall level <strong>\d+</strong> <small>\(\d+ points to the next\)", page)
    for item_id, exercise, sets, reps, level in items:
        entry = page[page.index(f'id="item-{item_id}"') :]
        entry = entry[: entry.index("</li>")]
        assert f'href="/exercises/{exercise.id}">{exercise.name}</a>' in entry
        assert (
            f"<strong>{sets} sets of {reps}</strong> · level {level} of {exercise.max_level}"
            in entry
        )
        assert "Left side, on your own" in entry
        assert f'<label for="level-{item_id}">Level (1 to {exercise.max_level})</label>' in entry
        assert (
            '<option value="left" selected>left</option><option value="right">right</option>'
            in entry
        )
        assert '<option value="active" selected>on your own</option>' in entry
    assert f"<strong>Bend the elbow (left):</strong> {charted['pain_event']}" in page


@pytest.mark.parametrize(
    ("who", "records", "prescribes"),
    [
        ("patient_p", True, False),
        ("caregiver_c", True, False),
        ("therapist_a", True, True),
        ("admin", True, True),
    ],
)
def test_the_page_offers_each_person_only_what_they_may_do(
    who: str,
    records: bool,
    prescribes: bool,
    charted: dict[str, Any],
    clinic: Clinic,
    clinic_db: Session,
) -> None:
    """Rule: the buttons to start exercises and report pain are shown to those who may record;
    the therapist's forms (build, change, add with the library's exercises) only to those who
    may prescribe."""
    p = clinic.world.ids["patient_p"]
    with browser_of(clinic, clinic_db, who) as browser:
        page = page_text(browser.get("/" if who == "patient_p" else f"/patients/{p}"))
    assert ("Start today's exercises" in page) == records
    assert (f'action="/patients/{p}/pain"' in page) == records
    assert ("For the therapist" in page) == prescribes
    assert ("Save change" in page) == prescribes
    assert ('<option value="toe_curls">' in page) == prescribes
    assert ('<optgroup label="Elbow">' in page) == prescribes
    assert ("Your day" in page) == (who == "patient_p")


def test_a_carers_home_lists_their_patients_with_todays_reps(
    charted: dict[str, Any], clinic: Clinic, clinic_db: Session
) -> None:
    """Rule: a carer's start page lists the people linked to them with today's repetitions
    out of their target (300 unless set) and their last session."""
    with browser_of(clinic, clinic_db, "caregiver_c") as browser:
        page = page_text(browser.get("/"))
    assert "People you care for" in page
    assert f'<a href="/patients/{clinic.world.ids["patient_p"]}">patient-p</a>' in page
    assert "3 of 300" in page and "none yet" not in page
    assert "patient-q" not in page
    with browser_of(clinic, clinic_db, "caregiver_d") as browser:
        assert "No patients are linked to your account yet." in browser.get("/").text


# --- the library ----------------------------------------------------------------------------
def test_the_library_pages_name_what_is_missing(clinic: Clinic, clinic_db: Session) -> None:
    """Rule: an unknown region or exercise is a 404 saying so; an exercise's page links the
    exercises it unlocks."""
    with browser_of(clinic, clinic_db, "patient_p") as browser:
        region = browser.get("/exercises", params={"region": "nose"})
        exercise = browser.get("/exercises/juggling")
        flexion = page_text(browser.get("/exercises/elbow_flexion"))
    assert region.status_code == 404 and "There is no body region called 'nose'." in page_text(
        region
    )
    assert exercise.status_code == 404
    assert "There is no such exercise in the library." in exercise.text
    assert 'href="/exercises/hand_to_mouth"' in flexion


def test_the_library_page_groups_each_exercise_under_its_main_region(
    clinic: Clinic, clinic_db: Session
) -> None:
    """Rule: the library lists every exercise once, under its main region (functional tasks
    under "Functional"), each group in name order with its modes in plain words; a region's
    page lists that region's exercises by name; the count names the whole library."""
    library = load_library()
    with browser_of(clinic, clinic_db, "caregiver_c") as browser:
        everything = page_text(browser.get("/exercises"))
        elbow = page_text(browser.get("/exercises", params={"region": "elbow"}))
    assert f"<p>{len(library)} exercises, each with a drawing" in everything
    listed = re.findall(r'<h2 id="region-(\w+)">|<a href="/exercises/(\w+)">', everything)
    groups: dict[str, list[str]] = {}
    region = ""
    for heading, exercise_id in listed:
        region = heading or region
        if exercise_id:
            groups.setdefault(region, []).append(exercise_id)
    for name, ids in groups.items():
        exercises = [library.get(i) for i in ids]
        assert all(
            (e.kind == "functional" and name == "functional") or e.primary_region == name
            for e in exercises
        ), name
        assert [e.name for e in exercises] == sorted(e.name for e in exercises), name
    assert sorted(i for ids in groups.values() for i in ids) == sorted(e.id for e in library)
    elbow_ids = re.findall(r'<a href="/exercises/(\w+)">', elbow)
    assert elbow_ids == [e.id for e in sorted(library.by_region("elbow"), key=lambda e: e.name)]
    assert "<h1>Exercises: Elbow</h1>" in elbow and "on your own" in elbow


def test_the_account_page_names_who_is_logged_in(clinic: Clinic, clinic_db: Session) -> None:
    with browser_of(clinic, clinic_db, "therapist_a") as browser:
        page = page_text(browser.get("/account"))
    assert "You are logged in as <strong>therapist-a</strong>" in page
    assert "<strong>therapist-a</strong>, therapist)" in page
    assert '<input type="hidden" name="everywhere" value="1">' in page
