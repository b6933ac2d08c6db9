"""Live session wire protocol, version 1: the messages a browser and the server exchange.

Client messages are validated by pydantic straight from the JSON text (one pass, in Rust), so
a malformed message is refused before anything is stored. The protocol is documented in
``docs/live-protocol.md``; keep both in step and bump :data:`PROTOCOL_VERSION` on any change a
client would notice.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

PROTOCOL_VERSION = 1
#: Largest client message accepted, in bytes (a 300-frame batch of pose and two hands is ~0.5 MB).
MAX_MESSAGE_BYTES = 1 << 20
MAX_FRAMES_PER_MESSAGE = 300

Source = Literal["camera", "tap", "demo", "rhythm"]
Time = Annotated[float, Field(ge=0, le=1e7, allow_inf_nan=False)]
Coord = Annotated[float, Field(allow_inf_nan=False)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Start(_Message):
    """Open a set (or resume ``set_id``), optionally inside an existing session."""

    type: Literal["start"]
    v: int
    exercise_id: str = Field(min_length=1, max_length=80)
    side: Literal["left", "right", "both"]
    mode: Literal["active", "active_assisted", "passive", "stretch"] = "active"
    level: int = Field(default=1, ge=1, le=20)
    target_reps: int = Field(default=10, ge=1, le=200)
    source: Source = "camera"
    set_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    session_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    aspect: float = Field(default=16 / 9, ge=0.2, le=5.0, allow_inf_nan=False)
    fps: float = Field(default=30.0, ge=5.0, le=120.0, allow_inf_nan=False)
    rest_s: float = Field(default=30.0, ge=0, le=600, allow_inf_nan=False)
    #: The client's clock when the set starts (set time 0); else its first sample's time.
    t: Time | None = None


class Frame(_Message):
    """One camera frame's landmarks; shapes are checked by ``landmark_row``."""

    t: Time
    pose: list[list[Coord]] | None = None
    hands: dict[Literal["left", "right"], list[list[Coord]] | None] | None = None


class Frames(_Message):
    type: Literal["frames"]
    seq: int = Field(ge=0, le=2**53)
    frames: list[Frame] = Field(max_length=MAX_FRAMES_PER_MESSAGE)


class Tap(_Message):
    type: Literal["tap"]
    t: Time


class Hit(_Message):
    """One judged note of the rhythm game."""

    type: Literal["hit"]
    t: Time
    note_t: Time
    error_ms: float | None = Field(default=None, ge=-10_000, le=10_000, allow_inf_nan=False)
    judgement: Literal["perfect", "good", "miss"]
    finger: Literal["index", "middle", "ring", "little"] = "index"


class EndSet(_Message):
    type: Literal["end_set"]
    summary: dict[str, Any] = Field(default_factory=dict)

    @field_validator("summary")
    @classmethod
    def _small_and_finite(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > 30:
            raise ValueError("a summary has at most 30 keys")
        for key, item in value.items():
            if len(key) > 40:
                raise ValueError("summary keys are at most 40 characters")
            if isinstance(item, float) and not math.isfinite(item):
                raise ValueError(f"summary value {key!r} is not a finite number")
            if not isinstance(item, (int, float, str, bool)) or (
                isinstance(item, str) and len(item) > 200
            ):
                raise ValueError(f"summary value {key!r} must be a number, a flag or short text")
        return value


class Simple(_Message):
    type: Literal["pause", "resume", "end_session", "ping"]


ClientMessage = Annotated[Start | Frames | Tap | Hit | EndSet | Simple, Field(discriminator="type")]
_CLIENT = TypeAdapter(ClientMessage)


class ProtocolError(Exception):
    """A client message that is refused; ``code`` is the error code sent back."""

    def __init__(self, code: str, message: str, *, fatal: bool = False, seq: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fatal = fatal
        self.seq = seq

    def event(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "error", "code": self.code, "message": self.message}
        if self.fatal:
            out["fatal"] = True
        if self.seq is not None:
            out["seq"] = self.seq
        return out


def parse_client_message(text: str | bytes) -> Start | Frames | Tap | Hit | EndSet | Simple:
    """Validate one client message; raises :class:`ProtocolError` with a plain reason."""
    if len(text) > MAX_MESSAGE_BYTES:
        raise ProtocolError("too_large", f"Messages are limited to {MAX_MESSAGE_BYTES} bytes.")
    try:
        return _CLIENT.validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            raise ProtocolError("bad_json", "That message is not valid JSON.") from None
        where = ".".join(str(part) for part in first["loc"])
        if first["type"] == "too_long" and "frames" in where:
            raise ProtocolError(
                "too_large", f"At most {MAX_FRAMES_PER_MESSAGE} frames per message."
            ) from None
        raise ProtocolError("bad_message", f"{where or 'message'}: {first['msg']}") from None


__all__ = [
    "MAX_FRAMES_PER_MESSAGE",
    "MAX_MESSAGE_BYTES",
    "PROTOCOL_VERSION",
    "EndSet",
    "Frame",
    "Frames",
    "Hit",
    "ProtocolError",
    "Simple",
    "Start",
    "Tap",
    "parse_client_message",
]
