"""The OpenRehab web application (FastAPI): JSON API under /api/, HTML pages, static files.

``create_app`` wires settings, database and routers; nothing is fetched from the network and
every asset is served from the package.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from openrehab import __version__
from openrehab.config import Settings
from openrehab.store import migrate
from openrehab.store.db import StoreError, check_connection, make_engine, make_session_factory
from openrehab.web.routes import (
    admin,
    auth,
    clinical,
    exercises,
    live,
    pages,
    patients,
    program,
    records,
    rhythm_pages,
    session_pages,
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
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.templates = Jinja2Templates(directory=PACKAGE_DIR / "templates")
    app.state.templates.env.filters["seconds"] = format_seconds
    # The pose and hand model bundles live with the pose package (Python uses them too).
    app.mount(
        "/static/models",
        StaticFiles(directory=PACKAGE_DIR.parent / "pose" / "models", check_dir=False),
        name="models",
    )
    app.mount("/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="static")
    for module in (auth, patients, records, clinical, program, exercises, admin, live):
        app.include_router(module.router)
    for module in (pages, session_pages, rhythm_pages):
        app.include_router(module.router)
    _add_health(app)
    _add_error_handlers(app)
    return app


def format_seconds(value: float | None) -> str:
    """Plain-language duration for pages: 0 -> "", 0.5 -> "0.5 seconds", 2 -> "2 seconds"."""
    if not value:
        return ""
    number = f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{number} {'second' if number == '1' else 'seconds'}"


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


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


def _add_error_handlers(app: FastAPI) -> None:
    templates: Jinja2Templates = app.state.templates

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> object:
        if _wants_html(request):
            return templates.TemplateResponse(
                request,
                "error.html",
                {"code": exc.status_code, "message": exc.detail, "user": None},
                status_code=exc.status_code,
            )
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        return JSONResponse(
            {"detail": "That conflicts with a record already stored."},
            status_code=status.HTTP_409_CONFLICT,
        )

    @app.exception_handler(OperationalError)
    async def database_down(request: Request, exc: OperationalError) -> JSONResponse:
        return JSONResponse(
            {"detail": "The database is not available right now; try again shortly."},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
