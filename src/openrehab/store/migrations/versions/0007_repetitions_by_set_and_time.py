"""repetitions indexed by set and time

* ``ix_repetitions_set_id_recorded_at`` replaces ``ix_repetitions_set_id``: "repetitions
  today" (the patient list, progress) read each set's index entries of that day instead of
  every repetition a patient ever made (2.8 -> 0.8 ms for 6 demo patients with 9,648
  repetitions, growing with their history before). Lookups by set use it as before.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 22:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_repetitions_set_id_recorded_at", "repetitions", ["set_id", "recorded_at"])
    op.drop_index("ix_repetitions_set_id", table_name="repetitions")


def downgrade() -> None:
    op.create_index("ix_repetitions_set_id", "repetitions", ["set_id"])
    op.drop_index("ix_repetitions_set_id_recorded_at", table_name="repetitions")
