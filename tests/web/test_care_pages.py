"""Care in the pages: the pain tap's answer and undo, the care page's forms and words, the
alerts page. One clinic for the module (tests/conftest.py); each test makes its own records.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.clock import local_date
from openrehab.store.models import Assessment, PainReport, TherapyEvent, User, utc_now
from support import Clinic, browser_of, page_text


@pytest.fixture
def p(clinic: Clinic) -> int:
    return clinic.world.ids["patient_p"]


def _browser(clinic: Clinic, db: Session, who: str) -> Any:
    return browser_of(clinic, db, who)


def test_a_pain_tap_answers_what_to_do_now_with_a_minute_to_undo(
    clinic: Clinic, clinic_db: Session, p: int
) -> None:
    """Rule: tapping 7 gets "stop for today", the urgent signs and an undo button, instead of
    only "thank you"; undo marks the report withdrawn and says so."""
    browser = _browser(clinic, clinic_db, "patient_p")
    tapped = browser.post(f"/patients/{p}/pain", data={"nrs": "7"})
    assert tapped.status_code == 303
    location = tapped.headers["location"]
    assert location.startswith("/?pain=")
    report_id = int(location.split("=")[1].split("#")[0])
    page = page_text(browser.get(location))
    assert (
        "Get help at once" in page
        and "Call your emergency number for chest pain" in page
        and "Undo: I tapped 7 by mistake" in page
    )
    undone = browser.post(f"/patients/{p}/pain/{report_id}/undo")
    assert undone.status_code == 303 and "pain=undone" in undone.headers["location"]
    clinic_db.expire_all()
    assert clinic_db.get_one(PainReport, report_id).withdrawn_at is not None
    assert "was undone" in page_text(browser.get(undone.headers["location"]))


def test_the_undo_button_is_gone_after_a_minute(clinic: Clinic, clinic_db: Session, p: int) -> None:
    browser = _browser(clinic, clinic_db, "patient_p")
    location = browser.post(f"/patients/{p}/pain", data={"nrs": "5"}).headers["location"]
    report = clinic_db.get_one(PainReport, int(location.split("=")[1].split("#")[0]))
    report.reported_at = utc_now() - timedelta(seconds=61)
    clinic_db.commit()
    page = page_text(browser.get(location))
    assert "Undo" not in page and "Stop" in page


def test_pain_of_8_closes_the_day_on_every_page_that_starts_exercise_until_undone(
    clinic: Clinic, clinic_db: Session, p: int
) -> None:
    """Rule S5 on the pages: after a score of 8 the today page says why there is nothing to
    start (to the carer in the third person) and shows no Start button; the rhythm page says
    "Rest today"; the session page asks about pain first. Undoing the score opens the day."""
    patient, carer = (_browser(clinic, clinic_db, who) for who in ("patient_p", "caregiver_c"))
    therapist = _browser(clinic, clinic_db, "therapist_a")
    profile = {
        "affected_side": "left",
        "regions": {"elbow": {"mas": "1", "active_movement": True}},
        "can_sit_unsupported": True,
        "can_stand_safely": False,
    }
    assert therapist.put(f"/api/patients/{p}/profile", json=profile).status_code == 200
    built = therapist.post(f"/patients/{p}/program", data={"daily_rep_target": ""})
    assert built.status_code == 303
    start = f'href="/patients/{p}/session?all=1"'
    assert start in patient.get("/").text
    tapped = patient.post(f"/patients/{p}/pain", data={"nrs": "8"})
    report_id = int(tapped.headers["location"].split("=")[1].split("#")[0])
    own = patient.get("/")
    assert start not in own.text and "start-item" not in own.text
    assert "Your pain was 8 out of 10 at" in page_text(own)
    about = page_text(carer.get(f"/patients/{p}"))
    assert "patient-p's pain was 8 out of 10 at" in about and "patient-p should rest today" in about
    closed = patient.get(f"/patients/{p}/rhythm")
    assert closed.status_code == 409 and "Rest today" in page_text(closed)
    # The session page opens on its pain question (a new score of 7+ starts nothing there).
    session = patient.get(f"/patients/{p}/session?all=1")
    assert session.status_code == 200 and '"ask": true' in session.text
    assert patient.post(f"/patients/{p}/pain/{report_id}/undo").status_code == 303
    reopened = patient.get("/")
    assert start in reopened.text and "Rest today" not in page_text(reopened)
    assert patient.get(f"/patients/{p}/rhythm").status_code == 200
    # "Why this program": the rules (grades, rule numbers, references) for the therapist only.
    why = page_text(therapist.get(f"/patients/{p}"))
    assert "[R" in why and "Why:" in why and "were chosen for" not in why
    for reader in (patient, carer):
        plain = page_text(reader.get(f"/patients/{p}"))
        assert "were chosen for" in plain and "[R" not in plain and "Why:" not in plain


def test_a_caregiver_is_asked_about_the_patient_in_the_third_person(
    clinic: Clinic, clinic_db: Session, p: int
) -> None:
    carer = page_text(_browser(clinic, clinic_db, "caregiver_c").get(f"/patients/{p}"))
    own = page_text(_browser(clinic, clinic_db, "patient_p").get("/"))
    assert "How much pain does patient-p have now?" in carer
    assert "How much pain do you have now?" in own


def test_the_care_page_speaks_plainly_to_the_patient_and_clinically_to_the_therapist(
    clinic: Clinic, clinic_db: Session, p: int
) -> None:
    """Rule: clinical words stay on the therapist's side: the patient reads "stiffness test"
    and "slight stiffness", never "MAS 1+" or "R1"."""
    therapist = _browser(clinic, clinic_db, "therapist_a")
    form = {"kind": "mas", "region": "elbow", "side": "left", "value": "1+"}
    saved = therapist.post(f"/patients/{p}/care/assessments", data=form)
    assert saved.status_code == 303, saved.text
    tardieu = {
        "kind": "tardieu",
        "region": "elbow",
        "side": "left",
        "r1_deg": "80",
        "r2_deg": "140",
    }
    assert therapist.post(f"/patients/{p}/care/assessments", data=tardieu).status_code == 303
    staff = page_text(therapist.get(f"/patients/{p}/care"))
    mine = page_text(_browser(clinic, clinic_db, "patient_p").get(f"/patients/{p}/care"))
    assert "MAS 1+" in staff and "R1 80°" in staff
    assert "slight stiffness through part of the movement" in mine
    for clinical_word in ("MAS", "Ashworth", "Tardieu", "R1", "R2"):
        assert clinical_word not in mine, clinical_word
    # The catch-angle measurement is done by a helper, so it is offered to them, not to the
    # patient alone.
    carer = page_text(_browser(clinic, clinic_db, "caregiver_c").get(f"/patients/{p}/care"))
    assert f"/patients/{p}/tardieu" in carer and f"/patients/{p}/tardieu" not in mine


def test_a_bad_assessment_form_is_refused_with_its_reason_and_stores_nothing(
    clinic: Clinic, clinic_db: Session, p: int
) -> None:
    therapist = _browser(clinic, clinic_db, "therapist_a")
    count = len(clinic_db.scalars(select(Assessment)).all())
    refused = therapist.post(
        f"/patients/{p}/care/assessments", data={"kind": "rom", "region": "elbow", "side": "left"}
    )
    assert refused.status_code == 422 and "a range-of-motion assessment needs" in page_text(refused)
    clinic_db.expire_all()
    assert len(clinic_db.scalars(select(Assessment)).all()) == count


def test_the_injection_form_stores_each_muscle_and_the_units(
    clinic: Clinic, clinic_db: Session, p: int
) -> None:
    therapist = _browser(clinic, clinic_db, "therapist_a")
    form = {
        "kind": "botulinum_toxin",
        "started_on": str(local_date() - timedelta(days=200)),
        "muscles": "biceps brachii, brachioradialis",
        "units": "150",
        "injector": "Dr Rao",
    }
    assert therapist.post(f"/patients/{p}/care/therapies", data=form).status_code == 303
    clinic_db.expire_all()
    stored = clinic_db.scalars(select(TherapyEvent).order_by(TherapyEvent.id.desc())).first()
    assert stored is not None and stored.details["muscles"] == ["biceps brachii", "brachioradialis"]
    assert (stored.details["units"], stored.details["injector"]) == (150.0, "Dr Rao")


def test_an_injection_too_soon_is_stored_with_its_warning_shown_to_the_therapist(
    clinic: Clinic, clinic_db: Session, p: int
) -> None:
    """Rule T1 on the page: an injection 13 days after another is stored (it happened) and
    the therapist sees why it was too soon, on the page after saving and in the therapy list
    (stored with the record); the patient's page does not show the clinical warning."""
    therapist = _browser(clinic, clinic_db, "therapist_a")
    first, second = local_date() - timedelta(days=600), local_date() - timedelta(days=587)
    for on in (first, second):
        form = {
            "kind": "botulinum_toxin",
            "started_on": str(on),
            "muscles": "soleus",
            "units": "100",
        }
        saved = therapist.post(f"/patients/{p}/care/therapies", data=form)
        assert saved.status_code == 303
    location = saved.headers["location"]
    stored = clinic_db.scalars(select(TherapyEvent).order_by(TherapyEvent.id.desc())).first()
    assert stored is not None and stored.started_on == second
    assert f"saved=therapy-warning&therapy={stored.id}" in location
    (warning,) = stored.details["warnings"]
    assert f"is 13 days from the injection of {first.isoformat()}" in warning
    page = page_text(therapist.get(location))
    assert "Saved, with a warning:" in page and warning in page
    assert f"Warning when recorded: {warning}" in page_text(therapist.get(f"/patients/{p}/care"))
    patient = _browser(clinic, clinic_db, "patient_p")
    patient_page = page_text(patient.get(location))
    assert "13 days from" not in patient_page and "Warning when recorded" not in patient_page
    # ... nor in the API: the stored warning is in clinical words, for clinicians.
    api = f"/api/patients/{p}/therapy-events"
    listed = {e["id"]: e["details"] for e in therapist.get(api).json()}
    assert listed[stored.id]["warnings"] == [warning]
    plain = {e["id"]: e["details"] for e in patient.get(api).json()}
    assert "warnings" not in plain[stored.id] and plain[stored.id]["muscles"] == ["soleus"]
    clinic_db.delete(stored)
    clinic_db.delete(
        clinic_db.scalars(
            select(TherapyEvent).where(
                TherapyEvent.patient_id == p, TherapyEvent.started_on == first
            )
        ).one()
    )
    clinic_db.commit()


def test_the_stimulation_form_refuses_a_contraindication_on_the_page(
    clinic: Clinic, clinic_db: Session, p: int
) -> None:
    therapist = _browser(clinic, clinic_db, "therapist_a")
    form = {
        "kind": "electrical_stimulation",
        "started_on": str(local_date()),
        "site": "forearm",
        "site_conditions": "broken_skin",
    }
    refused = therapist.post(f"/patients/{p}/care/therapies", data=form)
    assert refused.status_code == 409 and "skin" in page_text(refused)


def test_the_dose_raise_while_an_injection_works_shows_on_the_patients_day(
    clinic: Clinic, clinic_db: Session
) -> None:
    """Rule: during the injection's effect window the daily target rises by the therapist's
    percentage and the patient is told why; 0 % turns it off."""
    q = clinic.world.ids["patient_q"]
    therapist = _browser(clinic, clinic_db, "therapist_b")
    injection = {
        "kind": "botulinum_toxin",
        "started_on": str(local_date() - timedelta(days=14)),
        "muscles": "gastrocnemius",
        "units": "200",
    }
    assert therapist.post(f"/patients/{q}/care/therapies", data=injection).status_code == 303
    patient = clinic_db.get_one(User, q)
    base = patient.profile.daily_rep_target if patient.profile else 300
    assert (
        therapist.post(f"/patients/{q}/care/dose-raise", data={"raise_pct": "50"}).status_code
        == 303
    )
    raised = page_text(_browser(clinic, clinic_db, "patient_q").get("/"))
    assert f"of {round(base * 1.5)} repetitions" in raised and "injection" in raised
    assert (
        therapist.post(f"/patients/{q}/care/dose-raise", data={"raise_pct": "0"}).status_code == 303
    )
    plain = page_text(_browser(clinic, clinic_db, "patient_q").get("/"))
    assert f"of {base} repetitions" in plain


def test_the_alerts_page_lists_only_ones_own_patients(
    clinic: Clinic, clinic_db: Session, p: int
) -> None:
    _browser(clinic, clinic_db, "patient_p").post(f"/patients/{p}/pain", data={"nrs": "6"})
    mine = page_text(_browser(clinic, clinic_db, "therapist_a").get("/alerts"))
    other = page_text(_browser(clinic, clinic_db, "therapist_b").get("/alerts"))
    assert "patient-p" in mine and "pain" in mine.lower()
    assert re.search(r"\[S\d+: [a-z][^\]]+\]", mine), "a rule is cited with its title"
    assert "patient-p" not in other
    redirect = _browser(clinic, clinic_db, "patient_p").get("/alerts")
    assert redirect.status_code == 303 and redirect.headers["location"].endswith("/care#alerts-h")


def test_the_baclofen_form_stores_each_dose_and_a_bad_one_is_refused(
    clinic: Clinic, clinic_db: Session, p: int
) -> None:
    therapist = _browser(clinic, clinic_db, "therapist_a")
    form = {"kind": "baclofen", "started_on": "2026-01-05", "route": "oral"}
    saved = therapist.post(
        f"/patients/{p}/care/therapies", data=form | {"doses": "08:00 10, 20:00 5mg"}
    )
    assert saved.status_code == 303
    clinic_db.expire_all()
    stored = clinic_db.scalars(select(TherapyEvent).order_by(TherapyEvent.id.desc())).first()
    assert stored is not None and stored.details["doses"] == [
        {"time": "08:00", "mg": 10.0},
        {"time": "20:00", "mg": 5.0},
    ]
    refused = therapist.post(f"/patients/{p}/care/therapies", data=form | {"doses": "8 am ten"})
    assert refused.status_code == 422
    said = page_text(refused)
    assert "Dose 1 time: write the time as hours:minutes on the 24-hour clock" in said
    assert "pattern" not in said and "doses.0" not in said


def test_an_assessment_dated_on_the_form_is_stored_on_that_local_day(
    clinic: Clinic, clinic_db: Session, p: int
) -> None:
    therapist = _browser(clinic, clinic_db, "therapist_a")
    form = {"kind": "rom", "region": "knee", "side": "left", "rom_deg": "95"}
    day = local_date() - timedelta(days=3)
    assert (
        therapist.post(
            f"/patients/{p}/care/assessments", data=form | {"measured_at": str(day)}
        ).status_code
        == 303
    )
    clinic_db.expire_all()
    stored = clinic_db.scalars(select(Assessment).where(Assessment.region == "knee")).one()
    assert local_date(stored.measured_at) == day and stored.rom_deg == 95.0
    refused = therapist.post(
        f"/patients/{p}/care/assessments", data=form | {"measured_at": "yesterday"}
    )
    assert refused.status_code == 422


def test_the_care_page_charts_each_exercises_range_and_smoothness_with_a_table(
    clinic: Clinic, clinic_db: Session, p: int
) -> None:
    """Practice trends: a sparkline of range and of smoothness per exercise, the numbers in
    a table behind them; clinical words for the therapist, plain ones for the patient."""
    from openrehab.exercises.library import load_library
    from support import fresh_program, practise_once

    program = fresh_program(clinic_db, p)
    name = load_library().get(program.items[0].exercise_id).name
    practise_once(clinic_db, p, program.items[0])
    pages = {}
    for who in ("therapist_a", "patient_p"):
        with browser_of(clinic, clinic_db, who) as browser:
            pages[who] = page_text(browser.get(f"/patients/{p}/care"))
    therapist, patient = pages["therapist_a"], pages["patient_p"]
    assert "Practice: range and smoothness per exercise" in therapist and "SPARC" in therapist
    assert f"{name} ({program.items[0].side})" in therapist
    assert therapist.count('class="chart spark"') >= 2
    assert "How your exercises are going" in patient and "SPARC" not in patient
    # first and last daily medians beside the line (the set's median range is 41 deg)
    assert "41 \u2192 41 \u00b0" in therapist
    assert '<caption class="visually-hidden">' + name in patient


def test_practice_ranges_read_in_degrees_or_centimetres() -> None:
    """A range in metres is shown in whole centimetres (0.137 m was "0 m"), degrees whole."""
    from openrehab.web.routes.care_pages import NO_VALUE, range_text

    assert range_text(0.137, "m") == "14"
    assert range_text(47.6, "deg") == "48"
    assert range_text(0.204, "norm") == "0.20"
    assert range_text(None, "deg") == NO_VALUE
