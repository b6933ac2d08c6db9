"""Driving a live session over a WebSocket in tests: send, then read up to a ping barrier."""

from __future__ import annotations

from typing import Any

from openrehab.exercises.library import load_library
from openrehab.live.demo_stream import demo_stream


def start_msg(exercise_id: str = "elbow_flexion", **fields: Any) -> dict[str, Any]:
    msg = {
        "type": "start",
        "v": 1,
        "exercise_id": exercise_id,
        "side": "right",
        "mode": "active",
        "level": 1,
        "target_reps": 5,
        "source": "camera",
    }
    return {**msg, **fields}


def stream(exercise_id: str, side: str = "right", reps: int = 5) -> list[dict[str, Any]]:
    """A simulated person doing ``reps`` repetitions (30 frames/s)."""
    return demo_stream(load_library().get(exercise_id), side, reps)["frames"]


def exchange(ws: Any, messages: list[dict[str, Any] | str]) -> list[dict[str, Any]]:
    """Send ``messages`` then a ping; return every event received before the pong."""
    for message in messages:
        if isinstance(message, str):
            ws.send_text(message)
        else:
            ws.send_json(message)
    ws.send_json({"type": "ping"})
    events = []
    while True:
        event = ws.receive_json()
        if event["type"] == "pong":
            return events
        events.append(event)


def frame_batches(frames: list[dict[str, Any]], seq0: int = 0, size: int = 2) -> list[dict]:
    return [
        {"type": "frames", "seq": seq0 + k, "frames": frames[i : i + size]}
        for k, i in enumerate(range(0, len(frames), size))
    ]


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]
