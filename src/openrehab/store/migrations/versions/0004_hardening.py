"""hardening: idempotent repetitions, one active program, idle logins, login throttling

* ``repetitions.client_id``: the sender's id for a rep, unique within its set, so a retry or a
  second device never stores a rep twice.
* ``uq_programs_one_active``: at most one active program per patient (concurrent rebuilds
  used to leave several); older duplicates are deactivated first, the newest stays.
* ``auth_tokens.last_used_at``: for idle expiry of logins.
* ``login_failures``: recent failed logins, to throttle password guessing.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("repetitions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_repetitions_set_client_id", ["set_id", "client_id"])
    with op.batch_alter_table("auth_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE programs SET active = false WHERE active AND id NOT IN "
        "(SELECT max(id) FROM programs WHERE active GROUP BY patient_id)"
    )
    op.create_index(
        "uq_programs_one_active",
        "programs",
        ["patient_id"],
        unique=True,
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index("ix_login_failures_key_at", "login_failures", ["key", "failed_at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_key_at", table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_index("uq_programs_one_active", table_name="programs")
    with op.batch_alter_table("auth_tokens", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
    with op.batch_alter_table("repetitions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_repetitions_set_client_id", type_="unique")
        batch_op.drop_column("client_id")
