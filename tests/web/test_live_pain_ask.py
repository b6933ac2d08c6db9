"""Pain asked again before the next live session (web/routes/session_pages.py ``pain_ask``).

The set-up screen first asks "How much pain ...?" when the patient's latest pain report (not
undone) was 4 or more within the last 3 days, or the latest finished set was stopped for pain.
The page hands the question to its script in the words of whoever is looking.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from openrehab.store.models import (
    ExerciseSession,
    ExerciseSet,
    PainReport,
    Repetition,
    utc_now,
)
from openrehab.web.routes.session_pages import PAIN_ASK_WITHIN, pain_ask
from support import Clinic, browser_of

NOW = utc_now().replace(microsecond=0)


@pytest.fixture
def patient(clinic: Clinic, clinic_db: Session) -> Iterator[int]:
    """patient_p with no pain reports and no sessions."""
    p = clinic.world.ids["patient_p"]

    def wipe() -> None:
        sessions = select(ExerciseSession.id).where(ExerciseSession.patient_id == p)
        sets = select(ExerciseSet.id).where(ExerciseSet.session_id.in_(sessions))
        clinic_db.execute(delete(PainReport).where(PainReport.patient_id == p))
        clinic_db.execute(delete(Repetition).where(Repetition.set_id.in_(sets)))
        clinic_db.execute(delete(ExerciseSet).where(ExerciseSet.session_id.in_(sessions)))
        clinic_db.execute(delete(ExerciseSession).where(ExerciseSession.patient_id == p))
        clinic_db.commit()

    wipe()
    yield p
    wipe()


def _pain(db: Session, p: int, nrs: int, at: datetime, withdrawn: bool = False) -> None:
    db.add(
        PainReport(
            patient_id=p,
            reported_by_id=p,
            nrs=nrs,
            reported_at=at,
            withdrawn_at=at + timedelta(seconds=10) if withdrawn else None,
        )
    )
    db.commit()


def _set(db: Session, p: int, ended_at: datetime, pain_reported: bool) -> None:
    session = ExerciseSession(patient_id=p, started_at=ended_at - timedelta(minutes=5))
    db.add(session)
    db.flush()
    db.add(
        ExerciseSet(
            session_id=session.id,
            exercise_id="elbow_flexion",
            side="left",
            mode="active",
            started_at=ended_at - timedelta(minutes=2),
            ended_at=ended_at,
            pain_reported=pain_reported,
        )
    )
    db.commit()


def test_no_pain_on_record_asks_nothing(clinic_db: Session, patient: int) -> None:
    assert pain_ask(clinic_db, patient, NOW) is False


@pytest.mark.parametrize(("nrs", "asked"), [(3, False), (4, True), (10, True)])
def test_the_latest_pain_asks_from_4(
    clinic_db: Session, patient: int, nrs: int, asked: bool
) -> None:
    """Rule: pain 4 or more (the band that stops a set) is asked about again; 3 is not."""
    _pain(clinic_db, patient, nrs, NOW - timedelta(hours=20))
    assert pain_ask(clinic_db, patient, NOW) is asked


def test_only_the_latest_report_counts(clinic_db: Session, patient: int) -> None:
    """Rule: pain that settled (a later report of 3) is not asked about again."""
    _pain(clinic_db, patient, 6, NOW - timedelta(days=1))
    _pain(clinic_db, patient, 3, NOW - timedelta(hours=2))
    assert pain_ask(clinic_db, patient, NOW) is False


def test_an_undone_report_is_ignored(clinic_db: Session, patient: int) -> None:
    """Rule: a mis-tap that was undone counts for nothing; the report before it counts."""
    _pain(clinic_db, patient, 2, NOW - timedelta(hours=5))
    _pain(clinic_db, patient, 8, NOW - timedelta(hours=1), withdrawn=True)
    assert pain_ask(clinic_db, patient, NOW) is False
    _pain(clinic_db, patient, 5, NOW - timedelta(minutes=30), withdrawn=True)
    _pain(clinic_db, patient, 4, NOW - timedelta(minutes=40))
    assert pain_ask(clinic_db, patient, NOW) is True


def test_pain_older_than_the_window_is_not_asked(clinic_db: Session, patient: int) -> None:
    """Rule: the window is 3 days, its end included."""
    _pain(clinic_db, patient, 7, NOW - PAIN_ASK_WITHIN)
    assert pain_ask(clinic_db, patient, NOW) is True
    assert pain_ask(clinic_db, patient, NOW + timedelta(seconds=1)) is False


def test_a_set_stopped_for_pain_asks(clinic_db: Session, patient: int) -> None:
    """Rule: the latest finished set stopped for pain asks, whatever the reports say; a later
    set without pain does not."""
    _set(clinic_db, patient, NOW - timedelta(days=10), pain_reported=True)
    assert pain_ask(clinic_db, patient, NOW) is True
    _pain(clinic_db, patient, 1, NOW - timedelta(days=1))
    assert pain_ask(clinic_db, patient, NOW) is True
    _set(clinic_db, patient, NOW - timedelta(days=2), pain_reported=False)
    assert pain_ask(clinic_db, patient, NOW) is False


def _pain_data(clinic: Clinic, db: Session, who: str) -> Any:
    p = clinic.world.ids["patient_p"]
    with browser_of(clinic, db, who) as browser:
        response = browser.get(f"/patients/{p}/session?exercise=elbow_flexion")
    assert response.status_code == 200
    match = re.search(r'id="live-data">(.*?)</script>', response.text, re.S)
    assert match is not None
    return json.loads(match.group(1))["pain"], response.text


def test_the_page_hands_over_the_question_in_the_viewers_words(
    clinic: Clinic, clinic_db: Session, patient: int
) -> None:
    """Rule: the patient is asked "you"; a caregiver is asked about the patient by name; the
    flag follows ``pain_ask``; the live screen has the pain button and its key."""
    own, html = _pain_data(clinic, clinic_db, "patient_p")
    assert own["ask"] is False and own["question"] == "How much pain do you have now?"
    assert own["api"] == f"/api/patients/{patient}/pain-reports"
    assert own["button"] == "It hurts" and 'id="pain-open"' in html
    assert "H: it hurts." in html and html.count('class="pain-n"') == 11
    _pain(clinic_db, patient, 5, utc_now() - timedelta(hours=1))
    carer, html = _pain_data(clinic, clinic_db, "caregiver_c")
    assert carer["ask"] is True
    assert carer["question"] == "How much pain does patient-p have now?"
    assert carer["why"].startswith("patient-p had pain last time.")
    assert carer["button"] == "Pain" and "H: pain." in html
