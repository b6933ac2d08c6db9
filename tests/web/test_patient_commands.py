"""``openrehab patients`` rows (web/patient_commands.py): the last session is the latest start,
therapists only (not caregivers)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from openrehab.store import records
from openrehab.web.patient_commands import patient_rows
from support import World


def test_rows_name_therapists_only_and_the_latest_session(db: Session, world: World) -> None:
    p = world.ids["patient_p"]
    for day in (3, 9, 5):
        records.start_session(db, p).started_at = datetime(2026, 4, day, 10, tzinfo=UTC)
    db.commit()
    rows = {r["username"]: r for r in patient_rows(db)}
    assert set(rows) == {"patient-p", "patient-q"}
    assert rows["patient-p"]["therapists"] == ["therapist-a"]  # caregiver-c is not listed
    assert rows["patient-p"]["last_session_at"] == "2026-04-09T10:00:00+00:00"
    assert rows["patient-q"] == {
        "id": world.ids["patient_q"],
        "username": "patient-q",
        "name": "patient-q",
        "therapists": ["therapist-b"],
        "last_session_at": None,
    }
