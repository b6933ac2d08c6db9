"""Shared fixtures: a fresh database per test, on SQLite and (when available) PostgreSQL.

Set OPENREHAB_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@localhost/postgres) to run
every database test against PostgreSQL as well; CI does.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from openrehab.config import Settings
from openrehab.store.db import make_engine
from support import BASE_URL, BROWSER_HEADERS, WORLD_USERS, World

# Mutation testing (tools/mutate.py) needs the same verdict every run: fixed examples, no
# example database carried from one mutant to the next.
hypothesis.settings.register_profile("mutation", derandomize=True, database=None)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# Cheap Argon2 parameters for the many test accounts (read when passwords.py is imported).
os.environ.setdefault("OPENREHAB_TEST_FAST_HASH", "1")

POSTGRES_URL = os.environ.get("OPENREHAB_TEST_POSTGRES_URL")
SHARED_DIR = Path(
    os.environ.get("OPENREHAB_SHARED_DIR", Path(__file__).resolve().parents[1] / ".." / "shared")
).resolve()

BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the repo (public research data); tests using it skip when absent."""
    if not (SHARED_DIR / "datasets").is_dir():
        pytest.skip(f"shared data folder not found at {SHARED_DIR}")
    return SHARED_DIR


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a new, empty database (dropped after the test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    assert POSTGRES_URL is not None
    admin_url = make_url(POSTGRES_URL)
    name = f"openrehab_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url)


@pytest.fixture
def app(settings: Settings, engine: Engine):  # type: ignore[no-untyped-def]
    from openrehab.web.app import create_app

    app = create_app(settings, engine=engine)
    # Tests replay recorded streams much faster than a camera; the frame budget has its own.
    app.state.live_frames_per_s = None
    return app


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url=BASE_URL, headers=BROWSER_HEADERS) as test_client:
        yield test_client


@pytest.fixture
def db(app) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    factory: sessionmaker[Session] = app.state.session_factory
    session = factory()
    yield session
    session.close()


@pytest.fixture
def world(app, client: TestClient) -> World:  # type: ignore[no-untyped-def]
    from openrehab.accounts.service import create_user, issue_token
    from openrehab.store.db import session_scope
    from openrehab.store.models import CareLink, LinkKind

    result = World()
    with session_scope(app.state.session_factory) as session:
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
