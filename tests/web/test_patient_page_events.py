"""The patient's page lists what changed (levels, pain, rest prompts, unlocks), newest first
and at most eight, never the bookkeeping of every set; a two-sided item is changed on "both"."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.services import program as program_service
from openrehab.services import progress as progress_service
from openrehab.store import records
from openrehab.store.models import ProgressEvent, User
from support import Clinic, browser_of, fresh_program, page_text


def _sets(db: Session, patient_id: int, count: int) -> None:
    """``count`` sets of 8 full reps of the elbow flexion, each ended through progression."""
    for _ in range(count):
        exercise_session = records.start_session(db, patient_id)
        exercise_set = records.start_set(
            db, exercise_session, exercise_id="elbow_flexion", side="left", mode="active"
        )
        rows = [{"start_s": 3.0 * i, "end_s": 3.0 * i + 2.5, "rom": 100.0} for i in range(8)]
        records.add_repetitions(db, exercise_set, rows)
        progress_service.finish_set(db, exercise_set)
    db.commit()


def test_the_page_lists_the_eight_latest_changes_and_no_set_bookkeeping(
    clinic: Clinic, clinic_db: Session
) -> None:
    p = clinic.world.ids["patient_q"]
    fresh_program(clinic_db, p)
    for level in (2, 3, 4, 5, 6, 7, 8, 2, 3, 4):  # ten events that are shown
        progress_service.set_level(
            clinic_db, p, "elbow_flexion", "left", level, by=None, reason=None
        )
    _sets(clinic_db, p, 6)  # newer still: six sets (each a "set" event) and a level up
    with browser_of(clinic, clinic_db, "therapist_b") as browser:
        response = browser.get(f"/patients/{p}")
    assert response.status_code == 200
    page = page_text(response)
    listed = re.findall(r'<li class="event-([a-z_]+)">', page)
    stored = clinic_db.scalars(
        select(ProgressEvent).where(ProgressEvent.patient_id == p).order_by(ProgressEvent.id.desc())
    ).all()
    assert [e.kind for e in stored[:6]].count("set") >= 5
    expected = [e for e in stored if e.kind != "set"][:8]
    assert listed == [e.kind for e in expected]
    assert "level_up" in listed and "therapist_level" in listed
    for event in expected:
        assert event.reason in page


def test_a_two_sided_item_is_changed_on_both_sides(clinic: Clinic, clinic_db: Session) -> None:
    p = clinic.world.ids["patient_q"]
    patient = clinic_db.get(User, p)
    assert patient is not None
    fresh_program(clinic_db, p)
    program = program_service.build_program(
        clinic_db,
        patient,
        by=None,
        new_overrides=[{"action": "add", "exercise": "scapular_retraction"}],
    )
    clinic_db.commit()
    item = next(i for i in program.items if i.exercise_id == "scapular_retraction")
    with browser_of(clinic, clinic_db, "therapist_b") as browser:
        page = page_text(browser.get(f"/patients/{p}"))
    entry = page[page.index(f'id="item-{item.id}"') :]
    entry = entry[: entry.index("</li>")]
    assert (
        f'<select id="side-{item.id}" name="side"><option value="both" selected>both</option>'
        "</select>"
    ) in entry


def test_only_those_who_prescribe_are_told_the_profile_is_incomplete(
    clinic: Clinic, clinic_db: Session
) -> None:
    """patient_p has no clinical profile yet in this clinic: the therapist is told what is
    missing; the patient and their carer are not shown the therapist's to-do."""
    p = clinic.world.ids["patient_p"]
    pages = {}
    for who in ("therapist_a", "patient_p", "caregiver_c"):
        with browser_of(clinic, clinic_db, who) as browser:
            response = browser.get(f"/patients/{p}")
        assert response.status_code == 200
        pages[who] = page_text(response)
    assert "The clinical profile is not filled in yet" in pages["therapist_a"]
    assert f'href="/patients/{p}/profile"' in pages["therapist_a"]  # a form, not the API
    assert "field 'regions'" not in pages["therapist_a"] and "PUT /api" not in pages["therapist_a"]
    for who in ("patient_p", "caregiver_c"):
        assert "not filled in yet" not in pages[who]
        assert f'href="/patients/{p}/profile"' not in pages[who]


def test_a_change_of_a_retired_exercise_is_still_listed(clinic: Clinic, clinic_db: Session) -> None:
    """An exercise taken out of the library leaves its history readable: the change is
    listed with its words, without an exercise name."""
    p = clinic.world.ids["patient_q"]
    clinic_db.add(
        ProgressEvent(
            patient_id=p,
            exercise_id="retired_exercise",
            side="left",
            kind="level_up",
            from_level=1,
            to_level=2,
            reason="Level 1 -> 2 because the old exercise got easier.",
        )
    )
    clinic_db.commit()
    with browser_of(clinic, clinic_db, "therapist_b") as browser:
        response = browser.get(f"/patients/{p}")
    assert response.status_code == 200
    assert '<li class="event-level_up"><small>' in page_text(response)
    entry = page_text(response).split("Level 1 -> 2 because the old exercise got easier.")[0]
    assert entry.rstrip().endswith("</small>")
