"""Builders shared by the services tests: a complete profile, sets with repetitions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.exercises.library import load_library
from openrehab.store import records
from openrehab.store.models import ExerciseProgress, ExerciseSet, User

ARM_PROFILE = {
    "shoulder": {"mas": "1", "active_movement": True},
    "elbow": {"mas": "1", "active_movement": True},
}


def give_profile(db: Session, patient_id: int, regions: dict | None = None) -> User:
    patient = db.get(User, patient_id)
    assert patient is not None and patient.profile is not None
    patient.profile.affected_side = "left"
    patient.profile.regions = regions or ARM_PROFILE
    patient.profile.can_sit_unsupported = True
    patient.profile.can_stand_safely = False
    db.flush()
    return patient


def progress_row(
    db: Session, patient_id: int, exercise_id: str, side: str = "left"
) -> ExerciseProgress:
    """The stored progress of one exercise and side (it must exist)."""
    row = db.scalar(
        select(ExerciseProgress).where(
            ExerciseProgress.patient_id == patient_id,
            ExerciseProgress.exercise_id == exercise_id,
            ExerciseProgress.side == side,
        )
    )
    assert row is not None
    return row


def do_set(
    db: Session,
    patient_id: int,
    exercise_id: str = "elbow_flexion",
    side: str = "left",
    level: int = 1,
    reached: float = 1.0,
    reps: int | None = None,
    at: datetime | None = None,
    roms: list[float] | None = None,
    mode: str = "active",
    too_fast: Sequence[bool] = (),
) -> ExerciseSet:
    """A set of ``reps`` reps (default: the level's), ``reached`` of them reaching its range.

    ``too_fast[i]`` flags rep ``i`` as faster than the velocity limit (default: none is).
    """
    exercise = load_library().get(exercise_id)
    spec = exercise.level(level)
    needed = spec.target_range_pct / 100 * abs(exercise.sensing.target - exercise.sensing.rest)
    count = reps if reps is not None else spec.reps_per_set
    if roms is None:
        hits = round(reached * count)
        roms = [needed * 1.1 if i < hits else needed * 0.5 for i in range(count)]
    exercise_session = records.start_session(db, patient_id)
    exercise_set = records.start_set(
        db,
        exercise_session,
        exercise_id=exercise_id,
        side=side,
        mode=mode,
        level=level,
        target_reps=spec.reps_per_set,
    )
    rows = [
        {
            "start_s": 3.0 * i,
            "end_s": 3.0 * i + 2.5,
            "rom": rom,
            "rom_unit": exercise.sensing.unit,
            "sparc": -1.6,
            "too_fast": i < len(too_fast) and too_fast[i],
        }
        for i, rom in enumerate(roms)
    ]
    added = records.add_repetitions(db, exercise_set, rows)
    if at is not None:
        exercise_session.started_at = at
        exercise_set.started_at = at
        for repetition in added:
            repetition.recorded_at = at + timedelta(seconds=repetition.end_s)
        exercise_set.ended_at = at + timedelta(minutes=2)
    db.flush()
    return exercise_set
