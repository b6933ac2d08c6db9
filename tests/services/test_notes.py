"""A therapist's notes (services.notes): what is stored, the limits, newest first, and the
notes of the period in the progress report."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from openrehab.reports.data import collect
from openrehab.services import ServiceError
from openrehab.services.notes import MAX_NOTE_CHARS, add_note, notes_of
from openrehab.store.models import PatientNote, User
from support import World, last_audit


def test_a_note_is_stored_stripped_and_audited_newest_first(db: Session, world: World) -> None:
    patient = db.get_one(User, world.ids["patient_p"])
    therapist = db.get_one(User, world.ids["therapist_a"])
    first = add_note(db, patient, therapist, "  Tone lower after the injection.  ")
    first.created_at = datetime(2026, 5, 1, 9, tzinfo=UTC)
    second = add_note(db, patient, therapist, "Splint fits.\nSkin fine.")
    db.commit()
    assert first.text == "Tone lower after the injection."
    listed = notes_of(db, patient.id)
    assert [(n.id, author) for n, author in listed] == [
        (second.id, "therapist-a"),
        (first.id, "therapist-a"),
    ]
    assert notes_of(db, world.ids["patient_q"]) == []
    user_id, target, target_id, detail = last_audit(db, "note.add")
    assert (user_id, target, target_id, detail) == (
        therapist.id,
        "patient_note",
        str(second.id),
        {"patient": patient.id},
    )


@pytest.mark.parametrize(
    ("text", "message"), [("   ", "write the note"), ("x" * (MAX_NOTE_CHARS + 1), "at most 4000")]
)
def test_an_empty_or_too_long_note_is_refused(
    db: Session, world: World, text: str, message: str
) -> None:
    patient = db.get_one(User, world.ids["patient_p"])
    with pytest.raises(ServiceError, match=message):
        add_note(db, patient, db.get_one(User, world.ids["therapist_a"]), text)
    assert db.query(PatientNote).count() == 0
    add_note(db, patient, db.get_one(User, world.ids["therapist_a"]), "x" * MAX_NOTE_CHARS)


def test_the_report_lists_the_notes_of_its_period(db: Session, world: World) -> None:
    patient = db.get_one(User, world.ids["patient_p"])
    therapist = db.get_one(User, world.ids["therapist_a"])
    inside = add_note(db, patient, therapist, "In the period")
    inside.created_at = datetime(2026, 5, 10, 12, tzinfo=UTC)
    before = add_note(db, patient, therapist, "Before it")
    before.created_at = datetime(2026, 4, 1, 12, tzinfo=UTC)
    db.commit()
    data = collect(db, patient, date(2026, 5, 1), date(2026, 5, 31))
    assert data.notes == [(date(2026, 5, 10), "therapist-a: In the period")]
    assert collect(db, patient, date(2026, 4, 1), date(2026, 4, 1) + timedelta(days=1)).notes == [
        (date(2026, 4, 1), "therapist-a: Before it")
    ]
