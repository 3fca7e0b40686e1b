"""Database access: one engine and session factory per service, plus the bus tables.

Every service declares its own `Base` (its own metadata) and calls `bus_tables(Base.metadata)`
so that its `outbox` and `inbox` tables live in its own database, beside its business tables.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from . import tracing

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """A UTC moment as events and APIs write it: ISO 8601 ending in Z."""
    return moment.isoformat().replace("+00:00", "Z")


def new_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use mall_shared.db.utcnow()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


BigId = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER only


def bus_tables(metadata: MetaData) -> None:
    """Declare the transactional outbox and the consumer inbox in a service's metadata."""
    Table(
        "outbox",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("type", String(80), nullable=False),
        Column("envelope", Text, nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
        Column("published_at", UTCDateTime, nullable=True, index=True),
    )
    Table(
        "inbox",
        metadata,
        Column("event_id", String(36), primary_key=True),
        Column("type", String(80), nullable=False),
        Column("handled_at", UTCDateTime, nullable=False),
    )


def conflict_insert(bind: Session | Engine, table):
    """An INSERT into `table` that can say ON CONFLICT … (DO NOTHING, DO UPDATE) on the backend
    behind `bind`, a session or an engine: PostgreSQL's, or SQLite's on the embedded default."""
    dialect = (bind.get_bind() if isinstance(bind, Session) else bind).dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def upsert_newer(session: Session, table: Table, values: dict, version: str = "version") -> None:
    """Keep one row of a read model at the newest state an event (or a lookup) reported: insert
    it, or overwrite it only with a greater `version`. One statement, so two workers applying
    two versions at once end with the greater; a late or repeated event changes nothing."""
    stmt = conflict_insert(session, table).values(**values)
    keys = [c.name for c in table.primary_key]
    session.execute(stmt.on_conflict_do_update(
        index_elements=keys, set_={k: stmt.excluded[k] for k in values if k not in keys},
        where=table.c[version] < stmt.excluded[version]))


def locked_row(session: Session, model, **values):
    """The row of `model` with these values' primary key, inserted with `values` if missing, and
    locked until the transaction ends: one statement (an upsert that changes nothing still locks
    the row it meets), so two workers creating it at once both get the one row, in turn."""
    stmt = conflict_insert(session, model).values(**values)
    keys = [c.name for c in model.__table__.primary_key]
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_={k: stmt.excluded[k] for k in keys})
    return session.scalars(stmt.returning(model), execution_options={"populate_existing": True}).one()


def lock(session: Session, *key: str) -> None:
    """Take turns on `key` (e.g. `lock(session, "order", order_id)`) until the transaction ends, even
    about something no row stands for yet: two workers handling two events of one order at once
    must not both decide from what the other has not committed. PostgreSQL: an advisory
    transaction lock (two keys sharing a hash only wait for each other). SQLite: nothing to do,
    every transaction there begins IMMEDIATE and so already waits for the writer before it."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": ":".join(key)})


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # Let SQLAlchemy's "begin" event open the transaction, as IMMEDIATE: the embedded
            # default has several processes writing one file, and a deferred transaction that
            # later upgrades to a write lock fails with "database is locked" instead of waiting.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # Small pools: every web process, worker and replica holds its own, and PostgreSQL's
    # connections are few (100 by default). MALL_DB_POOL_SIZE raises it where there is room.
    size = int(os.environ.get("MALL_DB_POOL_SIZE") or 5)
    return create_engine(url, pool_pre_ping=True, pool_size=size, max_overflow=size)


class Database:
    """A service's engine and sessions. Built by `create_app()` / `worker.main()`, never at import."""

    def __init__(self, service: str, url: str, metadata: MetaData):
        self.service = service
        self.url = url
        self.metadata = metadata
        self.engine = make_engine(url)
        tracing.instrument_engine(self.engine)
        self.outbox = metadata.tables["outbox"]
        self.inbox = metadata.tables["inbox"]
        self.Session = sessionmaker(
            self.engine, expire_on_commit=False, info={"service": service, "outbox": self.outbox, "inbox": self.inbox}
        )
        from .outbox import wake_relay_on_commit  # outbox builds on this module

        wake_relay_on_commit(self)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self.Session() as session, session.begin():
            yield session

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def dispose(self) -> None:
        self.engine.dispose()
