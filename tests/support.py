"""Helpers shared by tests (importable as ``support``)."""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Pages are served over HTTPS (the login cookie is Secure) and, like every current browser,
# the test client says which page a form came from (the forgery guard needs it).
BASE_URL = "https://testserver"
BROWSER_HEADERS = {"Origin": BASE_URL}


@dataclass
class World:
    """A small clinic: two therapists, two caregivers, two patients and an admin.

    therapist_a and caregiver_c are linked to patient_p; therapist_b to patient_q;
    caregiver_d to nobody.
    """

    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}


WORLD_USERS = {
    "admin": "admin",
    "therapist_a": "therapist",
    "therapist_b": "therapist",
    "caregiver_c": "caregiver",
    "caregiver_d": "caregiver",
    "patient_p": "patient",
    "patient_q": "patient",
}


def make_world(session_factory: Any) -> World:
    """Create the :class:`World` clinic in the database of ``session_factory`` (a bearer token
    for everyone)."""
    from openrehab.accounts.service import create_user, issue_token
    from openrehab.store.db import session_scope
    from openrehab.store.models import CareLink, LinkKind

    result = World()
    with session_scope(session_factory) as session:
        users = {
            name: create_user(session, name.replace("_", "-"), f"password-{name}", role)
            for name, role in WORLD_USERS.items()
        }
        links = (
            ("patient_p", "therapist_a", LinkKind.therapist),
            ("patient_p", "caregiver_c", LinkKind.caregiver),
            ("patient_q", "therapist_b", LinkKind.therapist),
        )
        for patient, carer, kind in links:
            session.add(CareLink(patient_id=users[patient].id, carer_id=users[carer].id, kind=kind))
        for name, user in users.items():
            result.ids[name] = user.id
            result.tokens[name] = issue_token(session, user, kind="bearer")
    return result


def fresh_program(session: Any, patient_id: int) -> Any:
    """Give the patient a complete profile and a newly built program without therapist
    changes (committed); returns the program."""
    from openrehab.services import program as program_service
    from openrehab.store.models import User

    patient = session.get(User, patient_id)
    assert patient is not None and patient.profile is not None
    patient.profile.regions = {"elbow": {"mas": "1+", "active_movement": True}}
    patient.profile.affected_side = "left"
    program = program_service.build_program(
        session, patient, by=None, replace_overrides=True, set_target=True
    )
    session.commit()
    return program


# --- what a request changed in the store (access matrices, audit tests) -----------------------
#: Tables that reads change too (a token's last use, the login throttle): not records.
BOOKKEEPING_TABLES = frozenset({"auth_tokens", "login_failures"})
#: Methods that must not change anything.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
Snapshot = dict[str, frozenset[str]]


@dataclass
class TableChange:
    """Rows of one table that a request added and removed (a changed row is both)."""

    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]


def store_snapshot(engine: Any) -> Snapshot:
    """Every row of every table but :data:`BOOKKEEPING_TABLES`, each as a JSON string."""
    from openrehab.store.models import Base

    with engine.connect() as connection:
        return {
            table.name: frozenset(
                json.dumps(dict(row._mapping), default=str, sort_keys=True)
                for row in connection.execute(table.select())
            )
            for table in Base.metadata.sorted_tables
            if table.name not in BOOKKEEPING_TABLES
        }


def store_changes(before: Snapshot, after: Snapshot) -> dict[str, TableChange]:
    """The tables that differ between two snapshots, with their added and removed rows."""

    def rows(lines: frozenset[str]) -> list[dict[str, Any]]:
        return sorted((json.loads(line) for line in lines), key=lambda row: row.get("id") or 0)

    changes = {}
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name, frozenset()), after.get(name, frozenset())
        if old != new:
            changes[name] = TableChange(rows(new - old), rows(old - new))
    return changes


def audited(changes: dict[str, TableChange]) -> list[tuple[int | None, str]]:
    """(user id, action) of the audit entries a request added."""
    audit = changes.get("audit_log")
    return [(entry["user_id"], entry["action"]) for entry in audit.added] if audit else []


def records_changed(changes: dict[str, TableChange]) -> dict[str, TableChange]:
    """What a request changed besides the audit log."""
    return {name: change for name, change in changes.items() if name != "audit_log"}


def last_audit(session: Any, action: str) -> tuple[Any, ...]:
    """(user id, target type, target id, detail) of the newest audit entry ``action``."""
    from sqlalchemy import select

    from openrehab.store.models import AuditLog

    session.expire_all()
    entry = session.scalars(
        select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id.desc())
    ).first()
    assert entry is not None, f"no {action} entry"
    return (entry.user_id, entry.target_type, entry.target_id, entry.detail)


@dataclass
class Clinic:
    """An app, its database and the :class:`World` in it (tests/accounts/conftest.py)."""

    app: Any
    engine: Any
    world: World

    def session(self) -> Any:
        return self.app.state.session_factory()

    def snapshot(self) -> Snapshot:
        return store_snapshot(self.engine)

    def client(self, cookie: str | None = None) -> Any:
        """A browser of this clinic (with a login ``cookie``); redirects are not followed."""
        from fastapi.testclient import TestClient

        from openrehab.web.deps import COOKIE_NAME

        return TestClient(
            self.app,
            base_url=BASE_URL,
            headers=BROWSER_HEADERS,
            cookies={COOKIE_NAME: cookie} if cookie else None,
            follow_redirects=False,
        )


def browser_of(clinic: Clinic, session: Any, who: str) -> Any:
    """A browser of ``clinic`` logged in as ``who`` of its world (redirects not followed)."""
    from openrehab.accounts.service import issue_token
    from openrehab.store.models import User

    cookie = issue_token(session, session.get_one(User, clinic.world.ids[who]))
    session.commit()
    return clinic.client(cookie)


def page_text(response: Any) -> str:
    """A page's HTML with its entities decoded (so the text reads as a person reads it)."""
    import html

    return html.unescape(response.text)


def audited_patient(session: Any, entry: dict[str, Any]) -> int | None:
    """The patient whose record an audit entry (a row of ``audit_log``) names, else None."""
    from openrehab.store import models

    targets = {
        "assessment": models.Assessment,
        "therapy_event": models.TherapyEvent,
        "pain_report": models.PainReport,
        "symptom_report": models.SymptomReport,
        "session": models.ExerciseSession,
        "set": models.ExerciseSet,
        "program": models.Program,
        "program_item": models.ProgramItem,
        "patient": models.User,
        "care_link": models.CareLink,
        "patient_note": models.PatientNote,
    }
    model = targets.get(entry["target_type"])
    record = session.get(model, int(entry["target_id"])) if model and entry["target_id"] else None
    if isinstance(record, models.ExerciseSet):
        return int(record.session.patient_id)
    if isinstance(record, models.ProgramItem):
        return int(record.program.patient_id)
    if isinstance(record, models.User):
        return int(record.id) if record.role is models.Role.patient else None
    if record is None and isinstance(entry.get("detail"), dict) and "patient" in entry["detail"]:
        return int(entry["detail"]["patient"])  # a record since deleted (an ended link)
    return getattr(record, "patient_id", None)


def write_routes(app: Any) -> dict[tuple[str, str], Any]:
    """(method, path) -> endpoint of every HTTP route of ``app`` that may change something."""
    try:  # FastAPI >= 0.165 keeps included routers as branches
        from fastapi.routing import iter_route_contexts

        routes: list[Any] = list(iter_route_contexts(app.routes))
    except ImportError:  # older FastAPI: a flat list
        routes = list(app.routes)
    return {
        (method, route.path): route.endpoint
        for route in routes
        for method in (getattr(route, "methods", None) or set()) - SAFE_METHODS
    }


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningServer:
    base_url: str
    process: subprocess.Popen[str]
    health: dict[str, object] | None
    output: str = ""


@contextmanager
def running_server(
    data_dir: Path, timeout_s: float = 30, port: int | None = None, args: tuple[str, ...] = ()
) -> Iterator[RunningServer]:
    """Run ``openrehab serve`` as a user would, wait for /health, stop it afterwards.

    ``port``: a fixed one (e.g. to start the server again where a page expects it); default,
    a free one. ``args``: more options of ``serve``. ``output`` holds what the server printed,
    once the block has ended.
    """
    port = free_port() if port is None else port
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "openrehab",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "OPENREHAB_TEST_FAST_HASH": "1"},
    )
    server = RunningServer(f"http://localhost:{port}", process, None)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and server.health is None and process.poll() is None:
        try:
            with urllib.request.urlopen(server.base_url + "/health", timeout=1) as response:
                server.health = json.load(response)
        except OSError:
            time.sleep(0.2)
    try:
        yield server
    finally:
        process.terminate()
        server.output, _ = process.communicate(timeout=10)


# --- browser tests (tests/web/conftest.py has their fixtures) ---------------------------------
CHROMIUM = os.environ.get("OPENREHAB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
#: Headless Chromium as a patient's browser, without Google's background services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NO_GPU = "--disable-gpu"
#: Audio plays without a click (tests start sessions and games from scripts too).
AUTOPLAY = "--autoplay-policy=no-user-gesture-required"
#: Chromium's fake camera, allowed without asking (add --use-file-for-fake-video-capture=...).
FAKE_CAMERA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


def wait_for(page: Any, expression: str, timeout: float = 30_000) -> Any:
    """Wait until the JavaScript ``expression`` is truthy in ``page`` (``timeout`` in ms).

    Playwright's ``wait_for_function`` compiles its string inside the page, which the app's
    content security policy forbids (no eval); ``evaluate`` goes through the DevTools protocol,
    so the pages are tested under their real policy."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout / 1000:.0f} s waiting for {expression}")
        page.wait_for_timeout(50)


def log_in(page: Any, server: str, username: str = "patient") -> None:
    """Log ``page`` in as one of the demo accounts (password ``demo-<username>``)."""
    page.goto(server + "/login")
    page.fill("#username", username)
    page.fill("#password", f"demo-{username}")
    page.keyboard.press("Enter")
    page.wait_for_url(server + "/")


# --- a catch-angle measurement (POST /api/patients/{id}/tardieu) ----------------------------
def tardieu_body(seed: int = 0, *, spastic: bool = True, **fields: Any) -> dict[str, Any]:
    """One slow and three fast simulated stretches of an elbow (care.spastic_joint, a 100 Hz
    sensor), as the API takes them; ``fields`` replace the body's."""
    return copy.deepcopy(_tardieu_body(seed, spastic)) | fields


@functools.cache
def _tardieu_body(seed: int, spastic: bool) -> dict[str, Any]:
    from openrehab.care.spastic_joint import SensorParams, simulate_case, simulate_stretch

    case = simulate_case(seed, spastic=spastic, fast_velocity_deg_s=250, sensor=SensorParams())
    fast = [
        simulate_stretch(case.joint, v, seed=seed * 10 + k).series
        for k, v in enumerate((230, 260, 290))
    ]

    def series(s: Any) -> dict[str, list[float]]:
        return {
            "t_s": [round(float(t), 4) for t in s.t_s],
            "angle_deg": [round(float(a), 3) for a in s.angle_deg],
        }

    return {
        "joint": "elbow",
        "side": "left",
        "method": "camera",
        "slow": series(case.slow.series),
        "fast": [series(f) for f in fast],
    }


def practise_once(db: Any, patient_id: int, item: Any) -> None:
    """Three repetitions of one program item in a new session, the set ended (page tests)."""
    from openrehab.store import records

    session = records.start_session(db, patient_id)
    exercise_set = records.start_set(
        db,
        session,
        exercise_id=item.exercise_id,
        side=item.side,
        mode=item.mode,
        level=item.level,
        target_reps=3,
    )
    rows = [
        {
            "start_s": 2.0 * i,
            "end_s": 2.0 * i + 1.5,
            "rom": 40.0 + i,
            "rom_unit": "deg",
            "sparc": -1.5,
        }
        for i in range(3)
    ]
    records.add_repetitions(db, exercise_set, rows)
    records.end_set(db, exercise_set)
    db.commit()
