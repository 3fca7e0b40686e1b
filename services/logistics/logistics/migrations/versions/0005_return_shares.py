"""a return's lines carry the returned units' share of what the line paid and of its points;
a return its points (issue 10). Returns made before: paid = unit_price × quantity, no points.

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
    with op.batch_alter_table("return_lines") as batch:
        batch.add_column(sa.Column("paid", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("points", sa.BigInteger(), nullable=False, server_default="0"))
    op.execute("UPDATE return_lines SET paid = unit_price * quantity")
    with op.batch_alter_table("return_lines") as batch:
        batch.alter_column("paid", existing_type=sa.BigInteger(), nullable=False)
    with op.batch_alter_table("returns") as batch:
        batch.add_column(sa.Column("points", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("returns") as batch:
        batch.drop_column("points")
    with op.batch_alter_table("return_lines") as batch:
        batch.drop_column("points")
        batch.drop_column("paid")
