"""Fuzz the whole API from /openapi.json (schemathesis): no input may produce a 5xx.

Each generated request is sent as an admin (who passes every access check, so the deepest
code runs), as a linked caregiver and anonymously, against a demo-seeded SQLite database, and a
PostgreSQL one when OPENREHAB_TEST_POSTGRES_URL is set. Sequences of calls (a write, then every
read of the patient) are fuzzed by test_api_stateful_fuzz.py.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from fuzzing import postgres_database
from openrehab.config import Settings

FUZZ_EXAMPLES = int(os.environ.get("OPENREHAB_FUZZ_EXAMPLES", "25"))


def _build_app(database_url: str | None = None):  # type: ignore[no-untyped-def]
    from openrehab.accounts.service import create_user, issue_token
    from openrehab.services.demo import seed_demo
    from openrehab.store.db import make_engine, session_scope
    from openrehab.store.models import Role, User
    from openrehab.web.app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="openrehab-fuzz-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    url = database_url or f"sqlite:///{tmp / 'fuzz.sqlite3'}"
    app = create_app(Settings(tmp, url), engine=make_engine(url))
    with session_scope(app.state.session_factory) as db:
        seed_demo(db)
        admin = create_user(db, "fuzz-admin", "amber-walrus-fuzzing", Role.admin)
        caregiver = db.query(User).filter_by(username="caregiver").one()
        app.state.fuzz_headers = {
            "admin": {"Authorization": f"Bearer {issue_token(db, admin, 'bearer')}"},
            "caregiver": {"Authorization": f"Bearer {issue_token(db, caregiver, 'bearer')}"},
            "anonymous": {},
        }
    return app


def check_case(app, case) -> None:  # type: ignore[no-untyped-def]
    if case.path == "/api/auth/logout":
        return  # would revoke the fuzzing token; the access matrix covers logout
    for caller, auth in app.state.fuzz_headers.items():
        response = case.call(headers={**(case.headers or {}), **auth})
        assert response.status_code < 500, (
            f"{caller}: {case.method} {case.formatted_path} gave {response.status_code}: "
            f"{response.text[:300]}"
        )
        if (
            caller == "anonymous"
            and case.path.startswith("/api/")
            and "auth/token" not in case.path
        ):
            assert response.status_code >= 400, "anonymous caller was served data"


FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
SQLITE_APP = _build_app()
sqlite_schema = schemathesis.openapi.from_asgi(
    "/openapi.json", SQLITE_APP, headers=SQLITE_APP.state.fuzz_headers["admin"]
)


@sqlite_schema.parametrize()
@FUZZ
def test_no_input_causes_a_server_error_sqlite(case) -> None:  # type: ignore[no-untyped-def]
    check_case(SQLITE_APP, case)


_pg_url = postgres_database()
if _pg_url:
    POSTGRES_APP = _build_app(_pg_url)
    postgres_schema = schemathesis.openapi.from_asgi(
        "/openapi.json", POSTGRES_APP, headers=POSTGRES_APP.state.fuzz_headers["admin"]
    )

    @postgres_schema.parametrize()
    @FUZZ
    def test_no_input_causes_a_server_error_postgresql(case) -> None:  # type: ignore[no-untyped-def]
        check_case(POSTGRES_APP, case)
