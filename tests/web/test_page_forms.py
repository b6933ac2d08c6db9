"""The therapist's forms on a patient's page and the pain buttons (web/routes/program_pages.py
and pages.py): how the forms read numbers, that only what the therapist changed is stored,
and where each form returns to. A form that stored the planner's values as the therapist's,
or a number out of range, would change a patient's program without anyone deciding it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.services import program as program_service
from openrehab.store.models import PainReport, ProgramItem
from support import Clinic, browser_of, fresh_program, last_audit, page_text


# --- the therapist's forms ----------------------------------------------------------------------
def _item_form(item: ProgramItem, **changes: str) -> dict[str, str]:
    """The change form as the page fills it in (the item's current values), with ``changes``."""
    form = {
        "action": "change",
        "mode": item.mode,
        "side": item.side,
        "sets": str(item.sets),
        "reps": str(item.reps),
        "level": str(item.level),
        "rest_s": str(item.rest_s),
        "reason": "review",
    }
    return {**form, **changes}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sets", "two", "sets must be a whole number"),
        ("sets", "0", "sets must be between 1 and 50"),
        ("sets", "51", "sets must be between 1 and 50"),
        ("reps", "101", "reps must be between 1 and 100"),
        ("level", "0", "level must be between 1 and 50"),
        ("rest_s", "-1", "rest_s must be between 0 and 600"),
        ("rest_s", "601", "rest_s must be between 0 and 600"),
        ("reason", " ", "Please say why (it is shown with the change)."),
    ],
)
def test_the_change_form_refuses_numbers_out_of_range_with_the_reason(
    field: str, value: str, message: str, clinic: Clinic, clinic_db: Session
) -> None:
    """Rule: the form's numbers must be whole and within their range (sets 1-50, reps 1-100,
    level 1-50, rest 0-600 s) and a reason is required; else the page is shown again (422)
    with the reason, and the program is not changed."""
    program = fresh_program(clinic_db, clinic.world.ids["patient_p"])
    item = program.items[0]
    url = f"/patients/{program.patient_id}/program/items/{item.id}"
    with browser_of(clinic, clinic_db, "therapist_a") as browser:
        response = browser.post(url, data=_item_form(item, **{field: value}))
    assert response.status_code == 422 and message in page_text(response)
    clinic_db.expire_all()
    assert clinic_db.get_one(ProgramItem, item.id).program.active


@pytest.mark.parametrize(
    ("field", "value"), [("sets", "1"), ("sets", "50"), ("reps", "100"), ("rest_s", "0")]
)
def test_only_what_differs_from_the_form_is_a_change(
    field: str, value: str, clinic: Clinic, clinic_db: Session
) -> None:
    """Rule: the form shows the current values; only a value that differs becomes the
    therapist's change (the rest stay the planner's); the same values again change nothing
    (422, "Nothing to change"). The range ends are accepted."""
    program = fresh_program(clinic_db, clinic.world.ids["patient_p"])
    item = program.items[0]
    if str(getattr(item, field)) == value:
        pytest.skip("already the planner's value")
    url = f"/patients/{program.patient_id}/program/items/{item.id}"
    with browser_of(clinic, clinic_db, "therapist_a") as browser:
        same = browser.post(url, data=_item_form(item))
        assert same.status_code == 422 and "Nothing to change" in same.text
        changed = browser.post(url, data=_item_form(item, **{field: value}))
    assert changed.status_code == 303
    assert changed.headers["location"] == (
        f"/patients/{program.patient_id}?program=changed#program-h"
    )
    clinic_db.expire_all()
    current = clinic_db.scalars(
        select(ProgramItem)
        .where(ProgramItem.exercise_id == item.exercise_id, ProgramItem.side == item.side)
        .order_by(ProgramItem.id.desc())
    ).first()
    assert current is not None and str(getattr(current, field)) == value
    overrides = current.program.overrides["items"]
    assert [
        {k: v for k, v in o.items() if k in {"action", field, "mode", "level"}} for o in overrides
    ] == [{"action": "change", field: int(value)}]
    assert last_audit(clinic_db, "program.item.change")[1:] == (
        "program_item",
        str(item.id),
        {"reason": "review"},
    )


def test_a_pain_button_goes_back_to_the_page_it_came_from(
    clinic: Clinic, clinic_db: Session
) -> None:
    """Rule: the patient's own pain button returns to their start page, a carer's to the
    patient's page, each showing the answer to that report; the report is stored under the
    patient with its reporter and audited with the patient and the rating."""
    p = clinic.world.ids["patient_p"]
    for who, back in (("patient_p", "/"), ("caregiver_c", f"/patients/{p}")):
        with browser_of(clinic, clinic_db, who) as browser:
            response = browser.post(f"/patients/{p}/pain", data={"nrs": "4"})
        report = clinic_db.scalars(select(PainReport).order_by(PainReport.id.desc())).first()
        assert report is not None
        assert response.headers["location"] == f"{back}?pain={report.id}#pain-answer-h"
        assert (report.patient_id, report.reported_by_id, report.nrs) == (
            p,
            clinic.world.ids[who],
            4,
        )
        assert last_audit(clinic_db, "pain.report") == (
            clinic.world.ids[who],
            "pain_report",
            str(report.id),
            {"patient": p, "nrs": 4},
        )


def test_the_build_form_sets_the_daily_target_only_when_given(
    clinic: Clinic, clinic_db: Session
) -> None:
    """Rule: the build form's daily target is kept when left empty and set when given (0 to
    2000; outside that the page says the range and nothing is built); a build is signed by the
    therapist, audited, and the browser returns to the program."""
    p = clinic.world.ids["patient_p"]
    fresh_program(clinic_db, p)
    url = f"/patients/{p}/program"
    with browser_of(clinic, clinic_db, "therapist_a") as browser:
        refused = browser.post(url, data={"daily_rep_target": "2001"})
        assert refused.status_code == 422
        assert "daily_rep_target must be between 0 and 2000" in page_text(refused)
        built = browser.post(url, data={"daily_rep_target": "2000"})
        assert built.headers["location"] == f"/patients/{p}?program=built#program-h"
        target = program_service.active_program(clinic_db, p)
        assert target is not None and target.daily_rep_target == 2000
        assert browser.post(url, data={"daily_rep_target": ""}).status_code == 303
    clinic_db.expire_all()
    kept = program_service.active_program(clinic_db, p)
    assert kept is not None and kept.id != target.id and kept.daily_rep_target == 2000
    assert kept.note == "Built from the profile by therapist-a."
    assert kept.created_by_id == clinic.world.ids["therapist_a"]
    assert last_audit(clinic_db, "program.build")[1:3] == ("program", str(kept.id))


def test_the_add_form_adds_the_exercise_with_the_reason(clinic: Clinic, clinic_db: Session) -> None:
    """Rule: adding needs a reason (else the page says so and nothing is added); an added
    exercise is in the new program, audited with its id, and the browser returns to the
    program."""
    p = clinic.world.ids["patient_p"]
    fresh_program(clinic_db, p)
    url = f"/patients/{p}/program/items"
    with browser_of(clinic, clinic_db, "therapist_a") as browser:
        refused = browser.post(url, data={"exercise_id": "toe_curls", "reason": " "})
        assert refused.status_code == 422
        assert "Please say why (it is shown with the change)." in page_text(refused)
        added = browser.post(url, data={"exercise_id": "toe_curls", "reason": "cramps", "side": ""})
    assert added.headers["location"] == f"/patients/{p}?program=added#program-h"
    clinic_db.expire_all()
    program = program_service.active_program(clinic_db, p)
    assert program is not None
    assert "toe_curls" in {item.exercise_id for item in program.items}
    assert last_audit(clinic_db, "program.item.add")[1:] == (
        "program",
        str(program.id),
        {"exercise": "toe_curls"},
    )
