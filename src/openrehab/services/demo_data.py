"""Demo data for a caseload: ``openrehab demo-data --patients N --weeks W``.

On an empty database: the demo accounts of ``services.demo`` (therapist, Pat Patient and
their caregiver, a week of practice and a care history), then N - 1 more patients of the
same therapist, each with a different profile and W weeks of history made the way the app
makes it:

* each session's movement is a simulated goniometer angle (minimum-jerk repetitions between
  rest and the day's range, with sensor noise), counted and measured by the real motion
  engine (``motion.engine.analyse_recording``); the repetitions it finds are stored, and the
  set is ended through the real progression (levels, XP, events);
* adherence differs by patient (from nearly daily to a week-long gap and a fading one);
* range grows over the weeks (the "improving" patients) or shrinks (the contracture-risk
  case, who also stops the range exercise: rules K1 and K2 of docs/care.md fire);
* one patient has a botulinum toxin injection mid-way, with MAS before and after;
* pain reports, mostly low, with one day of 5/10 for one patient.

Random but reproducible (``seed``). Names are invented.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
from sqlalchemy.orm import Session

from openrehab.accounts.service import create_user
from openrehab.clock import local_date, local_zone
from openrehab.exercises.library import Library, load_library
from openrehab.motion.engine import REP_JSON_KEYS, CounterConfig, analyse_recording
from openrehab.motion.recordings import Recording
from openrehab.services import program as program_service
from openrehab.services import progress as progress_service
from openrehab.services.clinical import MAS_GRADES
from openrehab.services.demo import DemoLogin, database_is_empty, seed_demo
from openrehab.store import records
from openrehab.store.models import (
    Assessment,
    CareLink,
    LinkKind,
    PainReport,
    Role,
    TherapyEvent,
    User,
)

SAMPLE_HZ = 25.0
SETS_PER_ITEM = 2
NOMINAL_DEG = 45.0
DEMO_PASSWORD = "demo-patient"


@dataclass(frozen=True)
class Persona:
    """One generated patient: who, their profile, and how their weeks go."""

    name: str
    side: str
    regions: dict[str, dict]
    stand: bool
    adherence: float  # chance of a session on a day
    rom_trend: float  # change of range per week, as a fraction of the target range
    gap: bool = False  # a week without any session in the middle
    fading: bool = False  # fewer sessions week after week
    toxin: bool = False
    pain_day: bool = False
    contracture: bool = False  # range falls and the range exercise stops in the last week


PERSONAS = (
    Persona("Maria Gonzalez", "right", {"shoulder": {"mas": "1", "active_movement": True},
            "elbow": {"mas": "2", "active_movement": True}}, False, 0.9, 0.04, toxin=True),
    Persona("Sam Okafor", "left", {"knee": {"mas": "1+", "active_movement": True},
            "ankle": {"mas": "2", "active_movement": True}}, True, 0.75, 0.03, gap=True),
    Persona("Lena Fischer", "left", {"wrist": {"mas": "1+", "active_movement": True},
            "hand": {"mas": "2", "active_movement": True}}, False, 0.8, 0.05, pain_day=True),
    Persona("Omar Haddad", "right", {"elbow": {"mas": "1+", "active_movement": True}},
            False, 0.85, -0.1, contracture=True),
    Persona("Grace Liu", "both", {"hip": {"mas": "1", "active_movement": True},
            "knee": {"mas": "1", "active_movement": True}}, True, 0.7, 0.02, fading=True),
    Persona("Ivan Petrov", "left", {"shoulder": {"mas": "2", "active_movement": True},
            "hand": {"mas": "3", "active_movement": False}}, False, 0.55, 0.01),
)  # fmt: skip


class DemoDataError(ValueError):
    """The database is not empty (demo data goes into a new one only)."""


@dataclass(frozen=True)
class DemoSummary:
    logins: list[DemoLogin]
    patients: int
    sessions: int
    repetitions: int


def angle_recording(
    rng: np.random.Generator, reps: int, rom_deg: float, move_s: float, hold_s: float
) -> Recording:
    """A goniometer angle (deg) of ``reps`` minimum-jerk repetitions of about ``rom_deg``
    from 10 deg: out in about ``move_s``, a hold of ``hold_s``, back in ``move_s``."""
    fs, rest = SAMPLE_HZ, 10.0
    parts = [np.full(int(fs * 1.5), rest)]
    for _ in range(reps):
        size = rom_deg * rng.normal(1.0, 0.05)
        n = max(8, int(move_s * fs * rng.uniform(0.9, 1.1)))
        u = np.linspace(0.0, 1.0, n)
        up = rest + size * (10 * u**3 - 15 * u**4 + 6 * u**5)
        hold = np.full(int(hold_s * fs), up[-1])
        parts += [up, hold, up[::-1], np.full(int(fs * 0.4), rest)]
    parts.append(np.full(int(fs * 1.5), rest))
    y = np.concatenate(parts)
    y = y + rng.normal(0.0, 0.5, y.size)  # a goniometer's noise, deg
    return Recording(np.arange(y.size) / fs, y[:, None], ("angle",), "angle")


def count_set(
    rng: np.random.Generator, reps: int, rom: float, unit: str, move_s: float, hold_s: float
) -> tuple[list[dict], float]:
    """Simulate a set and count it with the motion engine: the repetitions it found (the
    stored fields, range in ``unit``) and the recording's length (s). A range not in degrees
    is simulated as a 45-degree movement and scaled back (the engine counts any angle)."""
    scale = 1.0 if unit == "deg" else NOMINAL_DEG / rom
    rom_deg = rom * scale
    recording = angle_recording(rng, reps, rom_deg, move_s, hold_s)
    config = CounterConfig(min_amplitude=0.4 * rom_deg, max_rep_s=2 * move_s + hold_s + 5.0)
    result = analyse_recording(recording, config=config)
    rows = []
    for rep in result.reps:
        values = {k: v for k, v in rep.to_dict().items() if k in REP_JSON_KEYS}
        values["rom"] = round(values["rom"] / scale, 4)
        values["rom_unit"] = unit
        rows.append(values)
    return rows, recording.duration_s


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=local_zone())


def _session(
    db: Session,
    patient: User,
    when: datetime,
    persona: Persona,
    week: float,
    rng: np.random.Generator,
    library: Library,
) -> int:
    """One session of the program's first items, counted by the engine; its repetitions."""
    program = program_service.active_program(db, patient.id)
    assert program is not None
    items = list(program.items)
    session = records.start_session(db, patient.id, source="camera")
    session.started_at = when
    clock, stored = when + timedelta(minutes=1), 0
    for item in items:
        exercise = library.get(item.exercise_id)
        level = exercise.level(item.level)
        span = abs(exercise.sensing.target - exercise.sensing.rest)
        needed = level.target_range_pct / 100 * span
        reach = max(0.2, 1.05 + persona.rom_trend * week + rng.normal(0, 0.04))
        move_s = 60.0 / level.tempo_bpm * level.beats_per_rep / 2
        for _ in range(min(item.sets, SETS_PER_ITEM)):
            exercise_set = records.start_set(
                db,
                session,
                exercise_id=item.exercise_id,
                side=item.side,
                mode=item.mode,
                level=item.level,
                target_reps=item.reps,
            )
            exercise_set.started_at = clock
            wanted = max(1, round(item.reps * rng.uniform(0.8, 1.05)))
            rows, duration_s = count_set(
                rng, wanted, needed * reach, exercise.sensing.unit, move_s, level.hold_s
            )
            for repetition in records.add_repetitions(db, exercise_set, rows):
                repetition.recorded_at = clock + timedelta(seconds=repetition.end_s)
            stored += len(rows)
            clock += timedelta(seconds=duration_s + 60)
            exercise_set.ended_at = clock
            progress_service.finish_set(db, exercise_set, library=library)
    session.ended_at = clock + timedelta(minutes=1)
    records.end_session(db, session)
    return stored


def _patient(db: Session, therapist: User, persona: Persona, n: int, start: date) -> User:
    username = persona.name.split()[0].lower()
    patient = create_user(db, username, f"{DEMO_PASSWORD}-{n}", Role.patient, persona.name)
    patient.created_at = _at(start, 9)
    db.add(CareLink(patient_id=patient.id, carer_id=therapist.id, kind=LinkKind.therapist))
    profile = patient.profile
    assert profile is not None
    profile.affected_side = persona.side
    profile.regions = persona.regions
    profile.can_sit_unsupported = True
    profile.can_stand_safely = persona.stand
    profile.pain_nrs = 1
    profile.goals = (
        ["reach"] if "elbow" in persona.regions or "shoulder" in persona.regions else ["walking"]
    )
    db.flush()
    program = program_service.build_program(
        db, patient, by=therapist, note="Built from the profile."
    )
    # One full session a day (up to SETS_PER_ITEM sets of each item) meets the target.
    session_reps = sum(min(i.sets, SETS_PER_ITEM) * i.reps for i in program.items)
    program.daily_rep_target = profile.daily_rep_target = session_reps
    program.created_at = _at(start, 9)
    return patient


def _care(
    db: Session, patient: User, therapist: User, persona: Persona, start: date, days: int
) -> None:
    """The toxin case's injection and MAS before and after; pain reports."""
    # The injected muscle's region (the elbow flexors in the demo), else the first region.
    region = "elbow" if "elbow" in persona.regions else next(iter(persona.regions))
    status = persona.regions[region]
    side = "left" if persona.side == "both" else persona.side
    if persona.toxin:
        injected = start + timedelta(days=days // 2)
        db.add(
            TherapyEvent(
                patient_id=patient.id,
                recorded_by_id=therapist.id,
                kind="botulinum_toxin",
                started_on=injected,
                details={
                    "muscles": ["biceps brachii"],
                    "units": 100.0,
                    "product": "onabotulinumtoxinA",
                    "injector": "Dr Rao",
                },
            )
        )
        before = MAS_GRADES.index(status["mas"])
        for offset, grade in ((-3, before), (21, max(0, before - 1))):
            when = _at(injected + timedelta(days=offset), 11)
            if when.date() <= local_date():
                db.add(
                    Assessment(
                        patient_id=patient.id,
                        assessor_id=therapist.id,
                        kind="mas",
                        region=region,
                        side=side,
                        muscle=f"{region} flexors",
                        value=MAS_GRADES[grade],
                        ordinal=grade,
                        measured_at=when,
                    )
                )


def _pain(db: Session, patient: User, persona: Persona, day: date, rng: random.Random) -> None:
    if rng.random() < 0.3 or persona.pain_day:
        nrs = 5 if persona.pain_day and rng.random() < 0.1 else rng.choice((0, 1, 1, 2, 2, 3))
        db.add(
            PainReport(
                patient_id=patient.id,
                reported_by_id=patient.id,
                nrs=nrs,
                reported_at=_at(day, 10, 30),
            )
        )


def _practises(persona: Persona, day_n: int, days: int, rng: random.Random) -> bool:
    week = day_n // 7
    if persona.gap and days >= 21 and days // 2 - 3 <= day_n < days // 2 + 4:
        return False
    if persona.contracture and day_n >= days - 4:
        return False  # the range work stops: rule K1 fires
    chance = persona.adherence * (0.8**week if persona.fading else 1.0)
    return rng.random() < chance


def generate(db: Session, *, patients: int = 6, weeks: int = 6, seed: int = 1) -> DemoSummary:
    """Fill an empty database (see the module doc)."""
    if not database_is_empty(db):
        raise DemoDataError(
            "The database already has accounts; demo data goes into a new one "
            "(give an empty --data-dir)."
        )
    if not 1 <= patients <= 1 + len(PERSONAS):
        raise DemoDataError(f"--patients must be 1 to {1 + len(PERSONAS)}.")
    if not 1 <= weeks <= 26:
        raise DemoDataError("--weeks must be 1 to 26.")
    logins = seed_demo(db)
    therapist = next(u for u in db.query(User).filter(User.role == Role.therapist))
    library = load_library()
    rng, np_rng = random.Random(seed), np.random.default_rng(seed)
    days = weeks * 7
    today = local_date()
    start = today - timedelta(days=days)
    sessions = reps = 0
    for n, persona in enumerate(PERSONAS[: patients - 1], start=1):
        patient = _patient(db, therapist, persona, n, start)
        _care(db, patient, therapist, persona, start, days)
        for day_n in range(days):
            day = start + timedelta(days=day_n)
            if not _practises(persona, day_n, days, rng):
                continue
            when = _at(day, rng.choice((9, 10, 11, 16, 17)), rng.randrange(60))
            reps += _session(db, patient, when, persona, day_n / 7, np_rng, library)
            sessions += 1
            _pain(db, patient, persona, day, rng)
        db.flush()
    return DemoSummary(logins, patients, sessions, reps)
