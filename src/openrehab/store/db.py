"""Database engine and sessions.

SQLite (the embedded default) runs in WAL mode with foreign keys enforced, so a reader (the
therapist's browser) never blocks the writer (a live exercise session) and deletes cascade as
they do on PostgreSQL.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import ArgumentError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

try:
    import fcntl
except ImportError:  # not on Windows: the thread lock alone (see WriterLock)
    fcntl = None  # type: ignore[assignment]


class StoreError(Exception):
    """The database cannot be used; the message is one plain sentence for the user."""


class UnstorableTextError(ValueError):
    """A text value holds a character no database text column may hold (NUL)."""


def make_engine(database_url: str) -> Engine:
    """Create an engine for ``database_url`` (SQLite or PostgreSQL via psycopg)."""
    kwargs: dict[str, Any] = {"future": True}
    if database_url.startswith("postgresql://"):
        # Use psycopg 3 (the installed driver) rather than SQLAlchemy's psycopg2 default.
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    if database_url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        # A connection per server thread (40): writers then queue in SQLite's own lock, which
        # serialises them anyway, rather than time out waiting for a pooled connection.
        kwargs["pool_size"], kwargs["max_overflow"] = 40, 10
    else:
        # Enough for the server's 40 worker threads to rarely wait; 2 workers use at most 60
        # of PostgreSQL's default 100 connections.
        kwargs["pool_size"], kwargs["max_overflow"] = 20, 10
    try:
        engine = create_engine(database_url, **kwargs)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise StoreError(f"Invalid database URL {_redact(database_url)!r}: {exc}.") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        engine.info_write_lock = WriterLock(engine.url.database)  # type: ignore[attr-defined]
        event.listen(engine, "commit", _release_write_lock)
        event.listen(engine, "rollback", _release_write_lock)
        event.listen(engine.pool, "reset", _release_write_lock_of_record)
        event.listen(engine, "before_cursor_execute", _writes_take_the_lock)
    event.listen(engine, "before_cursor_execute", _refuse_nul_text)
    if engine.dialect.name == "postgresql":
        event.listen(engine.pool, "checkin", _note_idle_since)
        event.listen(engine.pool, "checkout", _ping_if_idle(engine))
    return engine


IDLE_PING_S = 10.0
"""A pooled PostgreSQL connection unused for longer is pinged before it is handed out."""


def _note_idle_since(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info["idle_since"] = time.monotonic()


def _ping_if_idle(engine: Engine) -> Any:
    """Ping a PostgreSQL connection that sat idle in the pool (a restart of the server, an
    idle timeout or a firewall may have closed it): a dead one is replaced before the request
    uses it. SQLAlchemy's ``pool_pre_ping`` pings at every checkout, one round trip of every
    request (about 0.1 ms of CPU and a context switch each, 5 % of the GET mix's throughput);
    a connection used within the last few seconds is alive unless the server was restarted
    meanwhile, and then the request fails once and the pool is refreshed (SQLAlchemy
    invalidates every older connection when it sees a disconnect)."""

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError(f"idle connection is closed: {exc}") from exc
        if not alive:
            raise DisconnectionError("idle connection is closed")

    return checkout


class WriterLock:
    """One SQLite writer at a time, handed over at once: a thread lock for this process's
    writers and, for a database file, an exclusive ``flock`` on ``<file>-writer.lock`` for
    the other processes of the same server (``serve --workers N``).

    SQLite's own lock is taken by polling: its busy handler sleeps up to 100 ms between
    tries, so two worker processes writing at once left the lock idle most of the time
    (repetition posts: about 200/s with 2 workers at half the CPU, p99 about 1 s). ``flock``
    waits in the kernel and wakes the next writer as soon as the lock is released; the
    kernel also releases it if the process dies. ``:memory:`` databases and systems
    without ``fcntl`` use the thread lock alone (SQLite's lock still guards the file).
    """

    def __init__(self, database: str | None) -> None:
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        if (
            fcntl is not None
            and database
            and database != ":memory:"
            and "mode=memory" not in database
        ):
            path = Path(database)
            if path.parent.is_dir():
                self._fd = os.open(f"{path}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
                weakref.finalize(self, os.close, self._fd)  # closed with its engine

    def acquire(self, timeout: float) -> bool:
        if not self._thread_lock.acquire(timeout=timeout):
            return False
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._thread_lock.release()
                raise
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()


def take_sqlite_write_lock(connection: Connection) -> None:
    """Queue this connection's transaction behind the process's other SQLite writers.

    SQLite has one writer at a time; waiting in its busy handler polls with sleeps of up to
    100 ms, so under contention the lock sits idle most of the time and writers time out
    (50 parallel repetition posts took 30 s). A Python lock hands over at once. It is held
    until the transaction commits or rolls back (or the connection returns to the pool).
    Other processes on the same file still meet in SQLite's own lock.
    """
    info = connection.connection.info if connection.connection else {}
    if info.get(_HOLDS_WRITE_LOCK):
        return
    lock: WriterLock = connection.engine.info_write_lock  # type: ignore[attr-defined]
    if not lock.acquire(timeout=30):
        raise OperationalError("BEGIN", {}, Exception("database is locked (30 s)"))
    info[_HOLDS_WRITE_LOCK] = lock


_HOLDS_WRITE_LOCK = "openrehab_write_lock"
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _writes_take_the_lock(
    connection: Connection, _cursor: Any, statement: str, *_args: Any
) -> None:
    # Every write, not only those after lock_patient: a transaction that wrote first and then
    # waited for the lock would hold SQLite's lock against the lock's holder.
    if statement.lstrip()[:7].upper().startswith(_WRITES) and connection.in_transaction():
        take_sqlite_write_lock(connection)


def _release_write_lock(connection: Connection) -> None:
    info = connection.connection.info if connection.connection else {}
    lock = info.pop(_HOLDS_WRITE_LOCK, None)
    if lock is not None:
        lock.release()


def _release_write_lock_of_record(_dbapi: Any, record: Any, _reset_state: Any) -> None:
    lock = record.info.pop(_HOLDS_WRITE_LOCK, None)
    if lock is not None:
        lock.release()


def _refuse_nul_text(
    _conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, executemany: bool
) -> None:
    """PostgreSQL cannot store NUL in text and its driver fails on it; refuse it on every
    database, for every statement (a login name included), so both behave alike."""
    if _holds_nul(parameters):
        raise UnstorableTextError("Text may not contain the NUL character (\\x00).")


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


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
