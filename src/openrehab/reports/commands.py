"""``openrehab report`` (the clinical progress report as a PDF) and ``openrehab export csv``
(sessions and repetitions as CSV files)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from openrehab.web.commands import DatabaseUrlOption, DataDirOption, _ready_engine, _settings, fail

export_app = typer.Typer(help="Export a patient's records (CSV; FHIR R4).", no_args_is_help=True)
PatientOption = Annotated[
    int, typer.Option("--patient", help="The patient's id (openrehab patients).")
]
FromOption = Annotated[
    datetime | None,
    typer.Option("--from", formats=["%Y-%m-%d"], help="First day (default: 27 days before --to)."),
]
ToOption = Annotated[
    datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day (default: today).")
]


def _patient(db: Any, patient_id: int) -> Any:
    from openrehab.store.models import Role, User

    patient = db.get(User, patient_id)
    if patient is None or patient.role is not Role.patient:
        fail(f"No patient with id {patient_id} (see `openrehab patients`).", 2)
    return patient


def _days(first: datetime | None, last: datetime | None) -> tuple[date, date]:
    from openrehab.reports.data import ReportError, period

    try:
        return period(first.date() if first else None, last.date() if last else None)
    except ReportError as exc:
        fail(str(exc), 2)


def _write(path: Path, content: bytes | str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    except OSError as exc:
        fail(f"Cannot write {path}: {exc.strerror}.", 1)


def report(
    patient: PatientOption,
    out: Annotated[Path, typer.Option("--out", help="The PDF file to write.")],
    first: FromOption = None,
    last: ToOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Write the clinical progress report of a patient as a PDF (not a medical device)."""
    from openrehab.reports.data import collect
    from openrehab.reports.pdf import render_pdf
    from openrehab.store.db import make_session_factory, session_scope

    engine = _ready_engine(_settings(data_dir, database_url))
    with session_scope(make_session_factory(engine)) as db:
        who = _patient(db, patient)
        days = _days(first, last)
        data = collect(db, who, *days)
    _write(out, render_pdf(data))
    typer.echo(f"Wrote {out} ({data.patient_name}, {days[0]} to {days[1]}).")


def export_csv(
    patient: PatientOption,
    out_dir: Annotated[
        Path, typer.Option("--out-dir", help="Folder for sessions.csv and repetitions.csv.")
    ],
    first: FromOption = None,
    last: ToOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Write a patient's sessions (one row per set) and repetitions as CSV files."""
    from openrehab.reports.csv_export import repetitions_csv, sessions_csv
    from openrehab.store.db import make_session_factory, session_scope

    engine = _ready_engine(_settings(data_dir, database_url))
    with session_scope(make_session_factory(engine)) as db:
        who = _patient(db, patient)
        days = _days(first, last)
        files = {
            "sessions.csv": sessions_csv(db, who.id, *days),
            "repetitions.csv": repetitions_csv(db, who.id, *days),
        }
    for name, text in files.items():
        _write(out_dir / name, text)
        typer.echo(f"Wrote {out_dir / name} ({text.count(chr(10)) - 1} rows).")


def register(app: typer.Typer) -> None:
    """``report``, ``export csv``, ``export fhir`` and ``import fhir``."""
    from openrehab.fhir.commands import export_fhir, import_app, import_fhir

    app.command("report")(report)
    export_app.command("csv")(export_csv)
    export_app.command("fhir")(export_fhir)
    app.add_typer(export_app, name="export")
    import_app.command("fhir")(import_fhir)
    app.add_typer(import_app, name="import")
