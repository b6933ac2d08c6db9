"""the progression state a set was judged from

* ``exercise_sets.judged_from`` (JSON, nullable): when the progression judges a set, the
  exercise's progression state before it and whether pain was flagged explicitly when the
  set ended. Undoing a mis-tapped pain score (within its minute) can then take back that
  set's pain judgement (a level down) and judge the set again without it. Sets judged
  before this migration have none and keep their judgement.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("exercise_sets") as batch:
        batch.add_column(sa.Column("judged_from", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exercise_sets") as batch:
        batch.drop_column("judged_from")
