"""Counting a live landmark stream: the streaming motion engine plus tracking state.

Transport- and store-free: frames in, repetitions and tracking changes out. The session
(:mod:`openrehab.live.session`) stores the repetitions and turns all of it into events.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from openrehab.exercises.schema import Exercise
from openrehab.motion.engine import REP_JSON_KEYS, MotionEngine
from openrehab.motion.metrics import RepMetrics
from openrehab.motion.recordings import LANDMARK_CHANNELS
from openrehab.motion.signals import SIGNALS
from openrehab.program.music import rep_duration_s

#: The needed landmarks count as lost after this long without them (a blink of the tracker
#: is not worth a prompt).
TRACKING_LOST_AFTER_S = 1.0

#: A rep may last this many times its prescribed duration (tempo, beats and hold).
LONGEST_REP_FACTOR = 1.5

#: Repetition metrics stored and sent: those of ``openrehab count --json``, plus the speed
#: a stretch is judged by.
REP_KEYS = (*REP_JSON_KEYS, "stretch_velocity")


def rep_values(rep: RepMetrics, t0_s: float, offset_s: float) -> dict[str, Any]:
    """A repetition's stored values, times moved to seconds from the set start."""
    data = rep.to_dict()
    out: dict[str, Any] = {}
    for key in REP_KEYS:
        value = data.get(key)
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        if key in ("start_s", "end_s", "peak_s") and value is not None:
            value = max(0.0, round(value - t0_s + offset_s, 3))
        out[key] = value
    return out


def camera_sensor(exercise: Exercise) -> str:
    """``pose``, ``hand``, or what the camera cannot see (``imu``, ``angle``)."""
    sensor = SIGNALS[exercise.sensing.signal].sensor
    return "pose" if sensor == "any" else sensor


@dataclass
class Counted:
    """What one batch of frames produced."""

    reps: list[RepMetrics] = field(default_factory=list)
    tracking: str | None = None  # "lost" / "found" when it changed


class LandmarkCounter:
    """The motion engine on browser landmark frames, with tracking lost/found detection.

    ``t`` of the frames is the client's clock in seconds; rows with no usable signal (the
    needed joints hidden, no body) advance the tracking clock only.
    """

    def __init__(
        self, exercise: Exercise, side: str, mode: str, level: int, fps: float, aspect: float
    ):
        spec = exercise.signal_spec(side, mode, level)
        engine = MotionEngine(LANDMARK_CHANNELS, "pose", fps, spec, aspect=aspect)
        # Slow stretches with a hold last longer than the engine's default longest rep (a
        # level-1 elbow stretch is 24 s of movement and a 10 s hold): allow the prescribed
        # duration with room to spare, or a stretch done as told would never count.
        step = exercise.level(level)
        expected_s = rep_duration_s(step.tempo_bpm, step.beats_per_rep, step.hold_s)
        if LONGEST_REP_FACTOR * expected_s > engine.config.max_rep_s:
            config = replace(
                engine.config,
                max_rep_s=LONGEST_REP_FACTOR * expected_s,
                forget_s=max(engine.config.forget_s, 2 * LONGEST_REP_FACTOR * expected_s),
            )
            engine = MotionEngine(LANDMARK_CHANNELS, "pose", fps, spec, config, aspect=aspect)
        self.engine = engine
        self.tracking: str | None = None
        self._t_seen = -math.inf  # last frame with a usable signal
        self._t_first = math.nan

    def push(self, times: list[float], rows: list[np.ndarray]) -> Counted:
        """Feed frames (client times in s, rows from ``landmark_row``)."""
        out = Counted()
        engine = self.engine
        for t, row in zip(times, rows, strict=True):
            usable_before = engine.n_frames - engine.n_unusable
            for event in engine.push(t, row):
                if event.kind == "rep_completed" and event.rep is not None:
                    out.reps.append(event.rep)
            if math.isnan(self._t_first):
                self._t_first = t
            if engine.n_frames - engine.n_unusable > usable_before:
                self._t_seen = t
                if self.tracking != "found":
                    self.tracking = out.tracking = "found"
            elif (
                self.tracking != "lost"
                and t - max(self._t_seen, self._t_first) >= TRACKING_LOST_AFTER_S
            ):
                self.tracking = out.tracking = "lost"
        return out

    def finish(self) -> list[RepMetrics]:
        """Reps still returning to rest when the set ends."""
        return [e.rep for e in self.engine.finish() if e.rep is not None]
