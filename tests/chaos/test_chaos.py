"""Chaos on real processes: during a burst of orders for a scarce SKU, with two catalog workers
competing, kill -9 an order worker, a catalog worker and a web process, restart RabbitMQ and
then PostgreSQL (both private servers), and finally deliver every event that was published a
second time. Then count: every accepted order decided, stock conserved (zero oversell), no
ledger row twice, no dead letters."""
import json
import os
import signal
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pika
import pytest
from backends import PrivatePostgres, PrivateRabbit
from sqlalchemy import create_engine, text

from harness import running
from mall_shared.config import SERVICES
from mall_shared.testing import eventually
from scenarios import new_customer, new_product

UNITS, ORDERS, CUSTOMERS = 30, 120, 8


@pytest.fixture(scope="module")
def chaos():
    folder = Path(tempfile.mkdtemp(prefix="mall-chaos-"))
    folder.chmod(0o755)
    pg, rabbit = PrivatePostgres(folder / "pg").start(), PrivateRabbit(folder / "rabbit").start()
    env = {"MALL_RETRY_DELAYS": "0.5,1,2,4,8,15"}  # a restarted database is retried within seconds
    try:
        with running(folder / "platform", workers={"catalog": 2}, extra_env=env, broker_url=rabbit.url,
                     database_admin_url=pg.url) as platform:
            yield platform, pg, rabbit
    finally:
        for stop in (pg.stop, rabbit.stop):
            try:
                stop()
            except Exception:  # already down: nothing to stop
                pass


def web_worker_pids(master_pid: int) -> list[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def rows(platform, service: str, sql: str) -> list:
    engine = create_engine(platform.databases[service])
    with engine.connect() as conn:
        result = conn.execute(text(sql)).all()
    engine.dispose()
    return result


def republish_everything(platform) -> int:
    """Every event any service published, delivered again (as a relay crash would)."""
    envelopes = [json.loads(r[0]) for s in SERVICES for r in rows(platform, s, "SELECT envelope FROM outbox")]
    with pika.BlockingConnection(pika.URLParameters(platform.broker_url)) as conn:
        channel = conn.channel()
        channel.confirm_delivery()
        for env in envelopes:
            channel.basic_publish("mall.events", env["type"], json.dumps(env).encode(), pika.BasicProperties(
                content_type="application/cloudevents+json", content_encoding="utf-8", delivery_mode=2))
    return len(envelopes)


def queues_idle_and_no_dead_letters(platform) -> dict:
    with pika.BlockingConnection(pika.URLParameters(platform.broker_url)) as conn:
        channel = conn.channel()
        counts = {}
        for s in SERVICES:
            for name in (f"{s}.events", f"{s}.events.dead"):
                counts[name] = channel.queue_declare(name, passive=True).method.message_count
    return counts


def test_kill_and_restart_everything_during_a_burst_and_lose_nothing(chaos, demo):
    platform, pg, rabbit = chaos
    admin = demo.login(platform.gateway, *platform.admin)
    sku = new_product(platform, demo, admin, stock=UNITS)["skus"][0]
    people = [new_customer(platform, demo) for _ in range(CUSTOMERS)]
    body = {"items": [{"sku_id": sku["id"], "quantity": 1}], "shipping_address": demo.ADDRESS,
            "delivery_method_id": "standard"}

    def place(i: int):
        customer = people[i % CUSTOMERS]
        try:  # during the restarts an order may be refused (503): it was then never accepted
            return customer, customer.post("/api/orders", body, expect=(201, 409, 503, 504)).get("id")
        except Exception:
            return customer, None

    with ThreadPoolExecutor(6) as pool:
        placing = [pool.submit(place, i) for i in range(ORDERS)]
        eventually(lambda: sum(f.done() for f in placing) >= 20, timeout=60)
        for name in ("order-worker-0", "catalog-worker-0"):
            os.kill(platform.procs[name].pid, signal.SIGKILL)
        os.kill(web_worker_pids(platform.procs["catalog"].pid)[0], signal.SIGKILL)  # gunicorn starts another
        rabbit.restart()
        eventually(lambda: sum(f.done() for f in placing) >= 60, timeout=120)
        pg.restart()
        accepted = [(c, order_id) for c, order_id in (f.result() for f in placing) if order_id]
    for name in ("order-worker-0", "catalog-worker-0"):
        platform.procs[name].wait()
    platform.add_worker("order")
    platform.add_worker("catalog")

    def decided():
        statuses = [c.get(f"/api/orders/{order_id}")["status"] for c, order_id in accepted]
        return "PENDING" not in statuses and statuses

    statuses = eventually(decided, timeout=180, interval=1)
    assert republish_everything(platform) > len(accepted)
    eventually(lambda: not any(queues_idle_and_no_dead_letters(platform).values()), timeout=120, interval=1)

    reserved = statuses.count("AWAITING_PAYMENT")
    after = admin.get(f"/api/catalog/skus?ids={sku['id']}")[0]
    movements = rows(platform, "catalog", f"SELECT order_id, kind, count(*) FROM stock_movements "
                                          f"WHERE sku_id = '{sku['id']}' AND order_id IS NOT NULL GROUP BY 1, 2")
    print(f"chaos: {len(accepted)} accepted of {ORDERS}, {reserved} reserved, {statuses.count('CANCELLED')} "
          f"cancelled, stock {after['stock']} reserved {after['reserved']} on hand {after['on_hand']}")
    assert reserved == min(UNITS, len(accepted)) and set(statuses) <= {"AWAITING_PAYMENT", "CANCELLED"}
    assert (after["stock"], after["reserved"], after["on_hand"]) == (UNITS - reserved, reserved, UNITS)
    assert all(n == 1 for _, _, n in movements)  # no order reserved (or released) twice
    assert sum(1 for _, kind, _ in movements if kind == "reserved") == reserved
