"""The workspace pages (web/routes/workspace_pages.py, admin_pages.py, web/patient_list.py):
a patient onboarded from the pages can log in with the sheet, the profile form stores exactly
the profile the API would and builds the program, the people and admin pages change links,
the list sorts and filters, and every page refuses who may not use it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.accounts.service import create_user
from openrehab.services import program as program_service
from openrehab.store.models import CareLink, LinkKind, User
from support import Clinic, browser_of, page_text

PROFILE_FORM = {
    "affected_side": "left",
    "elbow_involved": "1",
    "elbow_mas": "1+",
    "elbow_active": "1",
    "hand_involved": "1",
    "hand_mas": "2",
    "hand_painful": "1",
    "shoulder_mas": "3",  # not involved: ignored
    "can_sit_unsupported": "yes",
    "can_stand_safely": "no",
    "hand_function": "grasp_only",
    "pain_nrs": "3",
    "daily_rep_target": "250",
    "conditions": ["epilepsy", "not_a_condition"],
    "other_conditions": "diabetes\n\n  glaucoma  ",
    "goals": ["reach"],
    "equipment": ["table", "cup"],
}


def _sheet(response: Any) -> list[tuple[str, str]]:
    text = page_text(response)
    users = re.findall(r'class="login-username">([^<]+)<', text)
    passwords = re.findall(r'class="login-password">([^<]+)<', text)
    return list(zip(users, passwords, strict=True))


def _new_patient(clinic: Clinic, db: Session, who: str = "therapist_a", **form: str) -> Any:
    with browser_of(clinic, db, who) as browser:
        return browser.post("/patients/new", data={"display_name": "Ana Lopez", **form})


def test_a_patient_and_caregiver_onboarded_from_the_page_log_in_with_the_sheet(
    clinic: Clinic, clinic_db: Session
) -> None:
    response = _new_patient(clinic, clinic_db, caregiver_name="Luis Lopez")
    assert response.status_code == 201
    assert response.headers["cache-control"].startswith("no-store")
    sheet = _sheet(response)
    assert [u for u, _ in sheet] == ["ana.lopez", "luis.lopez"]
    patient = clinic_db.scalar(select(User).where(User.username == "ana.lopez"))
    assert patient is not None
    assert f"/patients/{patient.id}/profile" in response.text  # the next step
    for username, password in sheet:
        with clinic.client() as browser:
            login = browser.post("/login", data={"username": username, "password": password})
        assert login.status_code == 303, username
    links = {
        (link.kind, clinic_db.get_one(User, link.carer_id).username)
        for link in clinic_db.scalars(select(CareLink).where(CareLink.patient_id == patient.id))
    }
    assert links == {(LinkKind.therapist, "therapist-a"), (LinkKind.caregiver, "luis.lopez")}


def test_a_refused_new_patient_shows_the_form_again_with_the_reason_and_stores_nothing(
    clinic: Clinic, clinic_db: Session
) -> None:
    count = len(list(clinic_db.scalars(select(User.id))))
    response = _new_patient(clinic, clinic_db, username="Bad Name!", caregiver_name="C D")
    assert response.status_code == 422
    text = page_text(response)
    assert "Username must be 2-80 characters" in text and 'value="Bad Name!"' in text
    clinic_db.expire_all()
    assert len(list(clinic_db.scalars(select(User.id)))) == count


def test_an_admin_picks_the_therapist_on_the_new_patient_form(
    clinic: Clinic, clinic_db: Session
) -> None:
    with browser_of(clinic, clinic_db, "admin") as browser:
        form = page_text(browser.get("/patients/new"))
        assert 'name="therapist_id"' in form
        refused = browser.post("/patients/new", data={"display_name": "Admin Made"})
        made = browser.post(
            "/patients/new",
            data={
                "display_name": "Admin Made",
                "therapist_id": str(clinic.world.ids["therapist_b"]),
            },
        )
    assert refused.status_code == 422 and "choose a therapist" in page_text(refused)
    assert made.status_code == 201
    patient = clinic_db.scalar(select(User).where(User.display_name == "Admin Made"))
    assert patient is not None
    carers = set(
        clinic_db.scalars(select(CareLink.carer_id).where(CareLink.patient_id == patient.id))
    )
    assert carers == {clinic.world.ids["therapist_b"]}


@pytest.mark.parametrize("who", ["caregiver_c", "patient_p"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_only_clinicians_reach_the_new_patient_page(
    clinic: Clinic, clinic_db: Session, who: str, method: str
) -> None:
    before = clinic.snapshot()
    with browser_of(clinic, clinic_db, who) as browser:
        response = getattr(browser, method)("/patients/new")
    assert response.status_code == 403
    assert "Only therapists and admins" in page_text(response)
    changes = {name for name, rows in clinic.snapshot().items() if rows != before.get(name)}
    assert changes <= {"audit_log", "auth_tokens"}


def _fresh_patient(clinic: Clinic, db: Session, name: str) -> User:
    response = _new_patient(clinic, db, display_name=name)
    assert response.status_code == 201
    db.expire_all()
    patient = db.scalar(select(User).where(User.display_name == name))
    assert patient is not None
    return patient


def test_the_profile_form_stores_the_profile_and_builds_the_program(
    clinic: Clinic, clinic_db: Session
) -> None:
    patient = _fresh_patient(clinic, clinic_db, "Form Person")
    with browser_of(clinic, clinic_db, "therapist_a") as browser:
        page = browser.get(f"/patients/{patient.id}")
        assert "Fill in the clinical profile" in page_text(page)
        assert "PUT /api" not in page_text(page)
        response = browser.post(
            f"/patients/{patient.id}/profile", data={**PROFILE_FORM, "then": "build"}
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"/patients/{patient.id}?program=built#program-h"
        again = page_text(browser.get(f"/patients/{patient.id}/profile"))
    clinic_db.expire_all()
    stored = program_service.profile_data(clinic_db.get_one(User, patient.id).profile)
    assert stored == {
        "affected_side": "left",
        "regions": {
            "elbow": {"mas": "1+", "active_movement": True, "painful": False},
            "hand": {"mas": "2", "active_movement": False, "painful": True},
        },
        "can_sit_unsupported": True,
        "can_stand_safely": False,
        "hand_function": "grasp_only",
        "conditions": ["epilepsy"],
        "other_conditions": ["diabetes", "glaucoma"],
        "goals": ["reach"],
        "daily_rep_target": 250,
        "pain_nrs": 3,
        "equipment": ["table", "cup"],
    }
    program = program_service.active_program(clinic_db, patient.id)
    assert program is not None and program.items and program.daily_rep_target == 250
    # The form shows what is stored.
    assert 'name="elbow_involved" value="1"' in again
    assert re.search(r'value="1\+" selected|<option selected>1\+</option>', again)
    assert re.search(r'name="can_stand_safely" value="no"\s*checked', again)


def test_save_only_stores_the_profile_without_building_and_defaults_stay_defaults(
    clinic: Clinic, clinic_db: Session
) -> None:
    patient = _fresh_patient(clinic, clinic_db, "Save Only")
    household = ["table", "towel", "cup", "small_objects", "chair_with_armrests", "sturdy_support"]
    form = {**PROFILE_FORM, "equipment": household, "then": "save"}
    with browser_of(clinic, clinic_db, "therapist_a") as browser:
        response = browser.post(f"/patients/{patient.id}/profile", data=form)
    assert response.headers["location"] == f"/patients/{patient.id}?profile=saved#program-h"
    clinic_db.expire_all()
    row = clinic_db.get_one(User, patient.id).profile
    assert row is not None and row.equipment is None  # the household defaults
    assert program_service.active_program(clinic_db, patient.id) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"affected_side": ""}, "Affected side: please choose one"),
        ({"elbow_involved": "", "hand_involved": ""}, "Regions: tick at least one involved region"),
        ({"can_stand_safely": ""}, "Can stand safely: please choose one"),
        ({"pain_nrs": "11"}, "Pain now: Input should be less than or equal to 10"),
        ({"daily_rep_target": "lots"}, "Daily repetition target: Input should be a valid integer"),
        ({"daily_rep_target": ""}, "Daily repetition target: please give a number"),
        ({"elbow_mas": "5"}, "Elbow mas: Input should be"),
        ({"affected_side": "middle"}, "Affected side: Input should be"),
    ],
)
def test_a_wrong_profile_form_is_shown_again_with_each_reason_and_nothing_is_stored(
    clinic: Clinic, clinic_db: Session, change: dict[str, str], message: str
) -> None:
    patient = clinic_db.get_one(User, clinic.world.ids["patient_q"])
    before = program_service.profile_data(patient.profile)
    with browser_of(clinic, clinic_db, "therapist_b") as browser:
        response = browser.post(f"/patients/{patient.id}/profile", data={**PROFILE_FORM, **change})
    assert response.status_code == 422
    assert message in page_text(response)
    clinic_db.expire_all()
    assert program_service.profile_data(clinic_db.get_one(User, patient.id).profile) == before


@pytest.mark.parametrize("who", ["therapist_b", "caregiver_c", "patient_p"])
def test_only_the_patients_therapist_opens_or_saves_the_profile(
    clinic: Clinic, clinic_db: Session, who: str
) -> None:
    p = clinic.world.ids["patient_p"]
    before = program_service.profile_data(clinic_db.get_one(User, p).profile)
    with browser_of(clinic, clinic_db, who) as browser:
        assert browser.get(f"/patients/{p}/profile").status_code == 403
        assert browser.post(f"/patients/{p}/profile", data=PROFILE_FORM).status_code == 403
        assert browser.get(f"/patients/{p}/people").status_code == 403
    clinic_db.expire_all()
    assert program_service.profile_data(clinic_db.get_one(User, p).profile) == before


def test_the_people_page_adds_links_resets_and_unlinks_caregivers(
    clinic: Clinic, clinic_db: Session
) -> None:
    patient = _fresh_patient(clinic, clinic_db, "People Person")
    base = f"/patients/{patient.id}/people"
    with browser_of(clinic, clinic_db, "therapist_a") as browser:
        created = browser.post(f"{base}/caregivers", data={"display_name": "Cara Giver"})
        assert created.status_code == 201 and _sheet(created)[0][0] == "cara.giver"
        linked = browser.post(f"{base}/caregivers", data={"existing": "caregiver-d"})
        assert linked.headers["location"] == f"{base}?linked=1"
        refused = browser.post(f"{base}/caregivers", data={"existing": "therapist-b"})
        assert refused.status_code == 422
        assert "There is no caregiver account 'therapist-b'" in page_text(refused)
        page = page_text(browser.get(base))
        assert "Cara Giver" in page and "caregiver-d" in page
        reset = browser.post(f"{base}/{clinic.world.ids['caregiver_d']}/first-login")
        assert reset.status_code == 201
        username, password = _sheet(reset)[0]
        assert username == "caregiver-d"
        other = browser.post(f"{base}/{clinic.world.ids['caregiver_c']}/first-login")
        assert other.status_code == 404  # not this patient's caregiver
        link_id = clinic_db.scalar(
            select(CareLink.id).where(
                CareLink.patient_id == patient.id,
                CareLink.carer_id == clinic.world.ids["caregiver_d"],
            )
        )
        removed = browser.post(f"{base}/{link_id}/remove")
        assert removed.headers["location"] == f"{base}?removed=1"
    with clinic.client() as fresh:
        login = fresh.post("/login", data={"username": username, "password": password})
    assert login.status_code == 303
    clinic_db.expire_all()
    carers = set(
        clinic_db.scalars(select(CareLink.carer_id).where(CareLink.patient_id == patient.id))
    )
    assert clinic.world.ids["caregiver_d"] not in carers and len(carers) == 2


def test_the_admin_page_creates_therapists_and_changes_assignments(
    clinic: Clinic, clinic_db: Session
) -> None:
    q = clinic.world.ids["patient_q"]
    with browser_of(clinic, clinic_db, "therapist_a") as browser:
        assert browser.get("/admin/people").status_code == 403
        assert browser.post("/admin/therapists", data={"display_name": "X"}).status_code == 403
    with browser_of(clinic, clinic_db, "admin") as browser:
        made = browser.post("/admin/therapists", data={"display_name": "Dr Page"})
        assert made.status_code == 201 and _sheet(made)[0][0] == "dr.page"
        new_id = clinic_db.scalar(select(User.id).where(User.username == "dr.page"))
        assigned = browser.post(
            "/admin/assignments", data={"patient_id": str(q), "therapist_id": str(new_id)}
        )
        assert assigned.status_code == 303
        page = page_text(browser.get("/admin/people"))
        assert "Dr Page" in page
        bad = browser.post("/admin/assignments", data={"patient_id": "x", "therapist_id": "1"})
        assert bad.status_code == 422 and "choose a patient" in page_text(bad)
        link_id = clinic_db.scalar(
            select(CareLink.id).where(CareLink.patient_id == q, CareLink.carer_id == new_id)
        )
        assert link_id is not None
        assert browser.post(f"/admin/assignments/{link_id}/remove").status_code == 303
        assert browser.post(f"/admin/assignments/{link_id}/remove").status_code == 404
    clinic_db.expire_all()
    assert clinic_db.get(CareLink, link_id) is None


def test_the_patient_list_sorts_filters_and_flags_who_needs_attention(
    clinic: Clinic, clinic_db: Session
) -> None:
    with browser_of(clinic, clinic_db, "therapist_a") as browser:
        by_name = page_text(browser.get("/?sort=name&order=asc"))
        by_name_desc = page_text(browser.get("/?sort=name&order=desc"))
        found = page_text(browser.get("/?q=PATIENT-P"))
        nobody = page_text(browser.get("/?q=zzz"))
        odd = browser.get("/?sort=drop+table&order=sideways")
    names = re.findall(
        r'<th scope="row" role="rowheader"><a href="/patients/\d+">([^<]+)</a>', by_name
    )
    assert names == sorted(names, key=str.lower) and len(names) >= 2
    desc = re.findall(
        r'<th scope="row" role="rowheader"><a href="/patients/\d+">([^<]+)</a>', by_name_desc
    )
    assert desc == names[::-1]
    assert 'aria-sort="ascending"' in by_name and 'aria-sort="descending"' in by_name_desc
    assert "1 of" in found and "patient-p" in found.lower()
    assert "Nobody matches" in nobody
    assert odd.status_code == 200 and 'aria-sort="ascending"' in odd.text  # falls back to name
    assert "no session yet" in by_name


def test_the_patient_list_counts_alerts_by_how_serious_they_are(
    clinic: Clinic, clinic_db: Session
) -> None:
    """A pain of 5 today is an important alert: the list says "1 important", not "1 other"."""
    from openrehab.store.models import PainReport, utc_now

    p = clinic.world.ids["patient_p"]
    report = PainReport(patient_id=p, nrs=5, reported_at=utc_now())
    clinic_db.add(report)
    clinic_db.commit()
    try:
        with browser_of(clinic, clinic_db, "therapist_a") as browser:
            page = page_text(browser.get("/?q=patient-p"))
        cell = re.search(r'data-label="Alerts">(.*?)</td>', page)
        assert cell is not None and "1 important" in cell.group(1), page
        assert "other" not in cell.group(1)
    finally:
        clinic_db.delete(report)
        clinic_db.commit()


def test_a_caregiver_sees_only_their_people_without_clinician_buttons(
    clinic: Clinic, clinic_db: Session
) -> None:
    with browser_of(clinic, clinic_db, "caregiver_c") as browser:
        page = page_text(browser.get("/"))
    assert "People you care for" in page and "New patient" not in page
    assert len(re.findall(r'role="rowheader"', page)) == 1


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("/patients/new", {"therapist_a", "therapist_b", "admin"}),
        ("/patients/{q}/people/{q}/first-login", {"therapist_b", "admin"}),
        ("/admin/therapists", {"admin"}),
        ("/admin/assignments", {"admin"}),
        ("/admin/assignments/{link}/remove", {"admin"}),
    ],
)
def test_workspace_forms_refuse_everyone_else(
    clinic: Clinic, clinic_db: Session, url: str, allowed: set[str]
) -> None:
    """Rule: the forms that make accounts or links (tests/accounts/test_page_access_matrix.py
    lists them as WORKSPACE_FORMS) are refused (403, nothing stored) for every caller but
    the allowed ones, and anonymous callers are sent to log in."""
    q = clinic.world.ids["patient_q"]
    link_id = 0
    if "{link}" in url:  # an assignment of q to a therapist made for this test
        extra = create_user(clinic_db, f"dr-extra-{len(url)}", "quartz-kettle-lamp", "therapist")
        link = CareLink(patient_id=q, carer_id=extra.id, kind=LinkKind.therapist)
        clinic_db.add(link)
        clinic_db.commit()
        link_id = link.id
    path = url.format(q=q, link=link_id)
    data = {"display_name": "Someone New", "patient_id": str(q)}
    data["therapist_id"] = str(clinic.world.ids["therapist_a"])
    with clinic.client() as anonymous:
        response = anonymous.post(path, data=data)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    for who in (
        "admin",
        "therapist_a",
        "therapist_b",
        "caregiver_c",
        "caregiver_d",
        "patient_p",
        "patient_q",
    ):
        if who in allowed:
            continue
        before = clinic.snapshot()
        with browser_of(clinic, clinic_db, who) as browser:
            response = browser.post(path, data=data)
        assert response.status_code == 403, (who, response.status_code)
        changed = {name for name, rows in clinic.snapshot().items() if rows != before.get(name)}
        assert changed <= {"audit_log", "auth_tokens"}, (who, changed)
    for who in sorted(allowed):
        with browser_of(clinic, clinic_db, who) as browser:
            response = browser.post(path, data={**data, "display_name": f"By {who}"})
        assert response.status_code in (201, 303), (who, response.status_code, response.text[:300])
        if path.endswith("/remove"):
            break  # the link is gone after the first


def test_notes_are_written_and_read_by_clinicians_only(clinic: Clinic, clinic_db: Session) -> None:
    p = clinic.world.ids["patient_p"]
    fresh = "Walked to the shop with the stick, first time."
    with browser_of(clinic, clinic_db, "therapist_a") as browser:
        saved = browser.post(f"/patients/{p}/notes", data={"text": fresh})
        empty = browser.post(f"/patients/{p}/notes", data={"text": "  "})
        page = page_text(browser.get(f"/patients/{p}"))
    assert saved.headers["location"] == f"/patients/{p}?note=added#notes-h"
    assert empty.status_code == 422 and "write the note" in page_text(empty)
    assert fresh in page and "therapist-a" in page
    for who in ("caregiver_c", "patient_p"):
        with browser_of(clinic, clinic_db, who) as browser:
            assert fresh not in page_text(browser.get(f"/patients/{p}"))
            assert browser.post(f"/patients/{p}/notes", data={"text": "x"}).status_code == 403
