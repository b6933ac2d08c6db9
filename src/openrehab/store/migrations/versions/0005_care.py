"""spasticity care: assessments per muscle with method, withdrawn pain taps, symptom reports

* ``assessments.muscle``, ``.method``, ``.ordinal``, ``.rom_deg``: the muscle group assessed,
  how (goniometer, sensor, visual...), the ordinal code of an ordinal scale (MAS 0..5 for
  0, 1, 1+, 2, 3, 4; Tardieu X 0..5) and a goniometric range in degrees.
* ``pain_reports.withdrawn_at`` and ``.profile_nrs_before``: a mis-tapped pain score can be
  undone for a minute; the profile's current pain goes back to what it was.
* ``symptom_reports``: symptoms reported after an injection (possible spread of toxin) or under
  a splint (skin), which raise urgent alerts.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("muscle", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("method", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("ordinal", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("rom_deg", sa.Float(), nullable=True))
    # MAS grades stored before: their ordinal codes, so their trends are drawn too.
    for code, grade in enumerate(("0", "1", "1+", "2", "3", "4")):
        op.execute(
            sa.text(
                "UPDATE assessments SET ordinal = :code WHERE kind = 'mas' AND value = :grade"
            ).bindparams(code=code, grade=grade)
        )
    with op.batch_alter_table("pain_reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("profile_nrs_before", sa.Integer(), nullable=True))
    op.create_table(
        "symptom_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("reported_by_id", sa.Integer(), nullable=True),
        sa.Column("about", sa.String(length=30), nullable=False),
        sa.Column("symptoms", sa.JSON(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["users.id"],
            name=op.f("fk_symptom_reports_patient_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reported_by_id"],
            ["users.id"],
            name=op.f("fk_symptom_reports_reported_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_symptom_reports")),
    )
    op.create_index(
        op.f("ix_symptom_reports_patient_id"), "symptom_reports", ["patient_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_symptom_reports_patient_id"), table_name="symptom_reports")
    op.drop_table("symptom_reports")
    with op.batch_alter_table("pain_reports", schema=None) as batch_op:
        batch_op.drop_column("profile_nrs_before")
        batch_op.drop_column("withdrawn_at")
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_column("rom_deg")
        batch_op.drop_column("ordinal")
        batch_op.drop_column("method")
        batch_op.drop_column("muscle")
