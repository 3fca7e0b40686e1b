"""returns (售后): the lines, currency and completion time of orders, returns and their lines

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

from mall_shared.db import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("lines", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("currency", sa.String(3), nullable=False, server_default="CNY"))
        batch.add_column(sa.Column("completed_at", UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "returns",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("refusal_reason", sa.String(500), nullable=True),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("carrier_id", sa.String(32), nullable=True),
        sa.Column("tracking_number", sa.String(40), nullable=True),
        sa.Column("refund_id", sa.String(36), nullable=True),
        sa.Column("refunded_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["carrier_id"], ["carriers.id"], name=op.f("fk_returns_carrier_id_carriers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns")),
    )
    for column in ("order_id", "customer_id", "status"):
        op.create_index(op.f(f"ix_returns_{column}"), "returns", [column])
    op.create_table(
        "return_lines",
        sa.Column("return_id", sa.String(36), nullable=False),
        sa.Column("sku_id", sa.String(36), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["return_id"], ["returns.id"], name=op.f("fk_return_lines_return_id_returns")),
        sa.PrimaryKeyConstraint("return_id", "sku_id", name=op.f("pk_return_lines")),
    )


def downgrade() -> None:
    op.drop_table("return_lines")
    for column in ("status", "customer_id", "order_id"):
        op.drop_index(op.f(f"ix_returns_{column}"), "returns")
    op.drop_table("returns")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("completed_at")
        batch.drop_column("currency")
        batch.drop_column("lines")
