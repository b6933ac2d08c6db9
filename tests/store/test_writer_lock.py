"""The SQLite writer lock is shared by the server's worker processes (store/db.py WriterLock)."""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

from sqlalchemy import text

from openrehab.store.db import WriterLock, make_engine, take_sqlite_write_lock


def _hold(path: str, held: mp.synchronize.Event, hold_s: float) -> None:
    lock = WriterLock(path)
    assert lock.acquire(timeout=5)
    held.set()
    time.sleep(hold_s)
    lock.release()


def test_another_process_waits_for_the_writer_and_gets_the_lock_when_released(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "openrehab.db")
    held = mp.get_context("spawn").Event()
    other = mp.get_context("spawn").Process(target=_hold, args=(path, held, 0.6))
    other.start()
    try:
        assert held.wait(30)
        t0 = time.monotonic()
        lock = WriterLock(path)
        assert lock.acquire(timeout=5)
        waited = time.monotonic() - t0
        lock.release()
    finally:
        other.join(10)
    # Without the file lock this process would not have waited at all; with SQLite's busy
    # handler alone it polls with sleeps of up to 100 ms.
    assert 0.3 < waited < 3.0


def test_a_lock_is_released_at_commit_and_taken_again(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'openrehab.db'}")
    with engine.connect() as conn:
        conn.execute(text("create table t (x integer)"))
        conn.commit()
        for value in range(3):
            take_sqlite_write_lock(conn)
            conn.execute(text("insert into t values (:x)"), {"x": value})
            conn.commit()
        assert conn.execute(text("select count(*) from t")).scalar() == 3
    other = WriterLock(str(tmp_path / "openrehab.db"))
    assert other.acquire(timeout=1)  # nothing left held
    other.release()
    engine.dispose()


def test_memory_databases_use_the_thread_lock_alone() -> None:
    lock = WriterLock(":memory:")
    assert lock.acquire(timeout=1)
    assert not lock.acquire(timeout=0.05)  # one writer at a time in this process
    lock.release()
