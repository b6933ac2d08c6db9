"""Backup and restore (store/backup.py): a lossless round trip on SQLite and PostgreSQL, a
consistent backup while writes go on, and refusals that keep the database as it was."""

from __future__ import annotations

import gzip
import io
import threading

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from openrehab.services.demo import seed_demo
from openrehab.store.backup import BackupError, backup, restore
from openrehab.store.db import make_session_factory
from openrehab.store.models import ExerciseSet, Repetition, User


def _backup(engine: Engine) -> bytes:
    out = io.BytesIO()
    backup(engine, out)
    return out.getvalue()


def _rows(data: bytes) -> list[bytes]:
    return gzip.decompress(data).split(b"\n")[1:]


def test_a_backup_restores_to_the_same_rows_and_new_rows_get_new_ids(
    engine: Engine, db: Session, other_engine: Engine
) -> None:
    seed_demo(db)
    db.commit()
    first = _backup(engine)
    counts = restore(other_engine, io.BytesIO(first))
    assert counts["repetitions"] > 100 and counts["users"] == 3
    assert _rows(_backup(other_engine)) == _rows(first)  # lossless, value for value
    with make_session_factory(other_engine)() as session:
        pat = session.scalar(select(User).where(User.username == "patient"))
        assert pat is not None and pat.profile is not None and pat.profile.regions["elbow"]
        session.add(User(username="new-one", display_name="N", role="patient", password_hash="x"))
        session.commit()  # the id sequence moved past the restored ids (PostgreSQL)
        assert session.scalar(select(func.max(User.id))) == 4


def test_restore_refuses_a_database_with_rows_unless_replacing(
    engine: Engine, db: Session, other_engine: Engine
) -> None:
    seed_demo(db)
    db.commit()
    data = _backup(engine)
    restore(other_engine, io.BytesIO(data))
    with pytest.raises(BackupError, match="not empty"):
        restore(other_engine, io.BytesIO(data))
    assert restore(other_engine, io.BytesIO(data), replace=True)["users"] == 3
    assert _rows(_backup(other_engine)) == _rows(data)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not gzip at all", "Not an OpenRehab backup"),
        # mtime=0: the same bytes in every xdist worker (their test ids must match)
        (gzip.compress(b'{"format": "other"}\n', mtime=0), "no openrehab-backup header"),
        (gzip.compress(b'{"format": "openrehab-backup", "version": 99}\n', mtime=0), "version 99"),
    ],
    ids=["not-gzip", "other-format", "future-version"],
)
def test_restore_refuses_what_is_not_a_backup(
    other_engine: Engine, content: bytes, message: str
) -> None:
    with pytest.raises(BackupError, match=message):
        restore(other_engine, io.BytesIO(content))


def test_a_damaged_backup_restores_nothing(
    engine: Engine, db: Session, other_engine: Engine
) -> None:
    seed_demo(db)
    db.commit()
    lines = gzip.decompress(_backup(engine)).split(b"\n")
    damaged = gzip.compress(b"\n".join(lines[: len(lines) // 2]) + b'\n["users", [1]]\n')
    with pytest.raises(BackupError, match="does not fit"):
        restore(other_engine, io.BytesIO(damaged))
    with make_session_factory(other_engine)() as session:
        assert session.scalar(select(func.count(User.id))) == 0


def test_a_sqlite_backup_is_consistent_while_sets_are_being_recorded(
    engine: Engine, db: Session, other_engine: Engine
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the online backup API is SQLite's; PostgreSQL reads one snapshot")
    seed_demo(db)
    db.commit()
    stop = threading.Event()
    factory = make_session_factory(engine)
    set_id = db.scalar(select(ExerciseSet.id).limit(1))

    def writer() -> None:
        n = 10_000
        while not stop.is_set():
            with factory() as session:
                session.add(Repetition(set_id=set_id, index=n, start_s=0.0, end_s=1.0))
                session.commit()
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        data = [_backup(engine) for _ in range(3)]
    finally:
        stop.set()
        thread.join()
    sizes = []
    for snapshot in data:
        restore(other_engine, io.BytesIO(snapshot), replace=True)
        with make_session_factory(other_engine)() as session:
            sizes.append(session.scalar(select(func.count(Repetition.id))))
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]  # later snapshots hold more
