"""A demo-seeded app for the API fuzz tests (importable as ``fuzzing``).

``FuzzWorld`` holds the app, a bearer token per caller, the ids of the stored records, a
snapshot of the seeded database (``reset`` puts it back, so every fuzzing example starts from
the same data) and ``read_back``: every read of a patient's records (JSON and pages), the check
that nothing a write stored breaks a later read.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import tempfile
import traceback
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openrehab.config import Settings

#: Callers with a bearer token: an admin, and the demo's therapist, caregiver and patient.
CALLERS = ("admin", "therapist", "caregiver", "patient")
#: Who reads the JSON records back and makes the follow-up writes: the admin passes every
#: access check, whatever links a fuzzed write removed.
DATA_READER = "admin"
#: Reads of one patient's records: everything a write may have changed (limits at their top,
#: so every stored row is read).
PATIENT_READS = (
    "/api/patients/{patient}",
    "/api/patients/{patient}/profile",
    "/api/patients/{patient}/sessions?limit=500",
    "/api/patients/{patient}/assessments?limit=1000",
    "/api/patients/{patient}/therapy-events?limit=1000",
    "/api/patients/{patient}/pain-reports?limit=1000",
    "/api/patients/{patient}/program",
    "/api/patients/{patient}/progress?events=200",
    "/api/patients/{patient}/links",
)
#: Pages showing a patient's records (they differ by role): the home page, then theirs.
HOME_PAGE = "/"
PATIENT_PAGES = (
    "/patients/{patient}",
    "/patients/{patient}/session?all=1",
    "/patients/{patient}/rhythm",
)
#: Tables whose rows no read shows: a request that wrote only these stored nothing to read back.
UNREAD_TABLES = frozenset({"audit_log", "auth_tokens"})
WRITE_SQL = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)


def postgres_database() -> str | None:
    """A fresh PostgreSQL database for fuzzing when OPENREHAB_TEST_POSTGRES_URL is set."""
    admin_url = os.environ.get("OPENREHAB_TEST_POSTGRES_URL")
    if not admin_url:
        return None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"openrehab_fuzz_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    atexit.register(drop)
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


class RecordServerErrors:
    """ASGI middleware keeping the last lines of every unhandled exception's traceback (the
    app still answers 500), so a failing check can say where the server broke."""

    def __init__(self, app: Any, sink: list[str]) -> None:
        self.app = app
        self.sink = sink

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            self.sink.append(last_lines(exc))
            raise


def last_lines(exc: BaseException, lines: int = 4) -> str:
    text = "".join(traceback.format_exception(exc)).rstrip().splitlines()
    return "\n".join(text[-lines:])


@dataclass
class FuzzWorld:
    app: Any
    headers: dict[str, dict[str, str]]
    #: "demo": the demo patient with a week of practice; "fresh": a new patient (no profile,
    #: program or sessions); both linked to the demo therapist and caregiver.
    patients: dict[str, int]
    users: dict[str, int]
    #: Sessions writes are aimed at: patient -> [an open session, the newest ended one].
    sessions: dict[int, list[int]]
    sets: dict[int, list[int]]  # session -> its set ids (the open session: one open set)
    items: dict[int, list[int]]  # patient -> ids of the active program's items
    links: list[int]
    snapshot: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)
    #: Tables written by SQL since the last ``changes.clear()``.
    changes: set[str] = field(default_factory=set)
    _client: Any = None

    def __post_init__(self) -> None:
        from sqlalchemy import event

        def note_write(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            match = WRITE_SQL.match(statement)
            if match:
                self.changes.add(match.group(1).lower())

        event.listen(self.app.state.engine, "before_cursor_execute", note_write)

    @property
    def client(self) -> Any:
        if self._client is None:
            from starlette.testclient import TestClient

            self._client = TestClient(self.app, raise_server_exceptions=False)
        return self._client

    # --- the database --------------------------------------------------------------------
    def take_snapshot(self) -> None:
        from openrehab.store.models import Base

        with self.app.state.engine.connect() as connection:
            self.snapshot = {
                table.name: [dict(row) for row in connection.execute(table.select()).mappings()]
                for table in Base.metadata.sorted_tables
            }

    def reset(self) -> None:
        """Put the seeded database back exactly (rows and ids), forgetting every write."""
        from sqlalchemy import func, inspect, select, text

        from openrehab.store.models import Base

        tables = Base.metadata.sorted_tables
        engine = self.app.state.engine
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                names = ", ".join(f'"{table.name}"' for table in tables)
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(tables):
                    connection.execute(table.delete())
                if inspect(connection).has_table("sqlite_sequence"):
                    connection.execute(text("DELETE FROM sqlite_sequence"))
            for table in tables:
                if self.snapshot[table.name]:
                    connection.execute(table.insert(), self.snapshot[table.name])
            if engine.dialect.name == "postgresql":
                for table in tables:
                    top = connection.scalar(select(func.max(table.c.id)))
                    if top is not None:
                        connection.execute(
                            text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :top)"),
                            {"table": table.name, "top": top},
                        )
        self.server_errors.clear()
        self.changes.clear()

    # --- reading everything back ---------------------------------------------------------
    def get(self, caller: str, path: str) -> tuple[int, Any]:
        response = self.client.get(path, headers=self.headers[caller])
        try:
            body = response.json()
        except ValueError:
            body = None
        return response.status_code, body if response.status_code < 400 else response.text

    def stored_something(self) -> bool:
        """Whether SQL since the last ``changes.clear()`` wrote more than audit entries and
        tokens (a request the app refused stores nothing else, so nothing to read back)."""
        return bool(self.changes - UNREAD_TABLES)

    def use_stored_data(self, patients: Iterable[int]) -> list[str]:
        """The writes that build on what is stored, as the admin: end the patient's open and
        newest sessions (their open sets go through the progression) and rebuild the program
        from the profile. Returns each that gave a 5xx."""
        failures: list[str] = []
        for patient in sorted(set(patients)):
            base = f"/api/patients/{patient}"
            status, body = self.get(DATA_READER, f"{base}/sessions?limit=1")
            newest = [row["id"] for row in body] if status == 200 else []
            for session in sorted({*self.sessions.get(patient, [])[:1], *newest}):
                failures += self._post(f"{base}/sessions/{session}/end", None)
            failures += self._post(f"{base}/program", {})
        return failures

    def _post(self, path: str, body: Any) -> list[str]:
        errors_before = len(self.server_errors)
        response = self.client.post(path, json=body, headers=self.headers[DATA_READER])
        if response.status_code < 500:
            return []
        where = "\n".join(self.server_errors[errors_before:]) or response.text[:300]
        return [
            f"{DATA_READER}: POST {path} {json.dumps(body)} -> {response.status_code}\n"
            + _indent(where)
        ]

    def read_back(
        self,
        patients: Iterable[int],
        sessions: Iterable[int] = (),
        sets: Iterable[int] = (),
        page_readers: Iterable[str] = CALLERS,
    ) -> list[str]:
        """Read every record of the patients: the JSON lists and details as the admin (who
        sees every patient, whatever links a write removed), the given and newest session with
        its sets and the given and newest set's repetitions, and the pages as each of
        ``page_readers``. Returns each read that gave a 5xx, with the end of its traceback."""
        failures: list[str] = []

        def read(caller: str, path: str) -> tuple[int, Any]:
            errors_before = len(self.server_errors)
            status, body = self.get(caller, path)
            if status >= 500:
                where = "\n".join(self.server_errors[errors_before:]) or str(body)[:300]
                failures.append(f"{caller}: GET {path} -> {status}\n{_indent(where)}")
            return status, body

        def ids(body: Any) -> list[int]:
            rows = body if isinstance(body, list) else []
            return [row["id"] for row in rows if isinstance(row, dict) and "id" in row]

        read(DATA_READER, "/api/patients")
        read(DATA_READER, "/api/users")
        for patient in sorted(set(patients)):
            newest: list[int] = []
            for template in PATIENT_READS:
                status, body = read(DATA_READER, template.format(patient=patient))
                if "/sessions" in template and status == 200:
                    newest = ids(body)[:1]
            for session in sorted({*sessions, *newest}):
                base = f"/api/patients/{patient}/sessions/{session}"
                read(DATA_READER, base)
                status, body = read(DATA_READER, f"{base}/sets")
                known = set(ids(body))
                for set_id in sorted({*(s for s in sets if s in known), *sorted(known)[-1:]}):
                    read(DATA_READER, f"{base}/sets/{set_id}/repetitions")
            for caller in page_readers:
                for template in PATIENT_PAGES:
                    read(caller, template.format(patient=patient))
        for caller in page_readers:
            read(caller, HOME_PAGE)
        return failures


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())


def describe(caller: str, method: str, path: str, body: Any, status: int) -> str:
    """One request of a sequence, e.g. 'therapist: POST /api/... {"kind": "mas"} -> 500'."""
    shown = "" if body is None else " " + json.dumps(body, default=str)[:400]
    return f"{caller}: {method} {path}{shown} -> {status}"


def build_world(database_url: str | None = None) -> FuzzWorld:
    """The app on a demo-seeded database (SQLite in a temporary folder unless a URL is given)
    with a bearer token per caller, plus: an admin, a caregiver linked to nobody, a fresh
    patient (no profile or program; linked to the demo therapist and caregiver), and for each
    patient an open session with an open set, so that writes can reach the progression."""
    from sqlalchemy import select

    from openrehab.accounts.service import create_user, issue_token
    from openrehab.exercises.library import load_library
    from openrehab.services import program as program_service
    from openrehab.services.demo import seed_demo
    from openrehab.store import records
    from openrehab.store.db import make_engine, session_scope
    from openrehab.store.models import CareLink, ExerciseSession, LinkKind, Role, User
    from openrehab.web.app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="openrehab-fuzz-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    url = database_url or f"sqlite:///{tmp / 'fuzz.sqlite3'}"
    app = create_app(Settings(tmp, url), engine=make_engine(url))
    server_errors: list[str] = []
    app.add_middleware(RecordServerErrors, sink=server_errors)
    with session_scope(app.state.session_factory) as db:
        seed_demo(db)
        create_user(db, "fuzz-admin", "amber-walrus-fuzzing", Role.admin)
        create_user(db, "fuzz-carer", "copper-heron-fuzzing", Role.caregiver, "Unlinked Carer")
        fresh = create_user(db, "fuzz-fresh", "silver-otter-fuzzing", Role.patient, "Fresh Patient")
        users = {u.username: u for u in db.scalars(select(User))}
        for carer, kind in (("therapist", LinkKind.therapist), ("caregiver", LinkKind.caregiver)):
            db.add(CareLink(patient_id=fresh.id, carer_id=users[carer].id, kind=kind))
        db.flush()
        usernames = {"admin": "fuzz-admin", **{c: c for c in CALLERS[1:]}}
        headers = {
            caller: {"Authorization": f"Bearer {issue_token(db, users[name], 'bearer')}"}
            for caller, name in usernames.items()
        }
        headers["anonymous"] = {}
        patients = {"demo": users["patient"].id, "fresh": fresh.id}
        library = load_library()
        sessions: dict[int, list[int]] = {}
        sets: dict[int, list[int]] = {}
        items: dict[int, list[int]] = {}
        for patient in patients.values():
            program = program_service.active_program(db, patient)
            items[patient] = [i.id for i in program.items] if program else []
            ended = db.scalars(
                select(ExerciseSession)
                .where(ExerciseSession.patient_id == patient)
                .order_by(ExerciseSession.id.desc())
                .limit(1)
            ).all()
            exercise = library.get(program.items[0].exercise_id if program else library.ids()[0])
            open_session = records.start_session(db, patient, "camera", None)
            open_set = records.start_set(
                db,
                open_session,
                exercise_id=exercise.id,
                side="left" if exercise.laterality == "unilateral" else "both",
                mode=exercise.modes[0],
                level=1,
                target_reps=None,
            )
            sessions[patient] = [open_session.id, *(s.id for s in ended)]
            sets[open_session.id] = [open_set.id]
            sets.update({s.id: [x.id for x in s.sets] for s in ended})
        world = FuzzWorld(
            app=app,
            headers=headers,
            patients=patients,
            users={
                **{caller: users[name].id for caller, name in usernames.items()},
                "unlinked caregiver": users["fuzz-carer"].id,
            },
            sessions=sessions,
            sets=sets,
            items=items,
            links=list(db.scalars(select(CareLink.id).order_by(CareLink.id))),
            server_errors=server_errors,
        )
    world.take_snapshot()
    return world
