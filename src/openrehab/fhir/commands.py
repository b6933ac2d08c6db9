"""``openrehab export fhir`` and ``openrehab import fhir`` (docs/fhir.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from openrehab.web.commands import DatabaseUrlOption, DataDirOption, _ready_engine, _settings, fail

import_app = typer.Typer(help="Import a patient's records (FHIR R4).", no_args_is_help=True)


def export_fhir(
    patient: Annotated[
        int, typer.Option("--patient", help="The patient's id (openrehab patients).")
    ],
    out: Annotated[Path, typer.Option("--out", help="The JSON file to write (- for stdout).")],
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Write a patient's records as a FHIR R4 Bundle (JSON)."""
    from openrehab.fhir.export import patient_bundle
    from openrehab.store.db import make_session_factory, session_scope
    from openrehab.store.models import Role, User

    engine = _ready_engine(_settings(data_dir, database_url))
    with session_scope(make_session_factory(engine)) as db:
        user = db.get(User, patient)
        if user is None or user.role is not Role.patient:
            fail(f"No patient with id {patient} (see `openrehab patients`).", 2)
        bundle = patient_bundle(db, user)
    text = json.dumps(bundle, indent=1, ensure_ascii=False)
    if str(out) == "-":
        typer.echo(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"Cannot write {out}: {exc.strerror}.", 1)
    typer.echo(f"Wrote {out} ({len(bundle['entry'])} resources).")


def import_fhir(
    path: Annotated[Path, typer.Argument(help="A Bundle written by `openrehab export fhir`.")],
    username: Annotated[
        str | None, typer.Option(help="Username of the new patient (default: the bundle's).")
    ] = None,
    therapist: Annotated[
        str | None, typer.Option(help="Assign the patient to this therapist (username).")
    ] = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Make a new patient from a FHIR R4 Bundle; prints their first-login password."""
    from openrehab.fhir.importer import FhirImportError, find_therapist, import_bundle
    from openrehab.store.db import make_session_factory, session_scope

    try:
        bundle = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"Cannot read {path}: {exc.strerror}.", 2)
    except UnicodeDecodeError:
        fail(f"{path} is not JSON (not UTF-8 text).", 2)
    except json.JSONDecodeError as exc:
        fail(f"{path} is not JSON (line {exc.lineno}: {exc.msg}).", 2)
    engine = _ready_engine(_settings(data_dir, database_url))
    try:
        with session_scope(make_session_factory(engine)) as db:
            lead = find_therapist(db, therapist) if therapist else None
            result = import_bundle(db, bundle, username=username, therapist=lead)
            name, login, password = (
                result.patient.display_name,
                result.patient.username,
                result.password,
            )
            counts = ", ".join(f"{n} {k}" for k, n in sorted(result.counts.items()))
    except FhirImportError as exc:
        fail(str(exc), 2)
    typer.echo(f"Imported {name} as {login!r} ({counts}).")
    typer.echo(f"First-login password (shown once): {password}")
