"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-12-02 09:59:07.485898
"""
import sqlalchemy as sa
from alembic import op

import mall_shared.db
from mall_shared.migrate import create_bus_tables, drop_bus_tables

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_bus_tables()
    op.create_table('customer_periods',
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('customer_id', 'kind', 'start', name=op.f('pk_customer_periods'))
    )
    with op.batch_alter_table('customer_periods', schema=None) as batch_op:
        batch_op.create_index('ix_customer_periods_kind_start', ['kind', 'start'], unique=False)

    op.create_table('customers',
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('registered_day', sa.Date(), nullable=True),
    sa.Column('tier', sa.String(length=32), nullable=True),
    sa.Column('tier_at', mall_shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_paid_day', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customers'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_first_paid_day'), ['first_paid_day'], unique=False)
        batch_op.create_index(batch_op.f('ix_customers_registered_day'), ['registered_day'], unique=False)

    op.create_table('daily_cancellations',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'reason', name=op.f('pk_daily_cancellations'))
    )
    op.create_table('daily_funnel',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'stage', name=op.f('pk_daily_funnel'))
    )
    op.create_table('daily_payments',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('payments', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('failures', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'method', name=op.f('pk_daily_payments'))
    )
    op.create_table('daily_sales',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('orders_placed', sa.BigInteger(), nullable=False),
    sa.Column('placed_amount', sa.BigInteger(), nullable=False),
    sa.Column('orders_paid', sa.BigInteger(), nullable=False),
    sa.Column('gmv', sa.BigInteger(), nullable=False),
    sa.Column('orders_cancelled', sa.BigInteger(), nullable=False),
    sa.Column('orders_shipped', sa.BigInteger(), nullable=False),
    sa.Column('orders_completed', sa.BigInteger(), nullable=False),
    sa.Column('refunds', sa.BigInteger(), nullable=False),
    sa.Column('refund_amount', sa.BigInteger(), nullable=False),
    sa.Column('refunds_of_sales', sa.BigInteger(), nullable=False),
    sa.Column('returns_received', sa.BigInteger(), nullable=False),
    sa.Column('registrations', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_daily_sales'))
    )
    op.create_table('daily_shipments',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('carrier', sa.String(length=32), nullable=False),
    sa.Column('shipped', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'carrier', name=op.f('pk_daily_shipments'))
    )
    op.create_table('daily_skus',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('sku_id', sa.String(length=36), nullable=False),
    sa.Column('units', sa.BigInteger(), nullable=False),
    sa.Column('revenue', sa.BigInteger(), nullable=False),
    sa.Column('ordered_lines', sa.BigInteger(), nullable=False),
    sa.Column('ordered_units', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'sku_id', name=op.f('pk_daily_skus'))
    )
    op.create_table('daily_views',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('product_id', sa.String(length=36), nullable=False),
    sa.Column('views', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'product_id', name=op.f('pk_daily_views'))
    )
    op.create_table('delivery_times',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('carrier', sa.String(length=32), nullable=False),
    sa.Column('hours', sa.Integer(), nullable=False),
    sa.Column('parcels', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'carrier', 'hours', name=op.f('pk_delivery_times'))
    )
    op.create_table('order_lines',
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('sku_id', sa.String(length=36), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('order_id', 'sku_id', name=op.f('pk_order_lines'))
    )
    op.create_table('orders',
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=True),
    sa.Column('total', sa.BigInteger(), nullable=True),
    sa.Column('placed_day', sa.Date(), nullable=True),
    sa.Column('paid_day', sa.Date(), nullable=True),
    sa.Column('paid_amount', sa.BigInteger(), nullable=True),
    sa.Column('payment_id', sa.String(length=36), nullable=True),
    sa.Column('stages_seen', sa.Integer(), nullable=False),
    sa.Column('stages_counted', sa.Integer(), nullable=False),
    sa.Column('cancel_reason', sa.String(length=200), nullable=True),
    sa.Column('sale_counted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_orders'))
    )
    op.create_table('products',
    sa.Column('product_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('category_id', sa.String(length=36), nullable=True),
    sa.Column('category_name', sa.String(length=100), nullable=True),
    sa.Column('listed_at', mall_shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('product_id', name=op.f('pk_products'))
    )
    op.create_table('refunds',
    sa.Column('refund_id', sa.String(length=36), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('attributed', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('refund_id', name=op.f('pk_refunds'))
    )
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refunds_order_id'), ['order_id'], unique=False)

    op.create_table('shipments',
    sa.Column('shipment_id', sa.String(length=36), nullable=False),
    sa.Column('carrier', sa.String(length=32), nullable=True),
    sa.Column('shipped_at', mall_shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', mall_shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('shipment_id', name=op.f('pk_shipments'))
    )
    op.create_table('skus',
    sa.Column('sku_id', sa.String(length=36), nullable=False),
    sa.Column('product_id', sa.String(length=36), nullable=True),
    sa.Column('stock', sa.BigInteger(), nullable=True),
    sa.Column('stock_at', mall_shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('sku_id', name=op.f('pk_skus'))
    )
    with op.batch_alter_table('skus', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_skus_product_id'), ['product_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('skus', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_skus_product_id'))

    op.drop_table('skus')
    op.drop_table('shipments')
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refunds_order_id'))

    op.drop_table('refunds')
    op.drop_table('products')
    op.drop_table('orders')
    op.drop_table('order_lines')
    op.drop_table('delivery_times')
    op.drop_table('daily_views')
    op.drop_table('daily_skus')
    op.drop_table('daily_shipments')
    op.drop_table('daily_sales')
    op.drop_table('daily_payments')
    op.drop_table('daily_funnel')
    op.drop_table('daily_cancellations')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_registered_day'))
        batch_op.drop_index(batch_op.f('ix_customers_first_paid_day'))

    op.drop_table('customers')
    with op.batch_alter_table('customer_periods', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_periods_kind_start')

    op.drop_table('customer_periods')
    drop_bus_tables()
