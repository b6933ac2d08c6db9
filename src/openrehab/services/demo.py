"""Demo data for a first run: a therapist, a caregiver and a patient with a week of practice.

Seeding happens only into an empty database (no users), so it never touches real records.
The patient's program is built from their profile by the real planner, and the week of
sessions goes through the real progression (``finish_set``), so levels, XP, the streak and
the explained events are what the app itself would have produced. The demo passwords are
public (printed on start); a clinic runs ``serve --no-demo``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openrehab.accounts.service import create_user
from openrehab.exercises.library import load_library
from openrehab.services import program as program_service
from openrehab.services import progress as progress_service
from openrehab.services.clinical import MAS_GRADES
from openrehab.store import records
from openrehab.store.models import (
    Assessment,
    CareLink,
    LinkKind,
    PainReport,
    Role,
    TherapyEvent,
    User,
    utc_now,
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: Role
    display_name: str


DEMO_LOGINS = (
    DemoLogin("therapist", "demo-therapist", Role.therapist, "Dr Tess Therapist"),
    DemoLogin("patient", "demo-patient", Role.patient, "Pat Patient"),
    DemoLogin("caregiver", "demo-caregiver", Role.caregiver, "Casey Caregiver"),
)
#: Items of the program practised each demo day (the first ones, in program order).
ITEMS_PER_DAY = 4


def database_is_empty(db: Session) -> bool:
    return (db.scalar(select(func.count(User.id))) or 0) == 0


def seed_demo(db: Session, seed: int = 7) -> list[DemoLogin]:
    """Create the demo accounts, profile, program and six days of practice. Returns logins."""
    users = {
        login.role: create_user(db, login.username, login.password, login.role, login.display_name)
        for login in DEMO_LOGINS
    }
    patient, therapist = users[Role.patient], users[Role.therapist]
    patient.created_at = utc_now() - timedelta(days=40)  # in the program for weeks already
    for carer, kind in (
        (therapist, LinkKind.therapist),
        (users[Role.caregiver], LinkKind.caregiver),
    ):
        db.add(CareLink(patient_id=patient.id, carer_id=carer.id, kind=kind))
    assert patient.profile is not None
    profile = patient.profile
    profile.affected_side = "left"
    profile.regions = {
        "shoulder": {"mas": "1", "active_movement": True},
        "elbow": {"mas": "1+", "active_movement": True},
        "wrist": {"mas": "2", "active_movement": True},
        "hand": {"mas": "3", "active_movement": False},
    }
    profile.can_sit_unsupported = True
    profile.can_stand_safely = False
    profile.hand_function = "none"
    profile.pain_nrs = 2
    profile.goals = ["reach", "eating_drinking", "dressing"]
    profile.daily_rep_target = 300
    db.flush()

    library = load_library()
    rng = random.Random(seed)
    now = utc_now()
    program_service.build_program(
        db, patient, by=therapist, note="First program, built from the profile.", library=library
    )
    for days_ago in range(6, 0, -1):
        day_start = (now - timedelta(days=days_ago)).replace(
            hour=10, minute=0, second=0, microsecond=0
        )
        _practise_day(db, patient, day_start, rng, days_ago)
        db.add(
            PainReport(
                patient_id=patient.id,
                reported_by_id=patient.id,
                nrs=rng.choice((1, 2, 2, 3)),
                reported_at=day_start + timedelta(minutes=25),
            )
        )
    _care_history(db, patient, therapist, now)
    db.flush()
    return list(DEMO_LOGINS)


def _care_history(db: Session, patient: User, therapist: User, now: datetime) -> None:
    """What the care pages show: a botulinum toxin injection 20 days ago (its dose raise is on
    and its 4-6 week review comes up), baclofen tablets, a night splint, and the elbow's
    stiffness and range measured before and after the injection."""
    injected = (now - timedelta(days=20)).date()
    therapies = (
        ("botulinum_toxin", injected, {"muscles": ["biceps brachii", "brachioradialis"]}
         | {"units": 150.0, "product": "onabotulinumtoxinA", "injector": "Dr Rao"}),
        ("baclofen", injected - timedelta(days=90), {"route": "oral", "doses": [
            {"time": "08:00", "mg": 10.0}, {"time": "14:00", "mg": 10.0},
            {"time": "20:00", "mg": 10.0}]}),
        ("splint", injected - timedelta(days=60), {"splint_name": "resting hand splint",
         "region": "wrist", "wear_hours_per_day": 8.0, "worn_at": "night"}),
    )  # fmt: skip
    for kind, started_on, details in therapies:
        db.add(
            TherapyEvent(
                patient_id=patient.id,
                recorded_by_id=therapist.id,
                kind=kind,
                started_on=started_on,
                details=details,
            )
        )
    measured = (  # days ago, MAS, R1, R2, goniometric elbow extension range
        (34, "2", 80.0, 132.0, 128.0),
        (7, "1+", 95.0, 140.0, 136.0),
    )
    for days_ago, mas, r1_deg, r2_deg, rom_deg in measured:
        # A morning clinic visit: the day before practice starts (10:00) whatever the hour now.
        at = (now - timedelta(days=days_ago)).replace(hour=9, minute=0, second=0, microsecond=0)
        common = {"patient_id": patient.id, "assessor_id": therapist.id, "region": "elbow"}
        common |= {"side": "left", "muscle": "elbow flexors", "measured_at": at}
        db.add(Assessment(kind="mas", value=mas, ordinal=MAS_GRADES.index(mas), **common))
        db.add(
            Assessment(
                kind="tardieu",
                method="goniometer",
                r1_deg=r1_deg,
                r2_deg=r2_deg,
                ordinal=2,
                details={"velocity": "V3", "quality_x": 2},
                notes="Catch at mid-range on fast stretch.",
                **common,
            )
        )
        joint = common | {"muscle": None}  # the range of the joint, not of one muscle
        db.add(Assessment(kind="rom", method="goniometer", rom_deg=rom_deg, **joint))


def _practise_day(
    db: Session, patient: User, day_start: datetime, rng: random.Random, days_ago: int
) -> None:
    """One session of the current program's first items, ended through the progression."""
    library = load_library()
    program = program_service.active_program(db, patient.id)
    assert program is not None
    plan = [(i.exercise_id, i.side, i.mode, i.level, i.reps, i.sets) for i in program.items]
    exercise_session = records.start_session(db, patient.id, source="camera")
    exercise_session.started_at = day_start
    clock = day_start + timedelta(minutes=1)
    for exercise_id, side, mode, level_number, reps, sets in plan[:ITEMS_PER_DAY]:
        exercise = library.get(exercise_id)
        level = exercise.level(level_number)
        needed = level.target_range_pct / 100 * abs(exercise.sensing.target - exercise.sensing.rest)
        for _ in range(min(sets, 2)):
            exercise_set = records.start_set(
                db,
                exercise_session,
                exercise_id=exercise_id,
                side=side,
                mode=mode,
                level=level_number,
                target_reps=reps,
            )
            exercise_set.started_at = clock
            done = max(1, round(reps * rng.uniform(0.85, 1.05)))
            period = 60.0 / level.tempo_bpm * level.beats_per_rep + level.hold_s
            rows = []
            for index in range(done):
                start_s = period * index
                duration_s = period * rng.uniform(0.8, 0.95)
                # Most reps reach the level's range; a few fall short, as in real practice.
                rom = needed * rng.gauss(1.12 + 0.01 * (6 - days_ago), 0.09)
                rows.append(
                    {
                        "start_s": round(start_s, 2),
                        "end_s": round(start_s + duration_s, 2),
                        "peak_s": round(start_s + duration_s / 2, 2),
                        "rom": round(max(0.0, rom), 3),
                        "rom_unit": exercise.sensing.unit,
                        "duration_s": round(duration_s, 2),
                        "peak_velocity": round(math.pi * rom / duration_s, 2),
                        "sparc": round(rng.uniform(-2.0, -1.6), 3),
                        "ldlj": round(rng.uniform(-8.0, -6.0), 3),
                        "velocity_peaks": rng.choice((2, 2, 3)),
                        "too_fast": False,
                    }
                )
            for repetition in records.add_repetitions(db, exercise_set, rows):
                repetition.recorded_at = clock + timedelta(seconds=repetition.end_s)
            clock += timedelta(seconds=period * done + 60)
            exercise_set.ended_at = clock
            progress_service.finish_set(db, exercise_set, library=library)
    exercise_session.ended_at = clock + timedelta(minutes=2)
    records.end_session(db, exercise_session)
