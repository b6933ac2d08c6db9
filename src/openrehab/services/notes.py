"""A therapist's notes about a patient: added by whoever prescribes for the patient (their
therapists, admins), read by them, listed in the progress report. Notes are kept (no edit or
delete: a clinical record is corrected by a later note)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.accounts.service import audit
from openrehab.services import ServiceError
from openrehab.store.models import PatientNote, User

MAX_NOTE_CHARS = 4000


def add_note(db: Session, patient: User, by: User, text: str) -> PatientNote:
    """Store a note (stripped; 1-4000 characters), audited."""
    text = text.strip()
    if not text:
        raise ServiceError("Please write the note first.", "text")
    if len(text) > MAX_NOTE_CHARS:
        raise ServiceError(f"A note has at most {MAX_NOTE_CHARS} characters.", "text")
    note = PatientNote(patient_id=patient.id, author_id=by.id, text=text)
    db.add(note)
    db.flush()
    audit(db, by, "note.add", "patient_note", note.id, {"patient": patient.id})
    return note


def notes_of(db: Session, patient_id: int, limit: int = 50) -> list[tuple[PatientNote, str]]:
    """The newest notes with their author's name."""
    rows = db.execute(
        select(PatientNote, User.display_name)
        .outerjoin(User, User.id == PatientNote.author_id)
        .where(PatientNote.patient_id == patient_id)
        .order_by(PatientNote.created_at.desc(), PatientNote.id.desc())
        .limit(limit)
    )
    return [(note, name or "a former account") for note, name in rows]
