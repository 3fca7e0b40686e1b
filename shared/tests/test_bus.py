"""The event bus on real brokers: RabbitMQ (a fresh vhost) and the embedded filesystem
transport must behave alike — outbox relay, inbox dedup, retries, dead letters."""
import json
import threading
import uuid

import pytest
from kombu import Connection, Queue
from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.exc import OperationalError

from mall_shared.config import Settings, broker_options
from mall_shared.consumer import Worker
from mall_shared.db import Database, bus_tables
from mall_shared.dlq import main as mall_dlq_main
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


def mall_dlq(*argv: str) -> None:
    mall_dlq_main(list(argv))


def dead_letters(settings) -> list:
    with Connection(settings.broker_url, transport_options=settings.broker_options) as conn:
        queue = Queue("probe.events.dead", durable=True)(conn.default_channel)
        messages = []
        while (m := queue.get(no_ack=True)) is not None:
            messages.append(m)
        return messages


def transient() -> OperationalError:
    return OperationalError("UPDATE skus", {}, ConnectionError("server closed the connection unexpectedly"))


def test_a_permanent_failure_is_dead_lettered_at_once(database, settings, running):
    order_id = str(uuid.uuid4())
    attempts = []

    def failing(event, s):
        attempts.append(event.order_id)
        raise KeyError("boom")

    dead_letters(settings)  # empty it
    running({"OrderCancelled": failing})
    with database.transaction() as s:
        emit(s, OrderCancelled(order_id=order_id, customer_id="c", total=1, reason="x"))
    dead = eventually(lambda: dead_letters(settings))
    assert attempts == [order_id]  # no retry: it could never succeed
    assert json.loads(dead[0].body)["data"]["order_id"] == order_id
    assert "permanent" in dead[0].headers["x-dead-reason"] and "boom" in dead[0].headers["x-dead-reason"]
    assert dead[0].headers["x-original-queue"] == "probe.events"


def test_a_transient_failure_is_retried_later_without_holding_up_the_queue(database, settings, running):
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    handled = []

    def flaky(event, s):
        handled.append(event.order_id)
        if event.order_id == first and handled.count(first) <= 2:
            raise transient()  # the database restarting, say: twice, then it is back
        s.execute(effects.insert().values(order_id=event.order_id, kind="cancelled"))

    running({"OrderCancelled": flaky})
    for order_id in (first, second):
        with database.transaction() as s:
            emit(s, OrderCancelled(order_id=order_id, customer_id="c", total=1, reason="x"))
    eventually(lambda: count(database, first) == 1)
    assert handled.count(first) == 3 and count(database, second) == 1
    assert handled.index(second) < len(handled) - 1  # handled while the first one waited


def test_a_transient_failure_that_outlasts_every_retry_is_dead_lettered(database, settings, running):
    order_id = str(uuid.uuid4())
    attempts = []

    def down(event, s):
        attempts.append(event.order_id)
        raise transient()

    dead_letters(settings)
    running({"OrderCancelled": down})
    with database.transaction() as s:
        emit(s, OrderCancelled(order_id=order_id, customer_id="c", total=1, reason="x"))
    dead = eventually(lambda: dead_letters(settings))
    assert attempts == [order_id] * 3  # one try and a retry after each of the two delays
    assert dead[0].headers["x-retry-count"] == 2 and "server closed" in dead[0].headers["x-dead-reason"]


def test_mall_dlq_lists_shows_replays_and_purges_dead_letters(database, settings, running, monkeypatch, capsys):
    monkeypatch.setenv("MALL_BROKER_URL", settings.broker_url)
    monkeypatch.setenv("MALL_RETRY_DELAYS", "0.05")
    broken, fixed = {"now": True}, []

    def handler(event, s):
        if broken["now"]:
            raise ValueError("a bug")
        fixed.append(event.order_id)

    dead_letters(settings)
    running({"OrderCancelled": handler})
    ids = []
    for _ in range(2):
        with database.transaction() as s:
            ids.append(emit(s, OrderCancelled(order_id=str(uuid.uuid4()), customer_id="c", total=1, reason="x"))["id"])

    def listed():
        mall_dlq("list", "probe")
        return capsys.readouterr().out

    eventually(lambda: "2 dead letter(s)" in listed())
    mall_dlq("show", "probe", ids[0])
    assert json.loads(capsys.readouterr().out)["body"]["id"] == ids[0]
    broken["now"] = False  # the bug is fixed and deployed: replay one, purge the other
    mall_dlq("replay", "probe", ids[0])
    eventually(lambda: len(fixed) == 1)
    mall_dlq("purge", "probe", "--all")
    assert "1 dead letter(s) purged" in capsys.readouterr().out
    assert "0 dead letter(s)" in listed() and len(fixed) == 1
    with pytest.raises(SystemExit):
        mall_dlq("replay", "probe", "no-such-id")


def test_a_malformed_message_goes_straight_to_the_dead_letter_queue(database, settings, running):
    running({"OrderPlaced": recorded(None, "placed")})  # declares the dead-letter queue
    dead_letters(settings)  # what earlier tests left there
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
        worker.retry.declare(conn.default_channel)
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
