"""Demo data for a caseload (services.demo_data): sets counted by the real motion engine,
the personas' histories (a gap, a fading one, the contracture-risk case firing K1 and K2),
and only into an empty database."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openrehab.clock import local_date
from openrehab.exercises.library import load_library
from openrehab.services import care as care_service
from openrehab.services.demo_data import DemoDataError, count_set, generate
from openrehab.store.models import ExerciseSession, ExerciseSet, Repetition, Role, User


@pytest.mark.parametrize("exercise_id", [e.id for e in load_library()])
def test_the_engine_counts_every_simulated_set_of_every_exercise(exercise_id: str) -> None:
    exercise = load_library().get(exercise_id)
    rng = np.random.default_rng(3)
    for number in (1, exercise.max_level):
        level = exercise.level(number)
        needed = level.target_range_pct / 100 * abs(exercise.sensing.target - exercise.sensing.rest)
        move_s = 60.0 / level.tempo_bpm * level.beats_per_rep / 2
        rows, duration_s = count_set(rng, 8, needed, exercise.sensing.unit, move_s, level.hold_s)
        assert len(rows) == 8, (exercise_id, number)
        roms = [r["rom"] for r in rows]
        assert np.median(roms) == pytest.approx(needed, rel=0.15)
        assert {r["rom_unit"] for r in rows} == {exercise.sensing.unit}
        assert duration_s > 8 * (2 * move_s + level.hold_s)


def test_demo_data_fills_an_empty_database_with_a_caseload(db: Session) -> None:
    summary = generate(db, patients=7, weeks=6, seed=2)
    db.commit()
    patients = {
        u.display_name: u for u in db.scalars(select(User).where(User.role == Role.patient))
    }
    assert len(patients) == 7 and summary.patients == 7
    stored = db.scalar(select(func.count(Repetition.id))) or 0
    assert stored >= summary.repetitions > 1000
    per_patient = dict(
        db.execute(
            select(ExerciseSession.patient_id, func.count(ExerciseSession.id)).group_by(
                ExerciseSession.patient_id
            )
        ).all()
    )
    days = 42
    maria, grace = patients["Maria Gonzalez"], patients["Grace Liu"]
    assert per_patient[maria.id] > 0.75 * days  # nearly daily
    assert per_patient[grace.id] < 0.6 * days  # fading
    # Every set was ended through the progression.
    assert db.scalar(select(func.count(ExerciseSet.id)).where(ExerciseSet.ended_at.is_(None))) == 0
    omar = care_service.patient_alerts(db, patients["Omar Haddad"], today=local_date())
    assert {a.rule_id for a in omar} >= {"K1", "K2"}
    with pytest.raises(DemoDataError, match="already has accounts"):
        generate(db, patients=2, weeks=1)


@pytest.mark.parametrize(("patients", "weeks"), [(0, 2), (8, 2), (2, 0), (2, 27)])
def test_demo_data_refuses_sizes_out_of_range(db: Session, patients: int, weeks: int) -> None:
    with pytest.raises(DemoDataError, match="must be"):
        generate(db, patients=patients, weeks=weeks)
