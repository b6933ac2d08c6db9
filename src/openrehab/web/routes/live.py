"""The live exercise WebSocket (protocol in docs/live-protocol.md) and the demo landmark stream.

The route only moves messages: :class:`openrehab.live.session.LiveSession` validates, counts
and stores. Database work runs in a worker thread so one slow commit does not stall every
other patient's stream; the engine runs inline (about 0.1 ms a frame).
"""

from __future__ import annotations

import functools
import gc
import json
import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request, WebSocket, WebSocketDisconnect, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from openrehab.accounts.access import Action, can_access
from openrehab.accounts.service import issue_token, user_for_token
from openrehab.exercises.library import load_library
from openrehab.live.demo_stream import demo_available, demo_stream
from openrehab.live.limits import FRAMES_PER_S, FrameBudget
from openrehab.live.protocol import (
    EndSet,
    Frames,
    Hit,
    ProtocolError,
    Simple,
    Start,
    Tap,
    parse_client_message,
)
from openrehab.live.session import LiveSession
from openrehab.services import program as program_service
from openrehab.store.models import Role, User
from openrehab.web.deps import COOKIE_NAME, CurrentUser, Db, PatientId, set_session_cookie
from openrehab.web.errors import record_refusal
from openrehab.web.security import same_origin

router = APIRouter(tags=["live"])

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
INTERNAL_ERROR = "Something went wrong on the server; what was counted before is kept."
RATE_LIMITED = "Frames are coming faster than a camera sends them; these were not counted."
logger = logging.getLogger(__name__)


def _authorise(websocket: WebSocket, patient_id: int) -> tuple[int, str] | int:
    """The caller's user id when they may record for the patient, else (close code, reason)."""
    header = websocket.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" else ""
    secret = bearer or websocket.cookies.get(COOKIE_NAME, "")
    factory = websocket.app.state.session_factory
    path = websocket.url.path
    if not bearer and secret and not same_origin(websocket.scope):
        reason = "This page is not from this server."
        record_refusal(factory, None, CLOSE_FORBIDDEN, "WEBSOCKET", path, reason)
        return CLOSE_FORBIDDEN, reason
    with factory() as db:
        user = user_for_token(db, secret) if secret else None
        if user is None:
            record_refusal(factory, None, CLOSE_UNAUTHENTICATED, "WEBSOCKET", path, "Log in first.")
            return CLOSE_UNAUTHENTICATED, "Log in first."
        patient = db.get(User, patient_id)
        allowed = can_access(db, user, patient_id, Action.record)
        if not allowed or patient is None or patient.role is not Role.patient:
            reason = f"You may not record exercise for patient {patient_id}."
            record_refusal(factory, user.id, CLOSE_FORBIDDEN, "WEBSOCKET", path, reason)
            return CLOSE_FORBIDDEN, reason
        return user.id


_long_lived_frozen = False


def _freeze_long_lived() -> None:
    """Once per process, at its first live session: take everything alive (the app, its modules,
    caches and the exercise library, ~200 000 objects) out of the garbage collector's full
    collections (:func:`gc.freeze`). A full collection of them stopped the event loop, and so
    every patient's stream, for about 150 ms every half minute under load (bench/results/
    live.md); objects made later are collected as before."""
    global _long_lived_frozen
    if not _long_lived_frozen:
        _long_lived_frozen = True
        gc.collect()
        gc.freeze()


@router.websocket("/api/patients/{patient_id}/live")
async def live_socket(websocket: WebSocket, patient_id: PatientId) -> None:
    """Live exercise session: landmark frames in, repetition events out."""
    await websocket.accept()
    caller = await run_in_threadpool(_authorise, websocket, patient_id)
    if isinstance(caller, tuple):
        await websocket.close(code=caller[0], reason=caller[1])
        return
    _freeze_long_lived()
    live = LiveSession(websocket.app.state.session_factory, patient_id, user_id=caller)
    rate = getattr(websocket.app.state, "live_frames_per_s", FRAMES_PER_S)
    budget = FrameBudget(rate) if rate else None
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text") or message.get("bytes") or b""
            try:
                events = await _handle(live, text, budget)
            except ProtocolError as exc:
                events = [exc.event()]
            except Exception:  # a fault of ours: say so, keep the socket and what is stored
                logger.exception("live session of patient %s", patient_id)
                events = [ProtocolError("internal", INTERNAL_ERROR).event()]
            for event in events:
                await websocket.send_json(event)
            if events and events[-1]["type"] == "session_complete":
                await websocket.close()
                return
    except WebSocketDisconnect:
        return


async def _handle(
    live: LiveSession, text: str | bytes, budget: FrameBudget | None
) -> list[dict[str, Any]]:
    msg = parse_client_message(text)
    if isinstance(msg, Frames):
        if budget is not None and not budget.take(len(msg.frames)):
            raise ProtocolError("rate_limited", RATE_LIMITED, seq=msg.seq)
        reps, events = live.count_frames(msg)
        if reps:
            events = events + await run_in_threadpool(live.store, reps)
        return events
    if isinstance(msg, Start):
        return await run_in_threadpool(live.start, msg)
    if isinstance(msg, Tap):
        return await run_in_threadpool(live.store, live.tap(msg))
    if isinstance(msg, Hit):
        return await run_in_threadpool(live.store, live.hit(msg))
    if isinstance(msg, EndSet):
        return await run_in_threadpool(live.end_set, msg)
    assert isinstance(msg, Simple)
    if msg.type == "ping":
        return [{"type": "pong"}]
    if msg.type == "end_session":
        return await run_in_threadpool(live.end_session)
    return live.set_paused(msg.type == "pause")


@router.get("/api/live/demo/{exercise_id}")
def demo_landmarks(exercise_id: str, user: CurrentUser, side: str = "right") -> Response:
    """A simulated person doing ``exercise_id`` as landmark frames (for a demo without a
    camera): 30 frames/s, a few slow repetitions, in the shape the live page sends."""
    library = load_library()
    if exercise_id not in library:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No exercise {exercise_id!r}.")
    if side not in ("left", "right"):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="side: left or right")
    try:
        return Response(_demo_json(exercise_id, side), media_type="application/json")
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc


@functools.lru_cache(maxsize=16)
def _demo_json(exercise_id: str, side: str) -> bytes:
    """The demo stream, computed once per exercise and side (a stretch's is about 2 MB)."""
    return json.dumps(demo_stream(load_library().get(exercise_id), side)).encode()


@router.get("/demo", include_in_schema=False)
def demo_entry(request: Request, db: Db) -> RedirectResponse:
    """``openrehab demo`` only: log in as the demo patient and open a simulated session."""
    username = getattr(request.app.state, "demo_login", None)
    if not username:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Not found")
    patient = db.scalar(select(User).where(User.username == username))
    program = program_service.active_program(db, patient.id) if patient else None
    library = load_library()
    items = [
        item
        for item in (program.items if program else [])
        if item.exercise_id in library and demo_available(library.get(item.exercise_id))
    ]
    if patient is None or not items:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="The demo patient has no program.")
    secret = issue_token(db, patient, kind="cookie")
    db.commit()
    target = f"/patients/{patient.id}/session?item={items[0].id}&demo=1"
    response = RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    set_session_cookie(response, request, secret)
    return response
