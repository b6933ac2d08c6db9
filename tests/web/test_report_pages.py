"""Downloads of a patient's records (web/routes/report_pages.py): the PDF and CSV files for
whoever may read the patient, refused for everyone else (and audited), with the period's
errors as pages."""

from __future__ import annotations

import io

import pytest
from sqlalchemy.orm import Session

from support import Clinic, browser_of, last_audit, page_text

pypdf = pytest.importorskip("pypdf")


@pytest.mark.parametrize("who", ["therapist_a", "admin", "caregiver_c", "patient_p"])
def test_those_who_read_the_patient_download_the_report(
    clinic: Clinic, clinic_db: Session, who: str
) -> None:
    p = clinic.world.ids["patient_p"]
    with browser_of(clinic, clinic_db, who) as browser:
        response = browser.get(f"/patients/{p}/report.pdf?from=2026-01-01&to=2026-01-31")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition == 'attachment; filename="openrehab-report-patient-p-20260101-20260131.pdf"'
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert "patient-p" in reader.pages[0].extract_text()
    user_id, target, target_id, detail = last_audit(clinic_db, "report.download")
    assert (user_id, target, target_id) == (clinic.world.ids[who], "patient", str(p))
    assert detail == {"from": "2026-01-01", "to": "2026-01-31"}


@pytest.mark.parametrize("who", ["therapist_b", "caregiver_d", "patient_q"])
@pytest.mark.parametrize(
    "path", ["report.pdf", "export/sessions.csv", "export/repetitions.csv", "export/fhir.json"]
)
def test_nobody_else_downloads_a_patients_records(
    clinic: Clinic, clinic_db: Session, who: str, path: str
) -> None:
    p = clinic.world.ids["patient_p"]
    with browser_of(clinic, clinic_db, who) as browser:
        response = browser.get(f"/patients/{p}/{path}")
    assert response.status_code == 403
    assert "patient-p" not in response.text and not response.content.startswith(b"%PDF")
    user_id, _, _, _ = last_audit(clinic_db, "access.refused")
    assert user_id == clinic.world.ids[who]
    with clinic.client() as anonymous:
        assert anonymous.get(f"/patients/{p}/{path}").status_code == 303


def test_the_csv_downloads_have_their_header_and_name(clinic: Clinic, clinic_db: Session) -> None:
    p = clinic.world.ids["patient_p"]
    with browser_of(clinic, clinic_db, "therapist_a") as browser:
        sessions = browser.get(f"/patients/{p}/export/sessions.csv?from=2026-02-01&to=2026-02-02")
        missing = browser.get(f"/patients/{p}/export/passwords.csv")
    assert sessions.status_code == 200 and sessions.headers["content-type"].startswith("text/csv")
    assert sessions.text.startswith("session_id,session_started_at,")
    assert (
        "openrehab-sessions-patient-p-20260201-20260202.csv"
        in sessions.headers["content-disposition"]
    )
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-13-01", "The from date must look like 2026-05-31"),
        ("to=yesterday", "The to date must look like 2026-05-31"),
        ("from=2026-03-02&to=2026-03-01", "starts (2026-03-02) after it ends"),
        ("from=2020-01-01&to=2026-01-01", "at most 366 days"),
    ],
)
def test_a_bad_period_is_a_page_with_the_reason(
    clinic: Clinic, clinic_db: Session, query: str, message: str
) -> None:
    p = clinic.world.ids["patient_p"]
    with browser_of(clinic, clinic_db, "therapist_a") as browser:
        response = browser.get(f"/patients/{p}/report.pdf?{query}")
    assert response.status_code == 422 and message in page_text(response)
    assert "Check the dates" in page_text(response)
    assert "Something went wrong" not in page_text(response)


def test_the_fhir_download_is_the_patients_bundle(clinic: Clinic, clinic_db: Session) -> None:
    p = clinic.world.ids["patient_p"]
    with browser_of(clinic, clinic_db, "therapist_a") as browser:
        response = browser.get(f"/patients/{p}/export/fhir.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = response.json()
    [patient] = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    ]
    assert patient["identifier"][0]["value"] == "patient-p"
    user_id, _, target_id, detail = last_audit(clinic_db, "export.fhir")
    assert (user_id, target_id) == (clinic.world.ids["therapist_a"], str(p))
    assert detail == {"resources": len(bundle["entry"])}
