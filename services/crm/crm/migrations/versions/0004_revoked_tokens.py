"""revoked_tokens: access tokens (jti) and logins (sid) revoked before they expire

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

from mall_shared.db import BigId, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revoked_tokens",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("token_id", sa.String(36), nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_revoked_tokens")),
        sa.UniqueConstraint("token_id", name=op.f("uq_revoked_tokens_token_id")),
    )
    op.create_index(op.f("ix_revoked_tokens_expires_at"), "revoked_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_revoked_tokens_expires_at"), table_name="revoked_tokens")
    op.drop_table("revoked_tokens")
