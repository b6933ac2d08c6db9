"""API login: bearer tokens for API clients, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status

from openrehab.accounts.service import (
    BEARER_TOKEN_LIFETIME,
    audit,
    authenticate,
    issue_token,
    revoke_token,
)
from openrehab.web.deps import CurrentUser, Db, credentials
from openrehab.web.schemas import TokenRequest, TokenResponse, UserOut

router = APIRouter(prefix="/api", tags=["accounts"])


@router.post("/auth/token", response_model=TokenResponse)
def create_token(body: TokenRequest, db: Db) -> TokenResponse:
    """Exchange a username and password for a bearer token (the only unauthenticated API route)."""
    user = authenticate(db, body.username, body.password)
    if user is None:
        audit(db, None, "login.failed", "user", None, {"username": body.username[:80]})
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
