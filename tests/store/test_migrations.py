"""Migrations build the whole schema from empty, match the models, and are reversible."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session

from openrehab.store import migrate
from openrehab.store.models import (
    Base,
    ExerciseSession,
    ExerciseSet,
    ProgressEvent,
    Repetition,
    Role,
    User,
)

EXPECTED_TABLES = {
    "users",
    "auth_tokens",
    "patient_profiles",
    "care_links",
    "programs",
    "program_items",
    "exercise_sessions",
    "exercise_sets",
    "repetitions",
    "assessments",
    "therapy_events",
    "pain_reports",
    "exercise_progress",
    "progress_events",
    "audit_log",
    "login_failures",
    "symptom_reports",
    "patient_notes",
}


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_from_empty_creates_every_table(empty_engine: Engine) -> None:
    assert _tables(empty_engine) == set()
    migrate.upgrade(empty_engine)
    assert _tables(empty_engine) == EXPECTED_TABLES
    assert migrate.current_revision(empty_engine) == migrate.head_revision()


def test_migrations_match_models(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == [], f"models and migrations differ; add a migration: {differences}"


def test_downgrade_to_base_and_back(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    migrate.downgrade(empty_engine, "base")
    assert _tables(empty_engine) == set()
    assert migrate.current_revision(empty_engine) is None
    migrate.upgrade(empty_engine)
    assert _tables(empty_engine) == EXPECTED_TABLES


def test_upgrade_is_idempotent(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    migrate.upgrade(empty_engine)
    assert migrate.current_revision(empty_engine) == migrate.head_revision()


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_a_downgrade_keeps_the_rows_of_the_tables_it_changes(empty_engine: Engine) -> None:
    """Downgrades drop columns of ``exercise_sets`` (0008, 0003, 0002): on SQLite that rebuilds
    the table, and with foreign keys on, dropping the old one deleted every repetition. The
    rows stay, down to 0001 and back up."""
    migrate.upgrade(empty_engine)
    with Session(empty_engine) as db:
        patient = User(username="p1", password_hash="x", role=Role.patient, display_name="P")
        db.add(patient)
        db.flush()
        exercise_session = ExerciseSession(patient_id=patient.id)
        db.add(exercise_session)
        db.flush()
        exercise_set = ExerciseSet(
            session_id=exercise_session.id, exercise_id="elbow_flexion", side="left", mode="active"
        )
        db.add(exercise_set)
        db.flush()
        db.add(Repetition(set_id=exercise_set.id, index=0, start_s=0.0, end_s=2.0))
        db.add(ProgressEvent(patient_id=patient.id, set_id=exercise_set.id, kind="set", reason="r"))
        db.commit()
    for revision in ("0007", "0001", "head"):
        if revision == "head":
            migrate.upgrade(empty_engine)
        else:
            migrate.downgrade(empty_engine, revision)
        assert (_count(empty_engine, "exercise_sets"), _count(empty_engine, "repetitions")) == (
            1,
            1,
        )
    assert _count(empty_engine, "progress_events") == 1
    if empty_engine.dialect.name == "sqlite":
        with empty_engine.connect() as connection:
            on = connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one()
        assert on == 1, "foreign keys are on again after migrating"
