"""Request dependencies: database session, the caller, and access checks.

Every /api/ route depends on ``current_user`` (401 without valid credentials) and every route
that names a patient goes through ``patient_access`` (403 when the caller may not).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from openrehab.accounts.access import Action, can_access
from openrehab.accounts.service import COOKIE_TOKEN_LIFETIME, user_for_token
from openrehab.store.models import Role, User

COOKIE_NAME = "openrehab_session"
PatientId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The patient's user id")]


async def get_db(request: Request) -> AsyncIterator[Session]:
    """The request's database session. Making it touches no database (a connection is
    taken at the first query, on the worker thread that runs it), so it is made on the
    event loop; the commit (or rollback) and close run in one worker-thread hop at the end.
    (A sync generator here cost two hops per request: enter and exit.)"""
    session: Session = request.app.state.session_factory()
    try:
        yield session
    except BaseException:
        await run_in_threadpool(_rollback_and_close, session)
        raise
    await run_in_threadpool(_commit_and_close, session)


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _rollback_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


Db = Annotated[Session, Depends(get_db)]


def credentials(request: Request) -> str | None:
    """The bearer token from the Authorization header, else the session cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.cookies.get(COOKIE_NAME)


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def set_session_cookie(response: Response, request: Request, secret: str) -> None:
    """The browser login cookie: HttpOnly, SameSite=Lax, and Secure everywhere but plain
    HTTP on this machine itself (loopback traffic cannot be overheard, and Safari refuses
    Secure cookies from http://localhost). Elsewhere OpenRehab must be served over HTTPS
    (docs/security.md)."""
    response.set_cookie(
        COOKIE_NAME,
        secret,
        max_age=int(COOKIE_TOKEN_LIFETIME.total_seconds()),
        httponly=True,
        secure=not _loopback_http(request),
        samesite="lax",
        path="/",
    )


def _loopback_http(request: Request) -> bool:
    return request.url.scheme == "http" and (request.url.hostname or "") in LOOPBACK_HOSTS


def insecure_connection(request: Request) -> bool:
    """True when the page came over plain HTTP from another machine: the browser will then
    refuse the Secure login cookie, and the login page says why."""
    return request.url.scheme == "http" and not _loopback_http(request)


def client_address(request: Request) -> str:
    """The caller's address (behind a trusted reverse proxy, the one it forwarded)."""
    return request.client.host if request.client else "unknown"


def optional_user(request: Request, db: Db) -> User | None:
    """The logged-in user or None; kept on ``request.state`` for the audit of refusals."""
    secret = credentials(request)
    user = user_for_token(db, secret) if secret else None
    request.state.user_id = user.id if user is not None else None
    return user


async def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    # async: no I/O here, so no worker-thread hop
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="Log in first: send 'Authorization: Bearer <token>' or the session cookie.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: Role) -> Callable[[User], User]:
    async def dependency(user: CurrentUser) -> User:
        if user.role not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"Only {' or '.join(r.value for r in roles)} accounts may do this.",
            )
        return user

    return dependency


def patient_access(action: Action) -> Callable[..., User]:
    """Dependency checking that the caller may ``action`` the patient in the path.

    Returns the patient user. Refusals are audited (``web.errors``). Writes that read before
    they write take the patient's write lock in the service that does them
    (``store.records.lock_patient``), not here: a dependency runs on another worker thread
    than the route, and a lock held across that hop can starve the threads it waits for.
    """

    def dependency(patient_id: PatientId, user: CurrentUser, db: Db) -> User:
        if not can_access(db, user, patient_id, action):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"You may not {action.value} records of patient {patient_id}.",
            )
        patient = db.get(User, patient_id)
        if patient is None or patient.role is not Role.patient:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No patient {patient_id}.")
        return patient

    return dependency


PatientRead = Annotated[User, Depends(patient_access(Action.read))]
PatientRecord = Annotated[User, Depends(patient_access(Action.record))]
PatientPrescribe = Annotated[User, Depends(patient_access(Action.prescribe))]

ObjectId = Annotated[int, Path(ge=1, le=2**31 - 1)]
