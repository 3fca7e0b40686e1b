"""issue 10: the pricing breakdown on orders and lines, the saga's holds, the cart, coupons,
campaigns, and copies of crm's memberships and catalog's product categories

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

from mall_shared.db import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MONEY = ("promotion_discount", "coupon_discount", "points_used", "points_discount")


def upgrade() -> None:
    for name in MONEY:
        op.add_column("orders", sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column("orders", sa.Column("coupon_id", sa.String(36), nullable=True))
    # Orders placed before this step had only the stock to wait for.
    op.add_column("orders", sa.Column("stock_reserved", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("orders", sa.Column("points_held", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE orders SET stock_reserved = (status <> 'PENDING')")
    op.add_column("order_lines", sa.Column("discount", sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column("order_lines", sa.Column("points", sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column("order_lines", sa.Column("paid", sa.BigInteger(), nullable=True))
    op.execute("UPDATE order_lines SET paid = line_total")
    with op.batch_alter_table("order_lines") as batch:
        batch.alter_column("paid", existing_type=sa.BigInteger(), nullable=False)
    op.add_column("order_lines", sa.Column("campaign_id", sa.String(36), nullable=True))

    op.create_table(
        "memberships",
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("tier", sa.String(20), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_memberships")),
    )
    op.create_table(
        "product_categories",
        sa.Column("product_id", sa.String(36), nullable=False),
        sa.Column("category_id", sa.String(36), nullable=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_product_categories")),
    )
    op.create_table(
        "cart_items",
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("sku_id", sa.String(36), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("added_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "sku_id", name=op.f("pk_cart_items")),
    )
    op.create_table(
        "coupon_templates",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("max_off", sa.BigInteger(), nullable=True),
        sa.Column("threshold", sa.BigInteger(), nullable=False),
        sa.Column("starts_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("total_quantity", sa.Integer(), nullable=False),
        sa.Column("claimed", sa.Integer(), nullable=False),
        sa.Column("per_customer_limit", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("scope_ids", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_templates")),
    )
    op.create_table(
        "wallet_coupons",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("template_id", sa.String(36), sa.ForeignKey("coupon_templates.id",
                                                               name=op.f("fk_wallet_coupons_template_id_coupon_templates")),
                  nullable=False),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("order_id", sa.String(36), nullable=True),
        sa.Column("claimed_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_coupons")),
    )
    op.create_index("ix_wallet_coupons_customer_id_template_id", "wallet_coupons", ["customer_id", "template_id"])
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("starts_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("tiers", sa.JSON(), nullable=True),
        sa.Column("sku_id", sa.String(36), nullable=True),
        sa.Column("price", sa.BigInteger(), nullable=True),
        sa.Column("per_customer_limit", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_index("ix_campaigns_kind_sku_id", "campaigns", ["kind", "sku_id"])
    op.create_table(
        "flash_purchases",
        sa.Column("campaign_id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "customer_id", name=op.f("pk_flash_purchases")),
    )


def downgrade() -> None:
    for table in ("flash_purchases", "campaigns", "wallet_coupons", "coupon_templates", "cart_items",
                  "product_categories", "memberships"):
        op.drop_table(table)
    for name in ("campaign_id", "paid", "points", "discount"):
        op.drop_column("order_lines", name)
    for name in (*MONEY, "coupon_id", "stock_reserved", "points_held"):
        op.drop_column("orders", name)
