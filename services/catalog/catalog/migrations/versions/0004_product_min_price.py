"""products.min_price (filter and sort by price through an index), trigram index on brand

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("min_price", sa.Integer(), nullable=True))
    op.execute("UPDATE products SET min_price = (SELECT min(price) FROM skus WHERE skus.product_id = products.id)")
    op.create_index("ix_products_status_min_price", "products", ["status", "min_price"])
    op.create_index("ix_products_brand_trgm", "products", ["brand"], postgresql_using="gin",
                    postgresql_ops={"brand": "gin_trgm_ops"})


def downgrade() -> None:
    op.drop_index("ix_products_brand_trgm", "products")
    op.drop_index("ix_products_status_min_price", "products")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("min_price")
