"""At most ``MAX_IN_FLIGHT`` HTTP requests of a server process inside the app at once; the
rest wait their turn and are all answered (web/app.py explains the number)."""

from __future__ import annotations

import asyncio

from starlette.types import Receive, Scope, Send

from openrehab.config import Settings
from openrehab.web.app import MAX_IN_FLIGHT, InFlightLimit, create_app


def test_requests_beyond_the_limit_wait_their_turn_and_are_all_answered() -> None:
    inside = 0
    most_inside = 0

    async def slow_app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal inside, most_inside
        inside += 1
        most_inside = max(most_inside, inside)
        await asyncio.sleep(0.01)
        inside -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    limited = InFlightLimit(slow_app, limit=3)

    async def one(path: str) -> int:
        statuses = []

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        async def receive() -> dict:
            return {"type": "http.request", "body": b"", "more_body": False}

        await limited({"type": "http", "path": path}, receive, send)  # type: ignore[arg-type]
        return statuses[0]

    async def many() -> list[int]:
        return await asyncio.gather(*(one("/api/me") for _ in range(20)))

    assert asyncio.run(many()) == [200] * 20
    assert most_inside == 3
    # /health is never held back (a load balancer's probe must not queue behind requests)
    most_inside = 0

    async def probes() -> list[int]:
        return await asyncio.gather(*(one("/health") for _ in range(10)))

    assert asyncio.run(probes()) == [200] * 10
    assert most_inside == 10


def test_the_app_lets_max_in_flight_requests_in(settings: Settings) -> None:
    app = create_app(settings)
    limits = [m.kwargs["limit"] for m in app.user_middleware if m.cls is InFlightLimit]
    assert limits == [MAX_IN_FLIGHT] == [3]
