"""Demo data for a first run: a therapist, a caregiver and a patient with a week of sessions.

Seeding happens only into an empty database (no users), so it never touches real records.
The demo passwords are public (printed on start); a clinic runs ``serve --no-demo``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openrehab.accounts.service import create_user
from openrehab.store import records
from openrehab.store.models import Assessment, CareLink, LinkKind, PainReport, Role, User, utc_now


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


def database_is_empty(db: Session) -> bool:
    return (db.scalar(select(func.count(User.id))) or 0) == 0


def seed_demo(db: Session, seed: int = 7) -> list[DemoLogin]:
    """Create the demo accounts and a week of plausible history. Returns the logins."""
    users = {
        login.role: create_user(db, login.username, login.password, login.role, login.display_name)
        for login in DEMO_LOGINS
    }
    patient = users[Role.patient]
    for carer, kind in (
        (users[Role.therapist], LinkKind.therapist),
        (users[Role.caregiver], LinkKind.caregiver),
    ):
        db.add(CareLink(patient_id=patient.id, carer_id=carer.id, kind=kind))
    assert patient.profile is not None
    profile = patient.profile
    profile.affected_side = "left"
    profile.regions = {
        "elbow": {"mas": "1+", "active_movement": True},
        "wrist": {"mas": "2", "active_movement": True},
        "hand": {"mas": "3", "active_movement": False},
        "shoulder": {"mas": "1", "active_movement": True},
    }
    profile.can_sit_unsupported = True
    profile.can_stand_safely = False
    profile.pain_nrs = 2
    profile.goals = ["Hold a cup with my left hand", "Dress myself"]

    rng = random.Random(seed)
    now = utc_now()
    for days_ago in range(6, 0, -1):
        day = now - timedelta(days=days_ago)
        exercise_session = records.start_session(db, patient.id, source="camera")
        exercise_session.started_at = day.replace(hour=10, minute=0, second=0, microsecond=0)
        for exercise_id, rom_deg in (("elbow_flexion_extension", 95.0), ("shoulder_flexion", 80.0)):
            exercise_set = records.start_set(
                db,
                exercise_session,
                exercise_id=exercise_id,
                side="left",
                mode="active",
                level=1 + (6 - days_ago) // 2,
                target_reps=20,
            )
            reps = []
            for index in range(rng.randint(14, 22)):
                start_s = 3.0 * index
                duration_s = rng.uniform(2.0, 2.8)
                rom = rom_deg * (1 + 0.02 * (6 - days_ago)) + rng.gauss(0, 4)
                reps.append(
                    {
                        "start_s": start_s,
                        "end_s": start_s + duration_s,
                        "peak_s": start_s + duration_s / 2,
                        "rom": round(rom, 1),
                        "rom_unit": "deg",
                        "duration_s": round(duration_s, 2),
                        "peak_velocity": round(math.pi * rom / duration_s, 1),
                        "sparc": round(rng.uniform(-2.2, -1.5), 3),
                        "ldlj": round(rng.uniform(-8.0, -6.0), 3),
                        "velocity_peaks": rng.choice((2, 2, 3)),
                        "too_fast": False,
                    }
                )
            for repetition in records.add_repetitions(db, exercise_set, reps):
                repetition.recorded_at = exercise_session.started_at + timedelta(
                    seconds=repetition.end_s
                )
        records.end_session(db, exercise_session)
        exercise_session.ended_at = exercise_session.started_at + timedelta(minutes=20)
        db.add(
            PainReport(
                patient_id=patient.id,
                reported_by_id=patient.id,
                nrs=rng.choice((1, 2, 2, 3)),
                reported_at=exercise_session.ended_at,
            )
        )
    db.add(
        Assessment(
            patient_id=patient.id,
            assessor_id=users[Role.therapist].id,
            kind="tardieu",
            region="elbow",
            side="left",
            value="2",
            r1_deg=95.0,
            r2_deg=140.0,
            measured_at=now - timedelta(days=7),
            notes="Catch at mid-range on fast stretch.",
        )
    )
    db.add(
        Assessment(
            patient_id=patient.id,
            assessor_id=users[Role.therapist].id,
            kind="mas",
            region="elbow",
            side="left",
            value="1+",
            measured_at=now - timedelta(days=7),
        )
    )
    db.flush()
    return list(DEMO_LOGINS)
