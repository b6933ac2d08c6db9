"""API login: bearer tokens for API clients, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status

from openrehab.accounts.service import (
    BEARER_TOKEN_LIFETIME,
    audit,
    issue_token,
    login,
    revoke_all_tokens,
    revoke_token,
)
from openrehab.accounts.throttle import ThrottledError
from openrehab.web.deps import CurrentUser, Db, client_address, credentials
from openrehab.web.schemas import TokenRequest, TokenResponse, UserOut

router = APIRouter(prefix="/api", tags=["accounts"])


@router.post("/auth/token", response_model=TokenResponse)
def create_token(body: TokenRequest, request: Request, db: Db) -> TokenResponse:
    """Exchange a username and password for a bearer token (the only unauthenticated API
    route). Too many wrong passwords give 429 with ``Retry-After`` (seconds)."""
    try:
        user = login(db, body.username, body.password, client_address(request))
    except ThrottledError as exc:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=str(exc),
            headers={"Retry-After": str(exc.retry_after_s)},
        ) from None
    if user is None:
        db.commit()
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="Wrong username or password.")
    secret = issue_token(db, user, kind="bearer")
    audit(db, user, "login.api", "user", user.id)
    db.commit()
    return TokenResponse(
        access_token=secret, expires_in_s=int(BEARER_TOKEN_LIFETIME.total_seconds())
    )


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, user: CurrentUser, db: Db) -> None:
    """Revoke the token (or cookie session) used for this request."""
    secret = credentials(request)
    if secret:
        revoke_token(db, secret)
    audit(db, user, "logout", "user", user.id)
    db.commit()


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    """The logged-in user."""
    return UserOut.model_validate(user)


@router.post("/auth/logout-everywhere", status_code=status.HTTP_204_NO_CONTENT)
def logout_everywhere(user: CurrentUser, db: Db) -> None:
    """End every login of this account: all browser sessions and all API tokens."""
    ended = revoke_all_tokens(db, user)
    audit(db, user, "logout.everywhere", "user", user.id, {"tokens": ended})
    db.commit()
