"""The event archive on both backends: every published event kept in publish order (a RabbitMQ
stream, the embedded table), read from the start or from a time, and replayed through a
service's handlers once per event (mall-replay)."""
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import Column, MetaData, String, Table, select

from mall_shared import archive
from mall_shared.config import Settings, broker_options
from mall_shared.db import Database, bus_tables, utcnow
from mall_shared.events import Line, OrderCancelled, OrderPlaced
from mall_shared.outbox import Relay, emit
from mall_shared.replay import replay
from mall_shared.testing import create_database, create_vhost, delete_vhost, drop_database, eventually

metadata = MetaData()
bus_tables(metadata)
seen = Table("seen", metadata, Column("order_id", String(36), primary_key=True))


@pytest.fixture
def database():
    url = create_database("test_archive")
    db = Database("probe", url, metadata)
    metadata.create_all(db.engine)
    yield db
    db.dispose()
    drop_database(url)


@pytest.fixture(params=["amqp", "filesystem"])
def settings(request, tmp_path):
    if request.param == "amqp":
        url = create_vhost("test_archive")
        yield Settings(service="probe", database_url="", broker_url=url, broker_options=broker_options(url, None))
        delete_vhost(url)
    else:
        url = f"filesystem://{tmp_path / 'bus'}"
        yield Settings(service="probe", database_url="", broker_url=url, broker_options=broker_options(url, None))


def publish_all(db, settings, events):
    with db.transaction() as s:
        for evt in events:
            emit(s, evt)
    relay, stop = Relay(db, settings), threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    def all_sent():
        with db.engine.connect() as conn:
            return not conn.execute(select(db.outbox.c.id).where(db.outbox.c.published_at.is_(None))).first()

    try:
        eventually(all_sent)
    finally:
        stop.set()
        thread.join(timeout=5)


def test_the_archive_keeps_every_published_event_in_order_and_reads_from_a_time(database, settings):
    orders = [str(uuid.uuid4()) for _ in range(30)]
    publish_all(database, settings, [OrderPlaced(order_id=o, customer_id="c", lines=[Line("s", 1, 100)], total=100)
                                     for o in orders])
    middle = utcnow()
    later = [str(uuid.uuid4()) for _ in range(5)]
    publish_all(database, settings, [OrderCancelled(order_id=o, customer_id="c", total=100, reason="test")
                                     for o in later])

    everything = list(archive.read(settings, idle=0.5))
    assert [e["data"]["order_id"] for e in everything] == orders + later
    assert len({e["id"] for e in everything}) == 35
    assert [e["data"]["order_id"] for e in archive.read(settings, since=middle, idle=0.5)] == later
    assert list(archive.read(settings, since=middle + timedelta(hours=1), idle=0.5)) == []


def test_a_replay_feeds_the_handlers_once_per_event_however_often_it_runs(database, settings):
    orders = [str(uuid.uuid4()) for _ in range(10)]
    publish_all(database, settings, [OrderPlaced(order_id=o, customer_id="c", lines=[Line("s", 1, 100)], total=100)
                                     for o in orders] + [OrderCancelled(order_id=orders[0], customer_id="c",
                                                                        total=100, reason="test")])

    def on_placed(event, session):
        session.execute(seen.insert().values(order_id=event.order_id))  # a second insert would fail

    first = replay(database, settings, {"OrderPlaced": on_placed}, idle=0.5)
    again = replay(database, settings, {"OrderPlaced": on_placed}, idle=0.5)
    assert (first.read, first.handled, first.skipped, first.failed) == (11, 10, 1, 0)
    assert (again.handled, again.duplicates, again.failed) == (0, 10, 0)
    with database.engine.connect() as conn:
        assert sorted(conn.execute(select(seen.c.order_id)).scalars()) == sorted(orders)
