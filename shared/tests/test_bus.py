"""The event bus on real brokers: RabbitMQ (a fresh vhost) and the embedded filesystem
transport must behave alike — outbox relay, inbox dedup, retries, dead letters."""
import json
import threading
import uuid

import pytest
from kombu import Connection, Queue
from sqlalchemy import Column, Integer, MetaData, String, Table, select

from mall_shared.config import Settings, broker_options
from mall_shared.consumer import Worker
from mall_shared.db import Database, bus_tables
from mall_shared.events import CONTENT_TYPE, Line, OrderCancelled, OrderPlaced, envelope
from mall_shared.outbox import Relay, connection, emit, exchange
from mall_shared.testing import create_database, create_vhost, delete_vhost, drop_database, eventually

metadata = MetaData()
bus_tables(metadata)
effects = Table("effects", metadata, Column("id", Integer, primary_key=True, autoincrement=True),
                Column("order_id", String(36)), Column("kind", String(20)))


@pytest.fixture(scope="module")
def database():
    url = create_database("test_bus")
    db = Database("probe", url, metadata)
    metadata.create_all(db.engine)
    yield db
    db.dispose()
    drop_database(url)


@pytest.fixture(params=["amqp", "filesystem"], scope="module")
def settings(request, tmp_path_factory):
    if request.param == "amqp":
        url = create_vhost("test_bus")
        yield Settings(service="probe", database_url="", broker_url=url, broker_options=broker_options(url, None),
                       retry_delays=(0.05, 0.05))
        delete_vhost(url)
    else:
        url = f"filesystem://{tmp_path_factory.mktemp('bus')}"
        yield Settings(service="probe", database_url="", broker_url=url,
                       broker_options=broker_options(url, None), retry_delays=(0.05, 0.05))


def recorded(session, kind):
    def handler(event, s):
        s.execute(effects.insert().values(order_id=event.order_id, kind=kind))
    return handler


def count(db, order_id):
    with db.engine.connect() as conn:
        return len(conn.execute(select(effects.c.id).where(effects.c.order_id == order_id)).all())


@pytest.fixture
def running(database, settings):
    """A worker (consumer) and a relay of the 'probe' service, in threads, for one test."""
    stops = []

    def start(handlers):
        worker = Worker(database, settings, handlers)
        stop = threading.Event()
        threads = [threading.Thread(target=worker.run, daemon=True),
                   threading.Thread(target=Relay(database, settings).run, args=(stop,), daemon=True)]
        for t in threads:
            t.start()
        stops.append((worker, stop, threads))
        eventually(lambda: worker.producer is not None)  # queue declared and bound
        return worker

    yield start
    for worker, stop, threads in stops:
        worker.should_stop = True
        stop.set()
        for t in threads:
            t.join(timeout=5)


def placed(order_id):
    return OrderPlaced(order_id=order_id, customer_id="c", lines=[Line("s", 1, 100)], total=100)


def test_an_emitted_event_is_relayed_and_handled_once(database, running):
    order_id = str(uuid.uuid4())
    running({"OrderPlaced": recorded(None, "placed")})
    with database.transaction() as s:
        emit(s, placed(order_id))
    eventually(lambda: count(database, order_id) == 1)
    with database.engine.connect() as conn:
        assert conn.execute(select(database.outbox.c.published_at).where(
            database.outbox.c.type == "OrderPlaced")).scalars().all()[-1] is not None


def test_an_event_rolled_back_with_its_transaction_is_never_published(database, running):
    order_id = str(uuid.uuid4())
    running({"OrderPlaced": recorded(None, "placed")})
    with pytest.raises(RuntimeError), database.transaction() as s:
        emit(s, placed(order_id))
        raise RuntimeError("the state change failed")
    other = str(uuid.uuid4())
    with database.transaction() as s:
        emit(s, placed(other))
    eventually(lambda: count(database, other) == 1)
    assert count(database, order_id) == 0


def test_a_redelivered_event_changes_nothing(database, settings, running):
    order_id = str(uuid.uuid4())
    worker = running({"OrderPlaced": recorded(None, "placed")})
    with database.transaction() as s:
        env = emit(s, placed(order_id))
    eventually(lambda: count(database, order_id) == 1)
    with Connection(settings.broker_url, transport_options=settings.broker_options) as conn:
        conn.Producer().publish(json.dumps(env).encode(), exchange="mall.events", routing_key="OrderPlaced",
                                content_type=CONTENT_TYPE, content_encoding="utf-8")
    marker = str(uuid.uuid4())
    with database.transaction() as s:
        emit(s, placed(marker))
    eventually(lambda: count(database, marker) == 1)  # the duplicate was behind it in the queue
    assert count(database, order_id) == 1
    assert worker.queue.name == "probe.events"


def dead_letters(settings) -> list:
    with Connection(settings.broker_url, transport_options=settings.broker_options) as conn:
        queue = Queue("probe.events.dead", durable=True)(conn.default_channel)
        messages = []
        while (m := queue.get(no_ack=True)) is not None:
            messages.append(m)
        return messages


def test_a_failing_handler_is_retried_then_dead_lettered(database, settings, running):
    order_id = str(uuid.uuid4())
    attempts = []

    def failing(event, s):
        attempts.append(event.order_id)
        raise RuntimeError("boom")

    dead_letters(settings)  # empty it
    running({"OrderCancelled": failing})
    with database.transaction() as s:
        emit(s, OrderCancelled(order_id=order_id, customer_id="c", total=1, reason="x"))
    dead = eventually(lambda: dead_letters(settings))
    assert len(attempts) == 3  # one try and two retries (retry_delays has two entries)
    assert json.loads(dead[0].body)["data"]["order_id"] == order_id
    assert "boom" in dead[0].headers["x-dead-reason"]


def test_a_malformed_message_goes_straight_to_the_dead_letter_queue(database, settings, running):
    dead_letters(settings)
    running({"OrderPlaced": recorded(None, "placed")})
    with Connection(settings.broker_url, transport_options=settings.broker_options) as conn:
        conn.Producer().publish(b'{"type": "OrderPlaced", "data": {}}', exchange="mall.events",
                                routing_key="OrderPlaced", content_type=CONTENT_TYPE, content_encoding="utf-8")
    dead = eventually(lambda: dead_letters(settings))
    assert "invalid event" in dead[0].headers["x-dead-reason"]


def test_a_backlog_is_handled_in_batches_and_one_bad_event_spoils_none_of_the_others(
        database, settings, running, monkeypatch):
    """Events waiting in the queue are handled several to a transaction; when one of them fails,
    that transaction is rolled back and each is handled on its own, so the good ones take effect
    once and the bad one alone is retried and dead-lettered."""
    import mall_shared.consumer as consumer
    batches = []
    real = consumer.handle_batch
    monkeypatch.setattr(consumer, "handle_batch", lambda db, h, batch: batches.append(len(batch)) or real(db, h, batch))
    good = [str(uuid.uuid4()) for _ in range(30)]
    bad = good[17]

    def sometimes(event, s):
        s.execute(effects.insert().values(order_id=event.order_id, kind="placed"))
        if event.order_id == bad:
            raise RuntimeError("boom")

    with connection(settings) as conn:
        # The events wait in the queue (declared and bound as the worker does) before it starts.
        exchange(conn.default_channel).declare()
        worker = Worker(database, settings, {"OrderPlaced": sometimes})
        worker.queue(conn.default_channel).declare()
        worker.dead_queue(conn.default_channel).declare()
        dead_letters(settings)
        producer = conn.Producer()
        for order_id in good:
            producer.publish(json.dumps(envelope(placed(order_id), "probe")).encode(), exchange="mall.events",
                             routing_key="OrderPlaced", content_type=CONTENT_TYPE, content_encoding="utf-8")
    running({"OrderPlaced": sometimes})
    dead = eventually(lambda: dead_letters(settings))
    assert json.loads(dead[0].body)["data"]["order_id"] == bad
    eventually(lambda: all(count(database, o) == 1 for o in good if o != bad))
    assert count(database, bad) == 0
    assert max(batches) > 1
