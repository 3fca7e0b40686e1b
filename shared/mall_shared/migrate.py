"""Alembic, the same way for every service: each service keeps `<service>/migrations/` with an
`env.py` that calls `run_env(Base.metadata, "<service>")`; `mall-migrate <service> ...` upgrades."""
from __future__ import annotations

import argparse
import zlib

from alembic import command, context
from alembic.config import Config
from sqlalchemy import text

from .config import SERVICES, Settings
from .db import make_engine


def run_env(metadata, service: str) -> None:
    """Body of a service's migrations/env.py (online mode only: migrations need a database)."""
    config = context.config
    connection = config.attributes.get("connection")
    if connection is None:
        engine = make_engine(config.attributes.get("url") or Settings.load(service).database_url)
        with engine.connect() as connection:
            _run(connection, metadata)
        engine.dispose()
    else:
        _run(connection, metadata)


def _run(connection, metadata) -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def upgrade(service: str, url: str | None = None, revision: str = "head") -> None:
    url = url or Settings.load(service).database_url
    cfg = Config()
    cfg.set_main_option("script_location", f"{service}:migrations")
    engine = make_engine(url)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # Several containers of one service may start at once: one migrates, the others wait.
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": zlib.crc32(service.encode())})
            conn.commit()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description="Upgrade services' databases to the newest schema.")
    parser.add_argument("services", nargs="*", help=f"any of {', '.join(SERVICES)} (default: all)")
    args = parser.parse_args()
    unknown = set(args.services) - set(SERVICES)
    if unknown:
        parser.error(f"unknown service(s): {', '.join(sorted(unknown))}")
    for service in args.services or SERVICES:
        upgrade(service)
        print(f"{service}: database at head")


# ---- steps every service's migrations share ----------------------------------------------------
def create_bus_tables() -> None:
    """Alembic step: the outbox and inbox tables of mall_shared.db.bus_tables (a new service's
    first migration calls this instead of copying them)."""
    import sqlalchemy as sa
    from alembic import op

    from .db import BigId, UTCDateTime

    op.create_table(
        "inbox",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=80), nullable=False),
        sa.Column("handled_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_inbox")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=80), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_published_at"), ["published_at"], unique=False)


def drop_bus_tables() -> None:
    """Alembic step: undo create_bus_tables()."""
    from alembic import op

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_published_at"))
    op.drop_table("outbox")
    op.drop_table("inbox")


def change_column_types(columns: dict[str, list[str]], old, new) -> None:
    """Alembic step: every `table: [column, ...]` from type `old` to `new` (e.g. money from
    Integer to BigInteger), in batch mode so SQLite's copy-and-move works too."""
    from alembic import op

    for table, names in columns.items():
        with op.batch_alter_table(table) as batch:
            for name in names:
                batch.alter_column(name, type_=new(), existing_type=old())
