"""Migrations build the whole schema from empty, match the models, and are reversible."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from openrehab.store import migrate
from openrehab.store.models import Base

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
