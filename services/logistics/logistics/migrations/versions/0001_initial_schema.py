"""initial schema, with the carriers and delivery methods every environment starts with

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 05:55:22.319320
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
    op.create_table('carrier_pushes',
    sa.Column('carrier_id', sa.String(length=32), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('shipment_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('received_at', mall_shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('carrier_id', 'event_id', name=op.f('pk_carrier_pushes'))
    )
    with op.batch_alter_table('carrier_pushes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carrier_pushes_shipment_id'), ['shipment_id'], unique=False)

    op.create_table('carriers',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('tracking_pattern', sa.String(length=200), nullable=False),
    sa.Column('tracking_url_template', sa.String(length=500), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carriers'))
    )
    op.create_table('delivery_methods',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('fee', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('est_days_min', sa.Integer(), nullable=False),
    sa.Column('est_days_max', sa.Integer(), nullable=False),
    sa.Column('regions', sa.JSON(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_methods'))
    )
    op.create_table('orders',
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('shipping_address', sa.JSON(), nullable=True),
    sa.Column('delivery_method_id', sa.String(length=32), nullable=True),
    sa.Column('updated_at', mall_shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_orders'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_customer_id'), ['customer_id'], unique=False)

    op.create_table('shipments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('shipping_address', sa.JSON(), nullable=True),
    sa.Column('delivery_method_id', sa.String(length=32), nullable=True),
    sa.Column('carrier_id', sa.String(length=32), nullable=True),
    sa.Column('tracking_number', sa.String(length=40), nullable=True),
    sa.Column('shipped_at', mall_shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', mall_shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('signed_at', mall_shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('signed_by', sa.String(length=16), nullable=True),
    sa.Column('created_at', mall_shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['carriers.id'], name=op.f('fk_shipments_carrier_id_carriers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipments')),
    sa.UniqueConstraint('carrier_id', 'tracking_number', name=op.f('uq_shipments_carrier_id_tracking_number')),
    sa.UniqueConstraint('order_id', name=op.f('uq_shipments_order_id'))
    )
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipments_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipments_delivered_at'), ['delivered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipments_status'), ['status'], unique=False)

    op.create_table('tracking_events',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('shipment_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('at', mall_shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_at', mall_shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_tracking_events_shipment_id_shipments')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_tracking_events'))
    )
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracking_events_shipment_id'), ['shipment_id'], unique=False)

    _seed()


# The reference data lives here, not in a fixture or a script, so every environment has it.
CARRIERS = [
    ("sf", "顺丰速运 SF Express", r"SF\d{12,13}",
     "https://www.sf-express.com/chn/sc/waybill/waybill-detail/{tracking_number}"),
    ("zto", "中通快递 ZTO", r"\d{12,14}", "https://www.zto.com/?num={tracking_number}"),
    ("jd", "京东物流 JD Logistics", r"JD[A-Z0-9]{11,13}",
     "https://www.jdl.com/orderSearch/?waybillCodes={tracking_number}"),
    ("ems", "中国邮政 EMS", r"[A-Z]{2}\d{9}[A-Z]{2}|\d{13}", "https://www.ems.com.cn/queryList?mailNum={tracking_number}"),
]
SAME_DAY_REGIONS = ["北京市", "上海市", "天津市", "重庆市", "广东省", "浙江省", "江苏省"]
DELIVERY_METHODS = [
    # id, name, fee (fen), est_days_min, est_days_max, regions (None: everywhere)
    ("standard", "标准快递 Standard", 1000, 3, 5, None),
    ("express", "特快专递 Express", 2000, 1, 2, None),
    ("same_day", "当日达 Same-day", 3500, 0, 0, SAME_DAY_REGIONS),
    ("pickup", "门店自提 Store pickup", 0, 1, 3, None),
]


def _seed() -> None:
    carriers = sa.table("carriers", sa.column("id"), sa.column("name"), sa.column("tracking_pattern"),
                        sa.column("tracking_url_template"), sa.column("active"))
    op.bulk_insert(carriers, [dict(id=i, name=n, tracking_pattern=p, tracking_url_template=u, active=True)
                              for i, n, p, u in CARRIERS])
    methods = sa.table("delivery_methods", sa.column("id"), sa.column("name"), sa.column("fee"),
                       sa.column("currency"), sa.column("est_days_min"), sa.column("est_days_max"),
                       sa.column("regions", sa.JSON), sa.column("active"))
    op.bulk_insert(methods, [dict(id=i, name=n, fee=f, currency="CNY", est_days_min=lo, est_days_max=hi,
                                  regions=r, active=True) for i, n, f, lo, hi, r in DELIVERY_METHODS])


def downgrade() -> None:
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracking_events_shipment_id'))

    op.drop_table('tracking_events')
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipments_status'))
        batch_op.drop_index(batch_op.f('ix_shipments_delivered_at'))
        batch_op.drop_index(batch_op.f('ix_shipments_customer_id'))

    op.drop_table('shipments')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_customer_id'))

    op.drop_table('orders')
    op.drop_table('delivery_methods')
    op.drop_table('carriers')
    with op.batch_alter_table('carrier_pushes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carrier_pushes_shipment_id'))

    op.drop_table('carrier_pushes')
    drop_bus_tables()
