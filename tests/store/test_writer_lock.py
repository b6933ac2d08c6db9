"""The SQLite writer lock is shared by the server's worker processes (store/db.py WriterLock)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from openrehab.store.db import WriterLock, make_engine, take_sqlite_write_lock

HOLDER = """
import sys, time
from openrehab.store.db import WriterLock
lock = WriterLock(sys.argv[1])
assert lock.acquire(timeout=5)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
lock.release()
"""


def test_another_process_waits_for_the_writer_and_gets_the_lock_when_released(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "openrehab.db")
    other = subprocess.Popen(
        [sys.executable, "-c", HOLDER, path, "0.6"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        lock = WriterLock(path)
        assert lock.acquire(timeout=5)
        waited = time.monotonic() - t0
        lock.release()
    finally:
        other.wait(10)
    # Without the file lock this process would not have waited at all; with SQLite's busy
    # handler alone it polls with sleeps of up to 100 ms.
    assert 0.3 < waited < 3.0
    assert other.returncode == 0


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
