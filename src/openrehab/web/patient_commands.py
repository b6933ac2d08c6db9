"""``openrehab patients``: the patients in a database, for scripts (id, name, therapists,
last session)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from sqlalchemy import func, select

from openrehab.web.commands import DatabaseUrlOption, DataDirOption, _ready_engine, _settings, fail


def patient_rows(db: Any) -> list[dict[str, Any]]:
    """Every patient with their therapists' usernames and last session start (UTC)."""
    from openrehab.store.models import CareLink, ExerciseSession, LinkKind, Role, User

    last = dict(
        db.execute(
            select(ExerciseSession.patient_id, func.max(ExerciseSession.started_at)).group_by(
                ExerciseSession.patient_id
            )
        ).all()
    )
    therapists: dict[int, list[str]] = {}
    for patient_id, username in db.execute(
        select(CareLink.patient_id, User.username)
        .join(User, User.id == CareLink.carer_id)
        .where(CareLink.kind == LinkKind.therapist)
        .order_by(User.username)
    ):
        therapists.setdefault(patient_id, []).append(username)
    return [
        {
            "id": p.id,
            "username": p.username,
            "name": p.display_name,
            "therapists": therapists.get(p.id, []),
            "last_session_at": last[p.id].isoformat() if last.get(p.id) else None,
        }
        for p in db.scalars(select(User).where(User.role == Role.patient).order_by(User.id))
    ]


def patients(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array on stdout.")] = False,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """List patients: id, name, therapist and last session (for scripts: --json)."""
    from openrehab.store.db import make_session_factory, session_scope

    engine = _ready_engine(_settings(data_dir, database_url))
    with session_scope(make_session_factory(engine)) as db:
        rows = patient_rows(db)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        typer.echo("No patients yet.")
        return
    typer.echo(f"{'id':>5}  {'username':<24} {'name':<28} {'therapist':<20} last session")
    for r in rows:
        last = r["last_session_at"][:16].replace("T", " ") if r["last_session_at"] else "none"
        who = ", ".join(r["therapists"]) or "-"
        typer.echo(f"{r['id']:>5}  {r['username']:<24} {r['name']:<28} {who:<20} {last}")


def demo_data(
    patients: Annotated[int, typer.Option(help="How many patients (1-7).")] = 6,
    weeks: Annotated[int, typer.Option(help="Weeks of history (1-26).")] = 6,
    seed: Annotated[int, typer.Option(help="Random seed (the same seed, the same data).")] = 1,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing (exit 0) when there is data already.")
    ] = False,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Fill a new database with a therapist's caseload: patients with different profiles and
    weeks of sessions counted by the real motion engine (the demo logins are printed)."""
    import time

    from openrehab.services.demo import database_is_empty
    from openrehab.services.demo_data import DemoDataError, generate
    from openrehab.store.db import make_session_factory, session_scope

    engine = _ready_engine(_settings(data_dir, database_url))
    started = time.perf_counter()
    with session_scope(make_session_factory(engine)) as db:
        if if_empty and not database_is_empty(db):
            typer.echo("The database has data already: no demo data added.")
            return
        try:
            summary = generate(db, patients=patients, weeks=weeks, seed=seed)
        except DemoDataError as exc:
            fail(str(exc), 2)
    typer.echo(
        f"Demo data: {summary.patients} patients, {summary.sessions} generated sessions, "
        f"{summary.repetitions} repetitions ({time.perf_counter() - started:.0f} s)."
    )
    for login in summary.logins:
        typer.echo(
            f"  {login.role.value:<10} username {login.username:<10} password {login.password}"
        )
