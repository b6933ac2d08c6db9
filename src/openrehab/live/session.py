"""One live exercise connection: protocol messages in, stored repetitions and events out.

Transport-free (the WebSocket route feeds it); store access goes through
``openrehab.store.records`` and the progression through ``openrehab.services.progress``.
Every repetition is committed before its ``rep`` event is returned, so a closed tab or a killed
server loses at most the repetition in progress. Methods that touch the database are plain
blocking calls; the route runs them in a worker thread.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openrehab.care import safety
from openrehab.exercises.library import Library, load_library
from openrehab.exercises.schema import VELOCITY_LIMITED_MODES, Exercise
from openrehab.motion.metrics import RepMetrics
from openrehab.motion.recordings import landmark_row
from openrehab.services import clinical
from openrehab.services import progress as progress_service
from openrehab.store import records
from openrehab.store.models import AuditLog, ExerciseSession, ExerciseSet, Repetition, User

from .counting import LandmarkCounter, camera_sensor, rep_values
from .protocol import PROTOCOL_VERSION, EndSet, Frames, Hit, ProtocolError, Start, Tap

Event = dict[str, Any]
#: Two taps closer than this are one press that bounced (or a double press).
MIN_TAP_INTERVAL_S = 0.3
#: A pinch may come this long before its note (the widest timing window is 0.4 s).
MAX_EARLY_S = 1.0


@dataclass
class _Open:
    """The set this connection writes into."""

    session_id: int | None  # None: a demo, which is never stored
    set_id: int | None
    exercise: Exercise
    start: Start
    count: int
    offset_s: float  # set time already used by earlier connections
    needed: float  # excursion a rep must reach for the level's target, in the signal's unit
    counter: LandmarkCounter | None
    t0: float = math.nan  # client time of this connection's first sample
    t_last: float = -math.inf
    seq: int = -1
    last_end_s: float = 0.0
    t_tap: float = -math.inf  # client time of this connection's last tap
    rest_sent: bool = False
    unstored: list[dict[str, Any]] = field(default_factory=list)  # a demo's reps


class LiveSession:
    """State of one live connection for ``patient_id`` (access already checked)."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        patient_id: int,
        library: Library | None = None,
        user_id: int | None = None,
    ):
        self._db = session_factory
        self.patient_id = patient_id
        self.user_id = user_id  # who is recording: written to the audit log with each write
        self.library = library or load_library()
        self.open: _Open | None = None
        self.session_id: int | None = None  # the session of the last set opened
        self.paused = False

    def _audit(self, db: Session, action: str, target_id: int, detail: dict[str, Any]) -> None:
        target = "session" if action.startswith("session") else "set"
        db.add(
            AuditLog(
                user_id=self.user_id,
                action=action,
                target_type=target,
                target_id=str(target_id),
                detail={**detail, "via": "live"},
            )
        )

    # -- start / resume ------------------------------------------------------------------
    def start(self, msg: Start) -> list[Event]:
        if msg.v != PROTOCOL_VERSION:
            raise ProtocolError("version", f"This server speaks protocol {PROTOCOL_VERSION}.")
        if self.open is not None:
            raise ProtocolError("already_started", "A set is already open; end it first.")
        if msg.exercise_id not in self.library:
            raise ProtocolError("unknown_exercise", f"There is no exercise {msg.exercise_id!r}.")
        exercise = self.library.get(msg.exercise_id)
        _check_choice(exercise, msg)
        if msg.source == "demo":  # a simulated person: counted and shown, never stored
            return self._opened(exercise, msg, None, None, 0, 0.0)
        with self._db() as db:
            self._check_safe(db, exercise, resuming=msg.set_id is not None)
            if msg.set_id is not None:
                exercise_set, offset = self._resumable(db, msg)
                exercise_set_id, session_id = exercise_set.id, exercise_set.session_id
                count = records.rep_count(db, exercise_set_id)
                # The set is judged against what it was opened with, whatever the page sends.
                msg = msg.model_copy(
                    update={
                        "level": exercise_set.level,
                        "mode": exercise_set.mode,
                        "target_reps": exercise_set.target_reps or msg.target_reps,
                    }
                )
            else:
                session = self._session_for(db, msg)
                exercise_set = records.start_set(
                    db,
                    session,
                    exercise_id=exercise.id,
                    side=msg.side,
                    mode=msg.mode,
                    level=min(msg.level, exercise.max_level),
                    target_reps=msg.target_reps,
                    source=msg.source,
                )
                exercise_set_id, session_id, count, offset = exercise_set.id, session.id, 0, 0.0
                self._audit(db, "set.start", exercise_set_id, {"source": msg.source})
            db.commit()
        return self._opened(exercise, msg, session_id, exercise_set_id, count, offset)

    def _check_safe(self, db: Session, exercise: Exercise, resuming: bool = False) -> None:
        """Rule S4 (care.safety): a standing-only exercise needs "can stand safely" in the
        profile, whoever added it to the program and however the page was reached. Rule S5:
        no new set starts on a day closed by severe pain (a page opened before it was given);
        an open set may still be resumed, to be ended or to save what was done."""
        if not resuming and clinical.resting_report(db, self.patient_id) is not None:
            raise ProtocolError(
                "resting",
                "Pain of 7 or more out of 10 was given today: rest today, no exercises until "
                "the pain has settled.",
            )
        patient = db.get(User, self.patient_id)
        can_stand = bool(patient and patient.profile and patient.profile.can_stand_safely)
        position = "standing" if exercise.positions == ("standing",) else None
        if not safety.standing_allowed(position, can_stand):
            raise ProtocolError(
                "not_safe",
                f"{exercise.name} is done standing, and standing has not been judged safe "
                "yet. Ask your therapist before doing it.",
            )

    def _opened(
        self,
        exercise: Exercise,
        msg: Start,
        session_id: int | None,
        set_id: int | None,
        count: int,
        offset_s: float,
    ) -> list[Event]:
        level = exercise.level(msg.level)
        needed = level.target_range_pct / 100 * abs(exercise.sensing.target - exercise.sensing.rest)
        counter = None
        if msg.source in ("camera", "demo"):
            counter = LandmarkCounter(exercise, msg.side, msg.mode, msg.level, msg.fps, msg.aspect)
        op = _Open(session_id, set_id, exercise, msg, count, offset_s, needed, counter)
        op.last_end_s = offset_s
        if msg.t is not None:
            op.t0 = op.t_last = msg.t
        op.rest_sent = count >= msg.target_reps
        self.open = op
        if session_id is not None:
            self.session_id = session_id
        return [self._ready()]

    def _ready(self) -> Event:
        op = self.open
        assert op is not None
        ex, msg = op.exercise, op.start
        level = ex.level(msg.level)
        return {
            "type": "ready",
            "v": PROTOCOL_VERSION,
            "session_id": op.session_id,
            "set_id": op.set_id,
            "count": op.count,
            "target_reps": msg.target_reps,
            "exercise": {
                "id": ex.id,
                "name": ex.name,
                "signal": ex.sensing.signal,
                "unit": ex.sensing.unit,
                "rest": ex.sensing.rest,
                "target": ex.level_target(msg.level),
                "needed_excursion": round(op.needed, 3),
                "max_velocity_deg_s": ex.sensing.max_velocity_deg_s
                if msg.mode in VELOCITY_LIMITED_MODES
                else None,
                "tempo_bpm": level.tempo_bpm,
                "beats_per_rep": level.beats_per_rep,
                "hold_s": level.hold_s,
                "camera_view": ex.sensing.camera_view,
                "sensor": camera_sensor(ex),
            },
        }

    def _session_for(self, db: Session, msg: Start) -> ExerciseSession:
        if msg.session_id is None:
            return records.start_session(db, self.patient_id, source=msg.source)
        session = db.get(ExerciseSession, msg.session_id)
        if session is None or session.patient_id != self.patient_id:
            raise ProtocolError("forbidden", "That session is not this patient's.")
        if session.ended_at is not None:  # ended elsewhere: the new set starts a new session
            return records.start_session(db, self.patient_id, source=msg.source)
        return session

    def _resumable(self, db: Session, msg: Start) -> tuple[ExerciseSet, float]:
        exercise_set = db.get(ExerciseSet, msg.set_id)
        if exercise_set is None or exercise_set.session.patient_id != self.patient_id:
            raise ProtocolError("forbidden", "That set is not this patient's.")
        if exercise_set.ended_at is not None:
            raise ProtocolError("set_ended", "That set has ended; start a new set.")
        if exercise_set.exercise_id != msg.exercise_id or exercise_set.side != msg.side:
            raise ProtocolError("bad_message", "The set was opened for another exercise or side.")
        if (exercise_set.source == "rhythm") != (msg.source == "rhythm"):
            raise ProtocolError("bad_message", "A rhythm-game set resumes only as a game.")
        last_end = db.scalar(
            select(Repetition.end_s)
            .where(Repetition.set_id == exercise_set.id)
            .order_by(Repetition.index.desc())
            .limit(1)
        )
        return exercise_set, float(last_end or 0.0)

    # -- samples -------------------------------------------------------------------------
    def _clock(self, t: float, seq: int | None = None) -> _Open:
        """The open set, checking that time (and ``seq``) increase."""
        op = self.open
        if op is None:
            raise ProtocolError("not_started", "Send 'start' first.", seq=seq)
        if seq is not None and seq <= op.seq:
            raise ProtocolError("out_of_order", f"seq {seq} is not after {op.seq}.", seq=seq)
        if t <= op.t_last:
            raise ProtocolError("out_of_order", "Times must increase.", seq=seq)
        return op

    def count_frames(self, msg: Frames) -> tuple[list[dict[str, Any]], list[Event]]:
        """Run the engine on a batch (no database): reps to store, and tracking events."""
        t_first = msg.frames[0].t if msg.frames else math.inf
        op = self._clock(t_first, msg.seq)
        times = [f.t for f in msg.frames]
        if any(b <= a for a, b in itertools.pairwise(times)):
            raise ProtocolError("out_of_order", "Frame times must increase.", seq=msg.seq)
        if op.counter is None:
            raise ProtocolError("bad_message", "This set is logged by taps, not frames.")
        try:  # the whole batch is checked before any of it is counted
            rows = [landmark_row(frame.pose, frame.hands) for frame in msg.frames]
        except ValueError as exc:
            raise ProtocolError("bad_message", str(exc), seq=msg.seq) from None
        op.seq = msg.seq
        if not msg.frames:
            return [], []
        op.t_last = times[-1]
        if math.isnan(op.t0):
            op.t0 = times[0]
        if self.paused:
            return [], []
        counted = op.counter.push(times, rows)
        events: list[Event] = []
        if counted.tracking:
            what = "hand" if camera_sensor(op.exercise) == "hand" else "body"
            events.append({"type": "tracking", "state": counted.tracking, "what": what})
        return [self._values(r) for r in counted.reps], events

    def _values(self, rep: RepMetrics) -> dict[str, Any]:
        op = self.open
        assert op is not None
        return rep_values(rep, op.t0, op.offset_s)

    def tap(self, msg: Tap) -> list[dict[str, Any]]:
        """A repetition logged by a button press: from the previous one to this press."""
        op = self._clock(msg.t)
        if op.start.source == "rhythm":
            raise ProtocolError("bad_message", "A rhythm-game set takes notes, not taps.")
        if math.isnan(op.t0):
            op.t0 = msg.t
        end_s = round(op.offset_s + msg.t - op.t0, 3)
        if msg.t - op.t_tap < MIN_TAP_INTERVAL_S:
            raise ProtocolError("duplicate", "That press came too soon after the last one.")
        op.t_last = op.t_tap = msg.t
        if self.paused:
            return []
        start_s = op.last_end_s
        return [{"start_s": start_s, "end_s": end_s, "duration_s": round(end_s - start_s, 3)}]

    def hit(self, msg: Hit) -> list[dict[str, Any]]:
        """A judged rhythm-game note, stored as a repetition with its timing."""
        op = self._clock(msg.t)
        if op.start.source != "rhythm":
            raise ProtocolError("bad_message", "Notes belong to a rhythm-game set.")
        if msg.note_t > msg.t + MAX_EARLY_S:
            raise ProtocolError("bad_message", "A note cannot be judged long before it comes.")
        if math.isnan(op.t0):
            op.t0 = min(msg.t, msg.note_t)
        op.t_last = msg.t
        note_s = max(0.0, round(op.offset_s + msg.note_t - op.t0, 3))
        end_s = max(note_s, round(op.offset_s + msg.t - op.t0, 3))
        return [
            {
                "start_s": note_s,
                "end_s": end_s,
                "duration_s": round(end_s - note_s, 3),
                "error_ms": msg.error_ms,
                "judgement": msg.judgement,
                "finger": msg.finger,
            }
        ]

    # -- storage -------------------------------------------------------------------------
    def store(self, reps: list[dict[str, Any]]) -> list[Event]:
        """Commit ``reps`` to the open set, then describe them as events."""
        op = self.open
        if op is None or not reps:
            return []
        if op.set_id is None:
            op.unstored += reps
            first = op.count + 1
        else:
            first = self._commit(op.set_id, reps)
        events: list[Event] = []
        source = op.start.source
        for number, values in enumerate(reps, start=first):
            op.count = number
            op.last_end_s = max(op.last_end_s, values["end_s"])
            rom = values.get("rom")
            events.append(
                {
                    "type": "rep",
                    "count": op.count,
                    "rep": values,
                    "target_reached": rom is not None and abs(rom) >= op.needed * (1 - 1e-9),
                    "source": source,
                }
            )
            limit = op.exercise.sensing.max_velocity_deg_s
            velocity = values.get("stretch_velocity")
            if safety.stretch_too_fast(op.start.mode, velocity, limit):  # rule S3
                events.append(
                    {
                        "type": "slower",
                        "velocity_deg_s": values.get("stretch_velocity"),
                        "max_velocity_deg_s": limit,
                    }
                )
        if not op.rest_sent and op.count >= op.start.target_reps:
            op.rest_sent = True
            events.append({"type": "rest", "seconds": op.start.rest_s})
        return events

    def _commit(self, set_id: int, reps: list[dict[str, Any]]) -> int:
        """Store ``reps`` and return the number of the first. Another connection writing to
        the same set (a second tab, a half-open old socket) can take the same numbers first:
        the insert then fails on the unique (set, index) and is retried once."""
        for attempt in range(2):
            with self._db() as db:
                exercise_set = db.get(ExerciseSet, set_id)
                assert exercise_set is not None
                try:
                    added = records.add_repetitions(db, exercise_set, reps)
                    self._audit(db, "repetitions.add", set_id, {"count": len(reps)})
                    db.commit()
                except records.RecordError as exc:
                    self._closed_elsewhere(exercise_set)
                    raise ProtocolError("set_ended", str(exc)) from None
                except IntegrityError:
                    db.rollback()
                    if attempt:
                        raise
                    continue
                return added[0].index + 1
        raise AssertionError("unreachable")

    def _closed_elsewhere(self, exercise_set: ExerciseSet) -> None:
        """The set (or its session) was ended by another client: forget it here."""
        self.open = None
        self.paused = False
        if exercise_set.session.ended_at is not None:
            self.session_id = None

    # -- control -------------------------------------------------------------------------
    def set_paused(self, paused: bool) -> list[Event]:
        if self.open is None:
            raise ProtocolError("not_started", "Send 'start' first.")
        self.paused = paused
        return [{"type": "paused" if paused else "resumed"}]

    def end_set(self, msg: EndSet) -> list[Event]:
        """Close the set (a rep returning to rest is kept) and run the progression once."""
        op = self.open
        if op is None:
            raise ProtocolError("not_started", "Send 'start' first.")
        events: list[Event] = []
        if op.counter is not None and not self.paused:
            events += self.store([self._values(r) for r in op.counter.finish()])
        if op.set_id is None:
            self.open, self.paused = None, False
            return [*events, self._unstored_complete(op)]
        with self._db() as db:
            exercise_set = db.get(ExerciseSet, op.set_id)
            assert exercise_set is not None
            if msg.summary:
                exercise_set.summary = {**exercise_set.summary, **msg.summary}
            progress = progress_service.finish_set(db, exercise_set)
            judgement = progress_service.set_judgement(db, exercise_set)
            count = records.rep_count(db, exercise_set.id)
            self._audit(db, "set.end", exercise_set.id, {"reps": count})
            progress_events = [
                {
                    "kind": e.kind,
                    "message": e.reason,
                    "exercise_id": e.exercise_id,
                    "from_level": e.from_level,
                    "to_level": e.to_level,
                    "xp": e.xp,
                }
                for e in progress
            ]
            db.commit()
        self.open = None
        self.paused = False
        events.append(
            {
                "type": "set_complete",
                "set_id": op.set_id,
                "session_id": op.session_id,
                "count": count,
                "judgement": judgement.to_dict() if judgement else None,
                "events": progress_events,
            }
        )
        return events

    def _unstored_complete(self, op: _Open) -> Event:
        """A demo set's end: judged like a real set, but nothing is stored or levelled."""
        exercise_set = ExerciseSet(
            exercise_id=op.exercise.id,
            side=op.start.side,
            mode=op.start.mode,
            level=op.start.level,
            target_reps=op.start.target_reps,
        )
        reps = [records.repetition_from(values) for values in op.unstored]
        judgement = progress_service.judge_set(exercise_set, op.exercise, reps)
        return {
            "type": "set_complete",
            "set_id": None,
            "session_id": None,
            "count": len(reps),
            "judgement": judgement.to_dict(),
            "events": [],
        }

    def end_session(self) -> list[Event]:
        """End the session (open sets are finished with their progression)."""
        events: list[Event] = []
        if self.open is not None:
            events += self.end_set(EndSet(type="end_set"))
        session_id = self.session_id
        if session_id is None:
            if events:  # a demo: nothing stored, nothing to close
                return [
                    *events,
                    {"type": "session_complete", "session_id": None, "sets": 0, "reps": 0},
                ]
            raise ProtocolError("not_started", "There is no session to end.")
        with self._db() as db:
            session = db.get(ExerciseSession, session_id)
            assert session is not None
            progress_service.finish_session(db, session)
            sets = len(session.sets)
            reps = sum(records.rep_count(db, s.id) for s in session.sets)
            self._audit(db, "session.end", session_id, {"sets": sets, "reps": reps})
            db.commit()
        events.append(
            {"type": "session_complete", "session_id": session_id, "sets": sets, "reps": reps}
        )
        return events


def _check_choice(exercise: Exercise, msg: Start) -> None:
    """The side, mode and source fit the exercise."""
    if msg.mode not in exercise.modes:
        raise ProtocolError(
            "bad_message", f"{exercise.name} has no {msg.mode} mode ({', '.join(exercise.modes)})."
        )
    if exercise.laterality == "unilateral" and msg.side == "both":
        raise ProtocolError("bad_message", f"Choose a side for {exercise.name}: left or right.")
    if msg.source in ("camera", "demo") and camera_sensor(exercise) not in ("pose", "hand"):
        raise ProtocolError(
            "camera_cannot_count",
            f"A camera cannot count {exercise.name}; log each repetition by tapping.",
        )
