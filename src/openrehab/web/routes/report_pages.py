"""Downloads of a patient's records: the clinical progress report (PDF) and CSV exports of
sessions and repetitions, for ``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (default: the last 28
days). Whoever may read the patient's records may download them; each download is audited."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from openrehab.accounts.access import Action
from openrehab.accounts.service import audit
from openrehab.fhir.export import patient_bundle
from openrehab.reports import csv_export
from openrehab.reports.data import ReportError, collect, period
from openrehab.reports.pdf import file_name, render_pdf
from openrehab.store.models import User
from openrehab.web.deps import Db, ObjectId
from openrehab.web.routes.pages import MaybeUser, error_page, page_patient

router = APIRouter(include_in_schema=False)
DateText = Annotated[str, Query(max_length=20)]


def _day(text: str, name: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ReportError(f"The {name} date must look like 2026-05-31 (got {text!r}).") from None


def _download(content: bytes | str, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


FromDay = Annotated[str, Query(alias="from", max_length=20)]
ToDay = Annotated[str, Query(alias="to", max_length=20)]


def _subject(
    request: Request, user: User | None, db: Db, patient_id: int, first: str, last: str
) -> tuple[User, date, date] | Response:
    """The patient and the period of a download, or the page to show instead (login, 403,
    404, or 422 for a bad period)."""
    patient = page_patient(request, user, db, patient_id, Action.read)
    if isinstance(patient, Response):
        return patient
    try:
        first_day, last_day = period(_day(first, "from"), _day(last, "to"))
    except ReportError as exc:
        return error_page(request, user, 422, str(exc), heading="Check the dates")
    return patient, first_day, last_day


def _audited(
    db: Db, user: User | None, action: str, patient: User, days: tuple[date, date]
) -> None:
    audit(db, user, action, "patient", patient.id, {"from": str(days[0]), "to": str(days[1])})
    db.commit()


@router.get("/patients/{patient_id}/report.pdf")
def report_pdf(
    request: Request,
    patient_id: ObjectId,
    user: MaybeUser,
    db: Db,
    first: FromDay = "",
    last: ToDay = "",
) -> Response:
    """The clinical progress report of the period as a PDF."""
    subject = _subject(request, user, db, patient_id, first, last)
    if isinstance(subject, Response):
        return subject
    patient, *days = subject
    data = collect(db, patient, days[0], days[1])
    _audited(db, user, "report.download", patient, (days[0], days[1]))
    return _download(render_pdf(data), "application/pdf", file_name(data))


CSV_MAKERS = {"sessions": csv_export.sessions_csv, "repetitions": csv_export.repetitions_csv}


@router.get("/patients/{patient_id}/export/{kind}.csv")
def export_csv(
    request: Request,
    patient_id: ObjectId,
    kind: str,
    user: MaybeUser,
    db: Db,
    first: FromDay = "",
    last: ToDay = "",
) -> Response:
    """``sessions.csv`` (one row per set) or ``repetitions.csv`` (one row per repetition)."""
    subject = _subject(request, user, db, patient_id, first, last)
    if isinstance(subject, Response):
        return subject
    patient, first_day, last_day = subject
    if kind not in CSV_MAKERS:
        return error_page(request, user, 404, "There is no such export.")
    text = CSV_MAKERS[kind](db, patient.id, first_day, last_day)
    _audited(db, user, f"export.{kind}", patient, (first_day, last_day))
    name = f"openrehab-{kind}-{patient.username}-{first_day:%Y%m%d}-{last_day:%Y%m%d}.csv"
    return _download(text, "text/csv; charset=utf-8", name)


@router.get("/patients/{patient_id}/export/fhir.json")
def export_fhir(request: Request, patient_id: ObjectId, user: MaybeUser, db: Db) -> Response:
    """All of the patient's records as a FHIR R4 Bundle (docs/fhir.md)."""
    patient = page_patient(request, user, db, patient_id, Action.read)
    if isinstance(patient, Response):
        return patient
    bundle = patient_bundle(db, patient)
    audit(db, user, "export.fhir", "patient", patient.id, {"resources": len(bundle["entry"])})
    db.commit()
    text = json.dumps(bundle, indent=1, ensure_ascii=False)
    return _download(text, "application/fhir+json", f"openrehab-fhir-{patient.username}.json")
