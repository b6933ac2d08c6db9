"""One guard in front of every HTTP request: cross-site request forgery, body size, headers.

``SecurityMiddleware`` is plain ASGI (no per-request task or body copy) and does three things:

* **Forgery.** A state-changing request (POST, PUT, PATCH, DELETE) that a browser could have
  sent on its own, that is one not carrying an ``Authorization`` header, must come from a page
  of this server: its ``Sec-Fetch-Site`` must be ``same-origin`` (or ``none``: typed by the
  user) and its ``Origin`` must name this server. A request that carries the session cookie
  but neither header is refused too, because every current browser sends them. This covers
  the login form (login CSRF), the page forms and the API used with the cookie alike, and a
  page on another port or subdomain of the same site (``SameSite`` does not stop those).
  Bearer-token clients are not affected: a browser never adds that header by itself.
  (OWASP CSRF Prevention Cheat Sheet, "Verifying Origin with standard headers" and "Fetch
  Metadata headers".)
* **Body size.** Bodies over ``max_body_bytes`` are refused with 413 before they are parsed,
  whether they announce their length or stream it.
* **Headers.** Every response gets a content security policy that forbids framing and foreign
  scripts, ``nosniff``, a strict referrer policy, and ``Cache-Control: no-store`` unless it is
  a static asset (so the Back button after logout shows no patient's records).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_BODY_BYTES = 1_000_000
SESSION_COOKIE = "openrehab_session"

# The pose model runs as WebAssembly in the page ('wasm-unsafe-eval' allows compiling it, not
# eval of strings); styles allow the one inline width of a progress bar.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()"),
]
NO_STORE = (b"cache-control", b"no-store")

Refusal = Callable[[Scope, int, str], Awaitable[None]]


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of request header ``name`` (lower-case bytes), decoded as Latin-1."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def own_hosts(scope: Scope) -> set[str]:
    """Host names (with port) this request may say it came from: the Host header, and behind
    a reverse proxy the host the browser asked for (X-Forwarded-Host; a page on another site
    cannot set that header on a form post or a WebSocket handshake)."""
    hosts = {header(scope, b"host") or "", header(scope, b"x-forwarded-host") or ""}
    return hosts - {""}


def same_origin(scope: Scope) -> bool:
    """True when the request's ``Origin`` header names this server (or is absent)."""
    origin = header(scope, b"origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc in own_hosts(scope)


def forgery_reason(scope: Scope) -> str | None:
    """Why a state-changing request must be refused as possibly forged, or None."""
    if scope["method"] not in UNSAFE_METHODS:
        return None
    authorization = header(scope, b"authorization") or ""
    if authorization.lower().startswith("bearer ") and authorization[7:].strip():
        return None
    fetch_site = header(scope, b"sec-fetch-site")
    origin = header(scope, b"origin")
    if fetch_site is not None and fetch_site not in {"same-origin", "none"}:
        return "This form was sent from another site or page; open OpenRehab itself and retry."
    if origin is not None and not same_origin(scope):
        return "This form was sent from another site or page; open OpenRehab itself and retry."
    if fetch_site is None and origin is None and SESSION_COOKIE in (header(scope, b"cookie") or ""):
        return "The browser did not say which page sent this; open OpenRehab itself and retry."
    return None


class SecurityMiddleware:
    """See the module docstring. ``on_refusal`` is awaited for each refused request (the app
    writes the audit entry there)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        on_refusal: Refusal | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.on_refusal = on_refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        reason = forgery_reason(scope)
        if reason is not None:
            await self._refuse(scope, send, 403, reason)
            return
        length = header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            await self._refuse(scope, send, 413, self._too_large())
            return
        if scope["method"] in UNSAFE_METHODS:
            # The body is read here, up to the limit, and replayed: a client that sends it
            # slowly holds nothing inside the app (no in-flight slot, no connection).
            body = await self._read_limited(receive)
            if body is None:
                await self._refuse(scope, send, 413, self._too_large())
                return
            receive = _replay(body, receive)
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                names = {name.lower() for name, _ in headers}
                headers += [h for h in SECURITY_HEADERS if h[0] not in names]
                if not static and b"cache-control" not in names:
                    headers.append(NO_STORE)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _too_large(self) -> str:
        return f"The request is larger than {self.max_body_bytes // 1000} kB."

    async def _read_limited(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it is larger than the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _refuse(self, scope: Scope, send: Send, code: int, reason: str) -> None:
        if self.on_refusal is not None:
            await self.on_refusal(scope, code, reason)
        wants_html = not scope["path"].startswith("/api/") and "text/html" in (
            header(scope, b"accept") or ""
        )
        if wants_html:
            body = _refusal_page(code, reason).encode()
            content_type = b"text/html; charset=utf-8"
        else:
            body = json.dumps({"detail": reason}).encode()
            content_type = b"application/json"
        headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
        await send(
            {
                "type": "http.response.start",
                "status": code,
                "headers": headers + SECURITY_HEADERS + [NO_STORE],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, then: Receive) -> Receive:
    """A receive that gives ``body`` once, then waits on ``then`` (e.g. for the disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await then()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _refusal_page(code: int, reason: str) -> str:
    from html import escape

    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>OpenRehab</title><link rel="stylesheet" href="/static/app.css"></head>'
        f'<body><main class="page"><h1>That did not work ({code})</h1><p>{escape(reason)}</p>'
        '<p><a class="button" href="/">Go to my page</a></p></main></body></html>'
    )
