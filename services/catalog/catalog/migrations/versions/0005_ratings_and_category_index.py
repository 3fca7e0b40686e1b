"""Rating summary on products (from crm's review events), returned stock, and an index that
serves a category tree's count and price sort

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

from mall_shared.db import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("rating_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("rating_total", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_products_status_category_min_price", "products", ["status", "category_id", "min_price"])
    op.create_table(
        "review_ratings",
        sa.Column("review_id", sa.String(36), nullable=False),
        sa.Column("product_id", sa.String(36), nullable=False),
        sa.Column("sku_id", sa.String(36), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_review_ratings_product_id_products")),
        sa.PrimaryKeyConstraint("review_id", name=op.f("pk_review_ratings")),
    )
    op.create_index("ix_review_ratings_product_id", "review_ratings", ["product_id"])


def downgrade() -> None:
    op.drop_index("ix_review_ratings_product_id", "review_ratings")
    op.drop_table("review_ratings")
    op.drop_index("ix_products_status_category_min_price", "products")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("rating_total")
        batch.drop_column("rating_count")
