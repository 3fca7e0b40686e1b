"""refunds.return_id: the return (售后) a refund pays for, unique so a return is refunded once

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("refunds") as batch:
        batch.add_column(sa.Column("return_id", sa.String(36), nullable=True))
        batch.create_unique_constraint(batch.f("uq_refunds_return_id"), ["return_id"])


def downgrade() -> None:
    with op.batch_alter_table("refunds") as batch:
        batch.drop_constraint(batch.f("uq_refunds_return_id"), type_="unique")
        batch.drop_column("return_id")
