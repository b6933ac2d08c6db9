"""At most ``MAX_IN_FLIGHT`` HTTP requests of a server process inside the app at once; the
rest wait their turn and are all answered (web/app.py explains the number)."""

from __future__ import annotations

import asyncio

from starlette.types import Receive, Scope, Send

from openrehab.config import Settings
from openrehab.web.app import (
    DOWNLOAD_PATH,
    MAX_DOWNLOADS_IN_FLIGHT,
    MAX_IN_FLIGHT,
    InFlightLimit,
    create_app,
)


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
    limits = [
        (m.kwargs["limit"], m.kwargs["downloads"])
        for m in app.user_middleware
        if m.cls is InFlightLimit
    ]
    assert limits == [(MAX_IN_FLIGHT, MAX_DOWNLOADS_IN_FLIGHT)] == [(3, 1)]


REPORT = "/patients/7/report.pdf"


def _lane_run(limited: InFlightLimit, paths: list[str]) -> list[str]:
    """Send requests for ``paths`` at once (in that order); the paths in the order their
    answers finished."""
    finished: list[str] = []

    async def one(path: str) -> None:
        async def send(message: dict) -> None:
            if message["type"] == "http.response.body":
                finished.append(path)

        async def receive() -> dict:
            return {"type": "http.request", "body": b"", "more_body": False}

        await limited({"type": "http", "path": path}, receive, send)  # type: ignore[arg-type]

    async def many() -> None:
        await asyncio.gather(*(one(p) for p in paths))

    asyncio.run(many())
    return finished


def _slow_downloads(inside: dict[str, int], most: dict[str, int]):  # type: ignore[no-untyped-def]
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        lane = "download" if DOWNLOAD_PATH.match(scope["path"]) else "other"
        inside[lane] += 1
        most[lane] = max(most[lane], inside[lane])
        await asyncio.sleep(0.05 if lane == "download" else 0.001)
        inside[lane] -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def test_reports_have_a_lane_of_their_own_and_hold_no_other_request_back() -> None:
    """Six PDF reports asked at once, then a patient's request: the reports are made one at
    a time, and the patient's request is answered before the second report, not after all
    six (they used to take all 3 slots: /api/me waited 1.45 s behind 3 real reports)."""
    inside, most = {"download": 0, "other": 0}, {"download": 0, "other": 0}
    limited = InFlightLimit(_slow_downloads(inside, most), limit=3, downloads=1)
    exports = ["/patients/7/export/sessions.csv", "/patients/7/export/fhir.json"]
    finished = _lane_run(limited, [REPORT] * 4 + exports + ["/api/me"])
    assert most == {"download": 1, "other": 1}
    assert finished.index("/api/me") < 2
    assert finished.count(REPORT) == 4 and set(exports) <= set(finished)


def test_without_a_download_lane_reports_share_the_slots() -> None:
    """A pool too small for another lane (downloads=0): reports take the common slots."""
    inside, most = {"download": 0, "other": 0}, {"download": 0, "other": 0}
    limited = InFlightLimit(_slow_downloads(inside, most), limit=3)
    finished = _lane_run(limited, [REPORT] * 4 + ["/api/me"])
    assert most["download"] == 3
    assert finished.index("/api/me") >= 3


def test_only_reports_and_exports_are_downloads() -> None:
    downloads = [REPORT, "/patients/12/export/repetitions.csv", "/patients/12/export/fhir.json"]
    others = ["/patients/12", "/patients/12/report", "/api/patients/12/sets", "/exports/report.pdf"]
    assert all(DOWNLOAD_PATH.match(p) for p in downloads)
    assert not any(DOWNLOAD_PATH.match(p) for p in others)
