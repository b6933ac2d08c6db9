"""How the app answers what it refuses or cannot do, in one place.

* Every refusal (401, 403, 413, 429, and forged forms) is written to the audit log with who
  asked, what and why, whether the API, a page, the security guard or the live socket refused.
* Errors come as ``{"detail": ...}`` JSON for the API and as the friendly error page for a
  browser; a 422 always carries the list form (``loc``, ``msg``, ``type``).
* Database conflicts are 409, an unreachable database 503, text the database cannot store 422.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from openrehab.store.db import UnstorableTextError
from openrehab.store.models import AuditLog
from openrehab.web.security import Scope, SecurityMiddleware

REFUSAL_CODES = frozenset({401, 403, 413, 429})


class ErrorOut(BaseModel):
    detail: str = Field(description="Why, in one plain sentence")


class ValidationErrorOut(BaseModel):
    detail: list[dict[str, Any]] = Field(description="One entry per problem: loc, msg, type")


# Listed for every API operation in the OpenAPI document (besides its success code and 422).
DOCUMENTED_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The request cannot be done as asked"},
    401: {"model": ErrorOut, "description": "Not logged in, or the login has ended"},
    403: {"model": ErrorOut, "description": "Logged in, but not allowed (audited)"},
    404: {"model": ErrorOut, "description": "No such record (for this patient)"},
    409: {"model": ErrorOut, "description": "Conflicts with what is stored (e.g. set ended)"},
    413: {"model": ErrorOut, "description": "The body is larger than 1 MB"},
    422: {"model": ValidationErrorOut, "description": "A value cannot be used"},
    429: {"model": ErrorOut, "description": "Too many attempts; see Retry-After"},
    503: {"model": ErrorOut, "description": "The database is not reachable"},
}


def record_refusal(
    factory: sessionmaker[Session],
    user_id: int | None,
    code: int,
    method: str,
    path: str,
    reason: str,
) -> None:
    """Write one ``access.refused`` audit entry in its own transaction (the request's own
    transaction is rolled back when it fails)."""
    with factory() as db:
        db.add(
            AuditLog(
                user_id=user_id,
                action="access.refused",
                target_type="request",
                detail={
                    "status": code,
                    "method": method,
                    "path": path[:300],
                    "reason": str(reason)[:300],
                },
            )
        )
        db.commit()


def request_user_id(request: Any) -> int | None:
    """The id of the caller when authentication ran for this request (``deps.optional_user``
    puts it on ``request.state``)."""
    return getattr(request.state, "user_id", None)


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


def validation_detail(errors: list[Any]) -> list[dict[str, Any]]:
    return [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in errors
    ]


def install(app: FastAPI) -> None:
    """Add the security guard and the error handlers to ``app``."""

    async def on_refusal(scope: Scope, code: int, reason: str) -> None:
        await run_in_threadpool(
            record_refusal,
            app.state.session_factory,
            None,
            code,
            scope["method"],
            scope["path"],
            reason,
        )

    app.add_middleware(SecurityMiddleware, on_refusal=on_refusal)
    templates = app.state.templates

    def page(request: Request, code: int, message: object) -> Response:
        return templates.TemplateResponse(
            request,
            "error.html",
            {"code": code, "message": message, "user": None},
            status_code=code,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in REFUSAL_CODES:
            await run_in_threadpool(
                record_refusal,
                app.state.session_factory,
                request_user_id(request),
                exc.status_code,
                request.method,
                request.url.path,
                str(exc.detail),
            )
        if wants_html(request):
            return page(request, exc.status_code, exc.detail)
        detail: object = exc.detail
        if exc.status_code == 422 and isinstance(detail, str):
            detail = [{"loc": ["body"], "msg": detail, "type": "value_error"}]
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        detail = validation_detail(list(exc.errors()))
        if wants_html(request):
            return page(
                request,
                404 if any(d["loc"][:1] == ["path"] for d in detail) else 422,
                "That address or form has a value that cannot be used.",
            )
        return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(UnstorableTextError)
    async def unstorable_text(request: Request, exc: UnstorableTextError) -> Response:
        if wants_html(request):
            return page(request, 422, str(exc))
        detail = [{"loc": ["body"], "msg": str(exc), "type": "value_error"}]
        return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        return JSONResponse(
            {"detail": "That conflicts with a record already stored."},
            status_code=status.HTTP_409_CONFLICT,
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeoutError)
    async def database_busy(request: Request, exc: Exception) -> JSONResponse:
        # Unreachable, locked past its timeout, or every connection busy: nothing was stored,
        # and the client may retry (with the same repetition client_id, nothing is doubled).
        return JSONResponse(
            {"detail": "The database is busy or not available right now; try again shortly."},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "1"},
        )
