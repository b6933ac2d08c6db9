"""PostgreSQL connections are pinged only after sitting idle in the pool (store/db.py).

A ping at every checkout (``pool_pre_ping``) is one round trip of every request; instead a
connection idle for ``IDLE_PING_S`` is pinged, and replaced if the server closed it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from openrehab.store import db as store_db
from openrehab.store.db import make_engine


@pytest.fixture
def pg_engine(database_url: str) -> Iterator[Engine]:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite connections are files, never pinged")
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _count_pings(engine: Engine) -> list[str]:
    """A list that gets one entry per ping (pings bypass SQLAlchemy's statement events)."""
    pings: list[str] = []
    original = engine.dialect.do_ping

    def counting_ping(dbapi_connection) -> bool:  # type: ignore[no-untyped-def]
        pings.append("ping")
        return original(dbapi_connection)

    engine.dialect.do_ping = counting_ping  # type: ignore[method-assign]
    return pings


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _kill(engine: Engine, pid: int) -> None:
    other = make_engine(str(engine.url.render_as_string(hide_password=False)))
    try:
        with other.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            connection.commit()
    finally:
        other.dispose()


def test_a_connection_in_use_is_not_pinged(pg_engine: Engine) -> None:
    pings = _count_pings(pg_engine)
    first = _backend_pid(pg_engine)
    for _ in range(5):
        assert _backend_pid(pg_engine) == first  # the same pooled connection
    assert pings == []


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = _count_pings(pg_engine)
    first = _backend_pid(pg_engine)
    _kill(pg_engine, first)
    monkeypatch.setattr(store_db, "IDLE_PING_S", 0.0)
    # The request gets a working connection: the dead one was found by the ping and replaced.
    second = _backend_pid(pg_engine)
    assert second != first
    assert pings == ["ping"]


def test_without_the_ping_a_recently_used_dead_connection_fails_once(
    pg_engine: Engine,
) -> None:
    # The trade-off, documented in store/db.py: within IDLE_PING_S of its last use a
    # connection the server closed fails the request that gets it; the pool then refreshes.
    first = _backend_pid(pg_engine)
    _kill(pg_engine, first)
    with pytest.raises(OperationalError), pg_engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    assert _backend_pid(pg_engine) != first
