"""search indexes: listing order, SKU price per product, trigram keyword search on PostgreSQL

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The storefront's default page: listed products, newest first.
    op.create_index("ix_products_status_created_at", "products", ["status", "created_at"])
    op.create_index("ix_skus_product_id_price", "skus", ["product_id", "price"])
    # ILIKE '%word%' cannot use a b-tree; on PostgreSQL a trigram GIN index keeps keyword search
    # flat as the catalog grows (pg_trgm is a trusted extension: the database owner may create it).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index("ix_products_name_trgm", "products", ["name"], postgresql_using="gin",
                    postgresql_ops={"name": "gin_trgm_ops"})


def downgrade() -> None:
    op.drop_index("ix_products_name_trgm", "products")
    op.drop_index("ix_skus_product_id_price", "skus")
    op.drop_index("ix_products_status_created_at", "products")
