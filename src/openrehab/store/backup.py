"""Backup and restore of the whole database, portable between SQLite and PostgreSQL.

A backup is gzip-compressed JSON lines: a header (format, version, the schema revision, the
tables and their columns), then one line per row (``[table, [values]]``), tables in
dependency order. Dates and times are ISO 8601 (UTC), JSON columns stay JSON, enums their
value. It is consistent while the app is serving: SQLite is first copied with SQLite's own
online backup API (a snapshot, writers go on), PostgreSQL is read in one REPEATABLE READ
transaction.

``restore`` writes a backup into a database at the same schema revision that holds no rows
(or, with ``replace``, whose rows are deleted first), in one transaction, then moves
PostgreSQL's id sequences past the restored ids. Nothing is written when anything fails.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Date, DateTime, Engine, Enum, create_engine, func, select, text
from sqlalchemy.engine import make_url

from openrehab.store import migrate
from openrehab.store.models import Base

FORMAT = "openrehab-backup"
VERSION = 1
BATCH_ROWS = 1000


class BackupError(ValueError):
    """The backup cannot be read or restored here; the message says why."""


def _value(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return v.isoformat()
    if hasattr(v, "value") and not isinstance(v, int | float | str):
        return v.value  # an enum
    return v


def _tables_rows(conn: Connection) -> Iterator[tuple[str, list[Any]]]:
    for table in Base.metadata.sorted_tables:
        key = [c for c in table.primary_key.columns] or list(table.columns)
        for row in conn.execute(select(table).order_by(*key)):
            yield table.name, [_value(v) for v in row]


def _header(revision: str | None) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "revision": revision,
        "created_at": datetime.now().astimezone().isoformat(),
        "tables": {t.name: [c.name for c in t.columns] for t in Base.metadata.sorted_tables},
    }


def _write(conn: Connection, revision: str | None, out: IO[bytes]) -> dict[str, int]:
    counts: dict[str, int] = {t.name: 0 for t in Base.metadata.sorted_tables}
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        gz.write((json.dumps(_header(revision)) + "\n").encode())
        for name, values in _tables_rows(conn):
            gz.write((json.dumps([name, values], ensure_ascii=False) + "\n").encode())
            counts[name] += 1
    return counts


def backup(engine: Engine, out: IO[bytes]) -> dict[str, int]:
    """Write a backup of ``engine``'s database to ``out``; rows per table."""
    revision = migrate.current_revision(engine)
    if engine.dialect.name == "sqlite":
        database = make_url(engine.url).database
        if not database or database == ":memory:":
            raise BackupError("Only a SQLite database in a file can be backed up.")
        with tempfile.TemporaryDirectory() as folder:
            copy = Path(folder) / "snapshot.sqlite3"
            source, target = sqlite3.connect(database), sqlite3.connect(copy)
            try:
                source.backup(target)  # a consistent snapshot while others write
            finally:
                source.close()
                target.close()
            snapshot = create_engine(f"sqlite:///{copy}")
            try:
                with snapshot.connect() as conn:
                    return _write(conn, revision, out)
            finally:
                snapshot.dispose()
    connection = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with connection as conn, conn.begin():
        return _write(conn, revision, out)


def _read(src: IO[bytes]) -> tuple[dict[str, Any], Iterator[list[Any]]]:
    gz = gzip.GzipFile(fileobj=src, mode="rb")
    try:
        header = json.loads(gz.readline())
    except (OSError, EOFError, ValueError):
        raise BackupError("Not an OpenRehab backup (not gzip-compressed JSON lines).") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError("Not an OpenRehab backup (no openrehab-backup header).")
    if header.get("version") != VERSION:
        raise BackupError(f"Backup format version {header.get('version')} is not supported.")

    def rows() -> Iterator[list[Any]]:
        try:
            for line in gz:
                yield json.loads(line)
        except (OSError, EOFError, ValueError) as exc:
            raise BackupError(f"The backup is damaged ({exc}).") from None

    return header, rows()


def _converters(table_name: str, columns: list[str]) -> list[Any]:
    table = Base.metadata.tables[table_name]
    out = []
    for name in columns:
        kind = table.columns[name].type
        impl = getattr(kind, "impl", kind)
        if isinstance(impl, DateTime):
            out.append(lambda v: None if v is None else datetime.fromisoformat(v))
        elif isinstance(impl, Date):
            out.append(lambda v: None if v is None else date.fromisoformat(v))
        elif isinstance(kind, Enum) and kind.enum_class is not None:
            out.append(lambda v, e=kind.enum_class: None if v is None else e(v))
        else:
            out.append(lambda v: v)
    return out


def _row_counts(conn: Connection) -> dict[str, int]:
    return {
        t.name: conn.scalar(select(func.count()).select_from(t)) or 0
        for t in Base.metadata.sorted_tables
    }


def restore(engine: Engine, src: IO[bytes], *, replace: bool = False) -> dict[str, int]:
    """Restore a backup into ``engine``'s database (see the module doc); rows per table."""
    header, rows = _read(src)
    head = migrate.current_revision(engine)
    if header.get("revision") != head:
        raise BackupError(
            f"The backup is of schema revision {header.get('revision')}, this database is at "
            f"{head}: restore with the OpenRehab version that made it (or upgrade it there first)."
        )
    known = {t.name: [c.name for c in t.columns] for t in Base.metadata.sorted_tables}
    if header.get("tables") != known:
        raise BackupError("The backup's tables differ from this version's.")
    converters = {name: _converters(name, cols) for name, cols in known.items()}
    counts = dict.fromkeys(known, 0)
    with engine.begin() as conn:
        existing = _row_counts(conn)
        if any(existing.values()) and not replace:
            held = ", ".join(f"{n} {t}" for t, n in existing.items() if n)
            raise BackupError(f"The database is not empty ({held}); use --replace to overwrite.")
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        batch: list[dict[str, Any]] = []
        current: str | None = None
        for name, values in rows:
            if name not in known or len(values) != len(known[name]):
                raise BackupError(f"The backup is damaged (a row of {name!r} does not fit).")
            if name != current and batch:
                conn.execute(Base.metadata.tables[current].insert(), batch)  # type: ignore[index]
                batch = []
            current = name
            batch.append(
                {c: f(v) for c, f, v in zip(known[name], converters[name], values, strict=True)}
            )
            counts[name] += 1
            if len(batch) >= BATCH_ROWS:
                conn.execute(Base.metadata.tables[name].insert(), batch)
                batch = []
        if batch and current:
            conn.execute(Base.metadata.tables[current].insert(), batch)
        if conn.dialect.name == "postgresql":
            _move_sequences(conn)
    return counts


def _move_sequences(conn: Connection) -> None:
    """Let new rows get ids after the restored ones."""
    for table in Base.metadata.sorted_tables:
        if "id" not in table.columns:
            continue
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
            )
        )
