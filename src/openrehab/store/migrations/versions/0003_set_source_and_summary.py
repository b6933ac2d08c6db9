"""set source and summary

A set remembers how its repetitions were counted (camera, tap, rhythm game, demo, upload) and
a summary object for what is not a repetition (the rhythm game's score, streak, accuracy and
timing error).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("exercise_sets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("summary", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("exercise_sets", schema=None) as batch_op:
        batch_op.drop_column("summary")
        batch_op.drop_column("source")
