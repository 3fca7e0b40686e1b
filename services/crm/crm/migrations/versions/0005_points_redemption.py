"""points redemption (issue 10): an order's points on its purchase record, a refund's return
and points, the membership's version (MembershipChanged), a ledger entry's kind and held points

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("purchase_records") as batch:
        batch.add_column(sa.Column("points_used", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("points_state", sa.String(16), nullable=True))
        batch.add_column(sa.Column("points_returned", sa.BigInteger(), nullable=False, server_default="0"))
    with op.batch_alter_table("purchase_refunds") as batch:
        batch.add_column(sa.Column("return_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("points", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("points_returned", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("points_entries") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="earn"))
        batch.add_column(sa.Column("held", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("points_entries") as batch:
        batch.drop_column("held")
        batch.drop_column("kind")
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("version")
    with op.batch_alter_table("purchase_refunds") as batch:
        batch.drop_column("points_returned")
        batch.drop_column("points")
        batch.drop_column("return_id")
    with op.batch_alter_table("purchase_records") as batch:
        batch.drop_column("points_returned")
        batch.drop_column("points_state")
        batch.drop_column("points_used")
