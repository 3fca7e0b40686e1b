"""cancelled orders

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 06:55:58.711270
"""
import sqlalchemy as sa
from alembic import op

import mall_shared.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cancelled_orders',
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('at', mall_shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_cancelled_orders'))
    )


def downgrade() -> None:
    op.drop_table('cancelled_orders')
