"""monthly sku figures

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 10:30:05.784834
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('monthly_skus',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('sku_id', sa.String(length=36), nullable=False),
    sa.Column('units', sa.BigInteger(), nullable=False),
    sa.Column('revenue', sa.BigInteger(), nullable=False),
    sa.Column('ordered_lines', sa.BigInteger(), nullable=False),
    sa.Column('ordered_units', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'sku_id', name=op.f('pk_monthly_skus'))
    )


def downgrade() -> None:
    op.drop_table('monthly_skus')
