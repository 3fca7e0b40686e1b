"""money in 64 bits, as order keeps it: a big order's total no longer overflows payments, refunds and the order copy

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa

from mall_shared.migrate import change_column_types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = {"orders": ["total"], "payments": ["amount", "refunded_amount"], "refunds": ["amount"]}


def upgrade() -> None:
    change_column_types(COLUMNS, sa.Integer, sa.BigInteger)


def downgrade() -> None:
    change_column_types(COLUMNS, sa.BigInteger, sa.Integer)
