"""program persistence and progression

Stored programs carry everything the planner decided (body position, hold, tempo, helper,
rules) and the therapist's overrides; sets remember when the progression ran on them (so
ending a set twice never counts twice) and progress events point at the set that caused them.
The profile gains the planner's ``other_conditions`` and ``equipment`` fields.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 02:00:05.943723
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EMPTY_LIST = sa.text("'[]'")
EMPTY_OBJECT = sa.text("'{}'")


def upgrade() -> None:
    # Server defaults fill the rows that already exist; the models set values for new rows.
    with op.batch_alter_table("exercise_sets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("progressed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("pain_reported", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table("patient_profiles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("other_conditions", sa.JSON(), nullable=False, server_default=EMPTY_LIST)
        )
        batch_op.add_column(sa.Column("equipment", sa.JSON(), nullable=True))

    with op.batch_alter_table("program_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body_position", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("hold_s", sa.Float(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("tempo_bpm", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("assisted_by", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("max_velocity_deg_s", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("rules", sa.JSON(), nullable=False, server_default=EMPTY_LIST)
        )

    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("overrides", sa.JSON(), nullable=False, server_default=EMPTY_OBJECT)
        )
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))

    with op.batch_alter_table("progress_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("set_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_progress_events_set_id"), ["set_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_progress_events_set_id_exercise_sets"),
            "exercise_sets",
            ["set_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("progress_events", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_progress_events_set_id_exercise_sets"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_progress_events_set_id"))
        batch_op.drop_column("set_id")

    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.drop_column("note")
        batch_op.drop_column("overrides")

    with op.batch_alter_table("program_items", schema=None) as batch_op:
        batch_op.drop_column("rules")
        batch_op.drop_column("max_velocity_deg_s")
        batch_op.drop_column("assisted_by")
        batch_op.drop_column("tempo_bpm")
        batch_op.drop_column("hold_s")
        batch_op.drop_column("body_position")

    with op.batch_alter_table("patient_profiles", schema=None) as batch_op:
        batch_op.drop_column("equipment")
        batch_op.drop_column("other_conditions")

    with op.batch_alter_table("exercise_sets", schema=None) as batch_op:
        batch_op.drop_column("pain_reported")
        batch_op.drop_column("progressed_at")
