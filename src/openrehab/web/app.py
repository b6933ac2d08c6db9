"""The OpenRehab web application (FastAPI): JSON API under /api/, HTML pages, static files.

``create_app`` wires settings, database and routers; nothing is fetched from the network and
every asset is served from the package.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from starlette.types import ASGIApp, Receive, Scope, Send

from openrehab import __version__
from openrehab.care import rules as care_rules
from openrehab.config import Settings
from openrehab.store import migrate
from openrehab.store.db import StoreError, check_connection, make_engine, make_session_factory
from openrehab.store.models import User
from openrehab.web import errors
from openrehab.web.deps import CurrentUser, optional_user
from openrehab.web.routes import (
    admin,
    admin_pages,
    auth,
    care_pages,
    clinical,
    exercise_pages,
    exercises,
    live,
    pages,
    patients,
    program,
    program_pages,
    records,
    report_pages,
    rhythm_pages,
    session_pages,
    tardieu,
    workspace_pages,
)

PACKAGE_DIR = Path(__file__).parent


def create_app(
    settings: Settings, *, engine: Engine | None = None, upgrade: bool = True
) -> FastAPI:
    """Build the app for ``settings``; applies migrations unless ``upgrade`` is False."""
    engine = engine or make_engine(settings.database_url)
    if upgrade:
        check_connection(engine)
        migrate.upgrade(engine)
    app = FastAPI(
        title="OpenRehab",
        version=__version__,
        summary="Home neurorehabilitation for people living with spasticity. Not a medical device.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        responses=errors.DOCUMENTED_ERRORS,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.templates = Jinja2Templates(directory=PACKAGE_DIR / "templates")
    app.state.templates.env.filters["seconds"] = format_seconds
    app.state.templates.env.filters["rule_title"] = care_rules.title_of
    # The pose and hand model bundles live with the pose package (Python uses them too).
    app.mount(
        "/static/models",
        StaticFiles(directory=PACKAGE_DIR.parent / "pose" / "models", check_dir=False),
        name="models",
    )
    app.mount("/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="static")
    for module in (auth, patients, records, clinical, tardieu, program, exercises, admin, live):
        app.include_router(module.router)
    app.include_router(clinical.alerts_router)
    app.include_router(tardieu.page_router)
    pages_modules = (workspace_pages, admin_pages, report_pages, pages, program_pages, care_pages)
    for module in (*pages_modules, exercise_pages, session_pages, rhythm_pages):
        app.include_router(module.router)
    _add_health(app)
    _add_api_docs(app)
    # Inside the security guard (added by errors.install, so outermost): a slot is taken only
    # once the body has been read. Half the pool: a request may need a second connection
    # (the audit entry of a refusal).
    requests = pool_capacity(engine) // 2
    limit = max(1, min(MAX_IN_FLIGHT, requests))
    downloads = MAX_DOWNLOADS_IN_FLIGHT if requests > limit else 0
    app.add_middleware(InFlightLimit, limit=limit, downloads=downloads)
    errors.install(app)
    return app


def pool_capacity(engine: Engine) -> int:
    """Connections the engine's pool can hand out at once (QueuePool: size + overflow)."""
    size = getattr(engine.pool, "size", None)
    overflow = getattr(engine.pool, "_max_overflow", 0)
    return max(1, size() + max(0, overflow)) if callable(size) else 15


#: HTTP requests one server process works on at once. CPython runs one thread's Python at a
#: time: more threads only queue for the interpreter lock, and one holding the database's
#: write lock (SQLite) or a patient's row lock (PostgreSQL) then waits for it too, holding
#: up every writer. Measured (``openrehab bench api``, 2 workers, 20 clients): SQLite's write
#: lock was held 2.4 ms per repetition post with 25 requests in flight per process against
#: 0.7 ms alone; 3 in flight: GET mix 814 -> 987-991 req/s, repetition posts 404 -> 490-519/s
#: (PostgreSQL 480 -> 576, 210 -> 300). 1-2 gave more posts but fewer GETs; 4-8, less of both.
MAX_IN_FLIGHT = 3

#: Downloads that keep a core busy for a noticeable time: the PDF report (~0.5 s of charts
#: and layout) and the period's FHIR and CSV exports. They have a lane of their own, one at a
#: time per process, so that a few reports at once no longer hold every other request back
#: (measured, one process: ``/api/me`` waited 1.45 s behind 3 PDF reports, 2.95 s behind 6).
DOWNLOAD_PATH = re.compile(r"^/patients/[^/]+/(report\.pdf|export/)")
MAX_DOWNLOADS_IN_FLIGHT = 1


class InFlightLimit:
    """At most ``limit`` HTTP requests of this process inside the app at once; the others
    wait their turn on the event loop, holding nothing (see ``MAX_IN_FLIGHT``).

    A request keeps its database connection across several worker-thread hops (auth, access
    check, endpoint, commit). With more requests in flight than pooled connections, every
    worker thread can end up waiting for a connection held by a request that waits for a
    thread: nothing moved until the pool's 30 s timeout (found by ``openrehab bench api`` at
    80 clients). With no more requests than connections, a connection is always free.
    WebSockets (live sessions) are not counted: they hold a connection only briefly.
    Downloads (``DOWNLOAD_PATH``) take one of ``downloads`` slots of their own instead (0:
    they share the others, for a pool too small for another lane)."""

    def __init__(self, app: ASGIApp, limit: int, downloads: int = 0) -> None:
        self.app = app
        self.slots = asyncio.Semaphore(limit)
        self.download_slots = asyncio.Semaphore(downloads) if downloads else self.slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(("/static/", "/health")):
            await self.app(scope, receive, send)
            return
        download = DOWNLOAD_PATH.match(scope["path"]) is not None
        slots = self.download_slots if download else self.slots
        try:
            await asyncio.wait_for(slots.acquire(), timeout=30)
        except TimeoutError:
            response = JSONResponse(
                {"detail": "The server is busy; try again shortly."},
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": "2"},
            )
            await response(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            slots.release()


def format_seconds(value: float | None) -> str:
    """Plain-language duration for pages: 0 -> "", 0.5 -> "0.5 seconds", 2 -> "2 seconds"."""
    if not value:
        return ""
    number = f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{number} {'second' if number == '1' else 'seconds'}"


def _add_api_docs(app: FastAPI) -> None:
    """The OpenAPI document and its interactive reference, for logged-in users only (the
    reference is Swagger UI vendored in the package: it works offline)."""

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document(user: CurrentUser) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/api/docs", include_in_schema=False, response_class=HTMLResponse)
    def api_docs(
        request: Request, user: Annotated[User | None, Depends(optional_user)]
    ) -> Response:
        if user is None:
            return RedirectResponse("/login?next=/api/docs", status.HTTP_303_SEE_OTHER)
        return app.state.templates.TemplateResponse(request, "api_docs.html", {})


def _add_health(app: FastAPI) -> None:
    @app.get("/health", tags=["service"])
    def health() -> JSONResponse:
        """Liveness and database reachability (no login needed, no personal data)."""
        try:
            check_connection(app.state.engine)
            database = "ok"
        except StoreError:
            database = "unreachable"
        body = {
            "status": "ok" if database == "ok" else "degraded",
            "database": database,
            "version": __version__,
        }
        code = status.HTTP_200_OK if database == "ok" else status.HTTP_503_SERVICE_UNAVAILABLE
        return JSONResponse(body, status_code=code)
