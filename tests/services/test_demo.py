"""The demo data ``make run`` shows: a believable week of practice that the app's own rules
produced, so every page has something true to show (what was stored, read back)."""

from __future__ import annotations

import math
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openrehab.exercises.library import load_library
from openrehab.services import program as program_service
from openrehab.services.demo import DEMO_LOGINS, database_is_empty, seed_demo
from openrehab.store.db import make_engine
from openrehab.store.models import (
    Assessment,
    ExerciseSession,
    ExerciseSet,
    PainReport,
    Repetition,
    TherapyEvent,
    User,
)


def _patient(db: Session) -> User:
    seed_demo(db)
    db.commit()
    patient = db.scalar(select(User).where(User.username == "patient"))
    assert patient is not None
    return patient


def test_the_demo_program_moves_the_arm_actively_and_the_hand_passively(db: Session) -> None:
    """The demo patient moves shoulder, elbow and wrist but not the hand (MAS 3): the
    program has active work for the first three and only passive or stretch work for the
    hand, as the planner's rules give."""
    patient = _patient(db)
    program = program_service.active_program(db, patient.id)
    assert program is not None
    library = load_library()
    modes: dict[str, set[str]] = {}
    for item in program.items:
        for region in library.get(item.exercise_id).regions:
            modes.setdefault(region, set()).add(item.mode)
    for region in ("shoulder", "elbow", "wrist"):
        assert "active" in modes[region], (region, modes)
    assert modes["hand"] and "active" not in modes["hand"], modes
    # The demo patient cannot stand safely: nothing is planned standing, and the program
    # says so (rule R1), so the demo shows that safety rule at work.
    assert all(item.body_position != "standing" for item in program.items)
    assert any(reason.startswith("[R1 standing only when safe]") for reason in program.reasons)


def test_the_demo_week_is_six_sessions_with_mild_pain_reported_by_the_patient(
    db: Session,
) -> None:
    patient = _patient(db)
    sessions = list(
        db.scalars(
            select(ExerciseSession)
            .where(ExerciseSession.patient_id == patient.id)
            .order_by(ExerciseSession.started_at)
        )
    )
    reports = list(
        db.scalars(
            select(PainReport)
            .where(PainReport.patient_id == patient.id)
            .order_by(PainReport.reported_at)
        )
    )
    assert len(sessions) == len(reports) == 6
    for exercise_session, report in zip(sessions, reports, strict=True):
        assert report.reported_by_id == patient.id
        assert 1 <= report.nrs <= 3
        assert report.reported_at == exercise_session.started_at + timedelta(minutes=25)
        assert exercise_session.ended_at is not None


def test_demo_repetitions_mostly_reach_their_level_s_range(db: Session) -> None:
    """Each stored repetition has a range in the exercise's unit and a peak speed of a
    half-sine movement (pi * range / duration); most, not all, reach the level's range."""
    patient = _patient(db)
    library = load_library()
    rows = db.execute(
        select(Repetition, ExerciseSet)
        .join(ExerciseSet, Repetition.set_id == ExerciseSet.id)
        .join(ExerciseSession, ExerciseSet.session_id == ExerciseSession.id)
        .where(ExerciseSession.patient_id == patient.id)
    ).all()
    assert len(rows) > 50
    reached = 0
    for repetition, exercise_set in rows:
        exercise = library.get(exercise_set.exercise_id)
        level = exercise.level(exercise_set.level)
        needed = level.target_range_pct / 100 * abs(exercise.sensing.target - exercise.sensing.rest)
        assert repetition.rom is not None and repetition.rom > 0
        assert repetition.rom_unit == exercise.sensing.unit
        assert repetition.duration_s is not None and repetition.peak_velocity is not None
        expected = math.pi * repetition.rom / repetition.duration_s
        assert math.isclose(repetition.peak_velocity, expected, rel_tol=0.01, abs_tol=0.006)
        reached += repetition.rom >= needed
        # Getting better over the week, as people do, but no rep is twice the level's range.
        assert repetition.rom < 2 * needed
    assert 0.7 <= reached / len(rows) < 1.0


def test_the_demo_elbow_was_assessed_before_and_after_the_injection(db: Session) -> None:
    """The care pages have a history to show: MAS, Tardieu and goniometric range of the left
    elbow flexors a month ago and a week ago, around a botulinum toxin injection 20 days ago."""
    patient = _patient(db)
    rows = list(
        db.scalars(
            select(Assessment)
            .where(Assessment.patient_id == patient.id)
            .order_by(Assessment.measured_at, Assessment.id)
        )
    )
    assert [a.kind for a in rows] == ["mas", "tardieu", "rom"] * 2
    first_session = db.scalar(
        select(func.min(ExerciseSession.started_at)).where(ExerciseSession.patient_id == patient.id)
    )
    for assessment in rows:
        # Assessed before the first practice day (the program was built from it).
        assert first_session - assessment.measured_at > timedelta(hours=12)
        assert (assessment.region, assessment.side) == ("elbow", "left")
    mas = [(a.value, a.ordinal) for a in rows if a.kind == "mas"]
    assert mas == [("2", 3), ("1+", 2)], "stored as ordinal codes, less stiff after the injection"
    for tardieu in (a for a in rows if a.kind == "tardieu"):
        # The catch (R1) comes before the end of the slow range (R2): the Tardieu definition.
        assert tardieu.r1_deg is not None and tardieu.r2_deg is not None
        assert 0 < tardieu.r1_deg < tardieu.r2_deg <= 180
    injection = db.scalars(
        select(TherapyEvent).where(
            TherapyEvent.patient_id == patient.id, TherapyEvent.kind == "botulinum_toxin"
        )
    ).one()
    assert rows[0].measured_at.date() < injection.started_on < rows[-1].measured_at.date()


def _rep_values(db: Session) -> list[tuple]:
    return list(
        db.execute(
            select(
                Repetition.index, Repetition.rom, Repetition.duration_s, Repetition.sparc
            ).order_by(Repetition.id)
        ).all()
    )


def test_the_demo_is_the_same_every_time_and_only_fills_an_empty_database(
    db: Session, tmp_path: Path, templates: Any
) -> None:
    """``make run`` seeds only an empty database, and the same week each time (so the
    README's pictures match what a new user sees)."""
    assert database_is_empty(db)
    patient = _patient(db)
    assert not database_is_empty(db)
    assert db.scalar(select(func.count(User.id))) == len(DEMO_LOGINS)
    other = tmp_path / "again.sqlite3"
    shutil.copyfile(templates.sqlite(), other)
    engine = make_engine(f"sqlite:///{other}")
    try:
        with Session(engine) as again:
            seed_demo(again)
            again.commit()
            assert _rep_values(again) == _rep_values(db)
    finally:
        engine.dispose()
    assert patient.id is not None


def test_demo_smoothness_is_that_of_real_movement(db: Session) -> None:
    """SPARC and LDLJ are negative (0 would be no movement profile at all) and no real rep is
    smoother than one minimum-jerk movement (SPARC -1.406, LDLJ -5.816); the demo's reps lie
    between that and two merged sub-movements (SPARC -2.245), as measured in docs/motion.md."""
    _patient(db)
    values = db.execute(select(Repetition.sparc, Repetition.ldlj)).all()
    assert values
    for sparc, ldlj in values:
        assert sparc is not None and -2.245 <= sparc <= -1.406
        assert ldlj is not None and ldlj <= -5.816
