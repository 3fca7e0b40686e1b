"""money in 64 bits, as order keeps it: a big order's total no longer overflows a return or a delivery fee

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa

from mall_shared.migrate import change_column_types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = {"delivery_methods": ["fee"], "returns": ["amount"], "return_lines": ["unit_price"]}


def upgrade() -> None:
    change_column_types(COLUMNS, sa.Integer, sa.BigInteger)


def downgrade() -> None:
    change_column_types(COLUMNS, sa.BigInteger, sa.Integer)
