"""Shared fixtures: a fresh database per test, on SQLite and (when available) PostgreSQL.

Set OPENREHAB_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@localhost/postgres) to run
every database test against PostgreSQL as well; CI does.
"""

from __future__ import annotations

import os
import shutil
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
from openrehab.store import migrate
from openrehab.store.db import make_engine
from support import BASE_URL, BROWSER_HEADERS, Clinic, World, make_world

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


class _Templates:
    """One migrated database per backend, made on first use and cloned for every test.

    Running the migrations takes 0.2 s on SQLite and 0.4 s on PostgreSQL; a copy of a migrated
    file, or ``CREATE DATABASE ... TEMPLATE``, takes a fraction of that.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._sqlite: Path | None = None
        self._postgres: str | None = None

    def sqlite(self) -> Path:
        if self._sqlite is None:
            path = self.folder / "template.sqlite3"
            engine = make_engine(f"sqlite:///{path}")
            migrate.upgrade(engine)
            engine.dispose()  # the last connection closing folds the WAL into the file
            assert not path.with_name(path.name + "-wal").exists()
            self._sqlite = path
        return self._sqlite

    def postgres(self) -> str:
        if self._postgres is None:
            name = _create_postgres_database()
            engine = make_engine(_postgres_url(name))
            migrate.upgrade(engine)
            engine.dispose()  # a template must have no open connection when it is copied
            self._postgres = name
        return self._postgres

    def drop(self) -> None:
        if self._postgres is not None:
            _drop_postgres_database(self._postgres)


def _postgres_url(name: str) -> str:
    assert POSTGRES_URL is not None
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def _admin(statement: str) -> None:
    assert POSTGRES_URL is not None
    admin = create_engine(make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
    finally:
        admin.dispose()


def _create_postgres_database(template: str | None = None) -> str:
    name = f"openrehab_test_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return name


def _drop_postgres_database(name: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Templates]:
    made = _Templates(tmp_path_factory.mktemp("templates"))
    yield made
    made.drop()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, templates: _Templates
) -> Iterator[str]:
    """URL of a new database holding the current schema and no rows (dropped after the test)."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(templates.sqlite(), path)
        yield f"sqlite:///{path}"
        return
    name = _create_postgres_database(template=templates.postgres())
    try:
        yield _postgres_url(name)
    finally:
        _drop_postgres_database(name)


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a new database without any table (for the migration tests)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        yield engine
        engine.dispose()
        return
    name = _create_postgres_database()
    engine = make_engine(_postgres_url(name))
    try:
        yield engine
    finally:
        engine.dispose()
        _drop_postgres_database(name)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def other_engine(engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    """A second, migrated, empty database of the same kind as ``engine`` (backup tests)."""
    from openrehab.store import migrate

    if engine.dialect.name == "sqlite":
        second = make_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}")
        migrate.upgrade(second)
        yield second
        second.dispose()
        return
    name = _create_postgres_database()
    second = make_engine(_postgres_url(name))
    try:
        migrate.upgrade(second)
        yield second
    finally:
        second.dispose()
        _drop_postgres_database(name)


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
    return make_world(app.state.session_factory)


# --- one clinic per test module -------------------------------------------------------------
# For tests that make many requests, each leaving the clinic as it was (refused) or adding
# records that later requests do not mind: the app and its database are built once per module
# (SQLite), and a test measures what its request changed with ``Clinic.snapshot``.
@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    """An app on a fresh SQLite database with the :class:`World` in it, for the module."""
    from openrehab.web.app import create_app

    folder = tmp_path_factory.mktemp("clinic")
    settings = Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'clinic.sqlite3'}")
    engine = make_engine(settings.database_url)
    app = create_app(settings, engine=engine)
    yield Clinic(app, engine, make_world(app.state.session_factory))
    engine.dispose()


@pytest.fixture
def clinic_db(clinic: Clinic) -> Iterator[Session]:
    """A database session of the module's clinic."""
    with clinic.session() as session:
        yield session


@pytest.fixture
def clinic_client(clinic: Clinic) -> Iterator[TestClient]:
    """A fresh browser (no cookie, redirects not followed) on the module's clinic."""
    with clinic.client() as client:
        yield client
