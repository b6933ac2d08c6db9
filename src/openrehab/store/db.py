"""Database engine and sessions.

SQLite (the embedded default) runs in WAL mode with foreign keys enforced, so a reader (the
therapist's browser) never blocks the writer (a live exercise session) and deletes cascade as
they do on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker


class StoreError(Exception):
    """The database cannot be used; the message is one plain sentence for the user."""


def make_engine(database_url: str) -> Engine:
    """Create an engine for ``database_url`` (SQLite or PostgreSQL via psycopg)."""
    kwargs: dict[str, Any] = {"future": True}
    if database_url.startswith("postgresql://"):
        # Use psycopg 3 (the installed driver) rather than SQLAlchemy's psycopg2 default.
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    if database_url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(database_url, **kwargs)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise StoreError(f"Invalid database URL {_redact(database_url)!r}: {exc}.") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def check_connection(engine: Engine) -> None:
    """Raise StoreError with a readable reason if the database cannot be reached or read."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise StoreError(
            f"Cannot reach the database at {_redact(str(engine.url))}: {_first_line(exc)}."
        ) from exc
    except Exception as exc:  # corrupt SQLite file raises DatabaseError
        raise StoreError(
            f"The database at {_redact(str(engine.url))} cannot be read: {_first_line(exc)}."
        ) from exc


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return (str(original).strip().splitlines() or [type(original).__name__])[0].rstrip(".")


def _redact(url: str) -> str:
    # Never print a password that was given inside the URL.
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url
