"""Pruning the outbox and inbox on PostgreSQL: old sent and handled rows go, unsent ones never,
and dedup still holds for any redelivery within the window."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import MetaData, func, insert, select

from mall_shared.consumer import deliver
from mall_shared.db import Database, bus_tables, utcnow
from mall_shared.events import Line, OrderPlaced, envelope
from mall_shared.prune import prune_bus
from mall_shared.testing import create_database, drop_database

metadata = MetaData()
bus_tables(metadata)


@pytest.fixture(scope="module")
def db():
    url = create_database("test_prune")
    db = Database("probe", url, metadata)
    metadata.create_all(db.engine)
    yield db
    db.dispose()
    drop_database(url)


def outbox_row(db, age: timedelta | None, published: bool) -> str:
    event_id = str(uuid.uuid4())
    at = utcnow() - (age or timedelta())
    with db.transaction() as s:
        s.execute(insert(db.outbox).values(event_id=event_id, type="OrderPlaced", envelope="{}", created_at=at,
                                           published_at=at if published else None))
    return event_id


def ids(db, table, key) -> set[str]:
    with db.engine.connect() as conn:
        return set(conn.execute(select(key)).scalars())


def test_published_rows_older_than_the_window_go_and_unpublished_ones_never_do(db):
    old_sent = outbox_row(db, timedelta(days=8), published=True)
    old_unsent = outbox_row(db, timedelta(days=30), published=False)
    recent = outbox_row(db, timedelta(hours=1), published=True)
    pruned, _ = prune_bus(db, timedelta(days=7))
    left = ids(db, db.outbox, db.outbox.c.event_id)
    assert pruned >= 1 and old_sent not in left and {old_unsent, recent} <= left


def test_handled_events_are_forgotten_after_the_window_and_deduplicated_within_it(db):
    handled = []
    handlers = {"OrderPlaced": lambda evt, s: handled.append(evt.order_id)}
    old, recent = (envelope(OrderPlaced(order_id=str(uuid.uuid4()), customer_id="c", lines=[Line("s", 1, 1)],
                                        total=1), "order") for _ in range(2))
    assert deliver(db, handlers, old) and deliver(db, handlers, recent)
    with db.transaction() as s:
        s.execute(db.inbox.update().where(db.inbox.c.event_id == old["id"])
                  .values(handled_at=utcnow() - timedelta(days=8)))
    _, pruned = prune_bus(db, timedelta(days=7))
    assert pruned >= 1
    assert ids(db, db.inbox, db.inbox.c.event_id) >= {recent["id"]} and old["id"] not in ids(
        db, db.inbox, db.inbox.c.event_id)
    assert deliver(db, handlers, recent) is False  # within the window: still a duplicate
    assert handled.count(recent["data"]["order_id"]) == 1


def test_pruning_works_through_more_rows_than_one_batch(db, monkeypatch):
    monkeypatch.setattr("mall_shared.prune.BATCH", 3)
    for _ in range(7):
        outbox_row(db, timedelta(days=9), published=True)
    prune_bus(db, timedelta(days=7))
    with db.engine.connect() as conn:
        old = conn.scalar(select(func.count()).select_from(db.outbox).where(
            db.outbox.c.published_at < utcnow() - timedelta(days=7)))
    assert old == 0
