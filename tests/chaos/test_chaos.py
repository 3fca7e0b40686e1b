"""Chaos on real processes. First, during a burst of orders for a scarce SKU, with two catalog
workers competing: kill -9 an order worker, a catalog worker and a web process, restart RabbitMQ
and then PostgreSQL (both private servers). Then, while the reserved orders are paid, one in
three cancelled once paid (a refund) and the rest processed, shipped and signed for: kill -9 the
payment worker parked between the provider's refund and its commit, a crm worker and a logistics
worker. Finally deliver every event that was published a second time. Then count: every accepted
order decided, stock conserved (zero oversell), no ledger row twice, points awarded once per
completed order and nothing else, each refund once (the provider moved the money once per
out_request_no), no dead letters."""
import json
import os
import signal
import tempfile
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pika
import pytest
from backends import PrivatePostgres, PrivateRabbit
from sqlalchemy import create_engine, text

from crm.models import points_for
from harness import running
from mall_shared.config import SERVICES
from mall_shared.testing import eventually
from scenarios import new_customer, new_product

UNITS, ORDERS, CUSTOMERS = 30, 120, 8
WAIT = 120  # seconds a step of an order may take while workers are killed and restarted


@pytest.fixture(scope="module")
def chaos():
    folder = Path(tempfile.mkdtemp(prefix="mall-chaos-"))
    folder.chmod(0o755)
    pg, rabbit = PrivatePostgres(folder / "pg").start(), PrivateRabbit(folder / "rabbit").start()
    env = {"MALL_RETRY_DELAYS": "0.5,1,2,4,8,15",  # a restarted database is retried within seconds
           "PAYMENT_TEST_PARK_AFTER_REFUND": str(folder / "parked-refund")}  # see payment/refunds.py
    try:
        with running(folder / "platform", workers={"catalog": 2}, extra_env=env, broker_url=rabbit.url,
                     database_admin_url=pg.url) as platform:
            yield platform, pg, rabbit, folder / "parked-refund"
    finally:
        for stop in (pg.stop, rabbit.stop):
            try:
                stop()
            except Exception:  # already down: nothing to stop
                pass


def web_worker_pids(master_pid: int) -> list[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def kill(platform, name: str) -> None:
    os.kill(platform.procs[name].pid, signal.SIGKILL)
    platform.procs[name].wait()


def rows(platform, service: str, sql: str) -> list:
    engine = create_engine(platform.databases[service])
    with engine.connect() as conn:
        result = conn.execute(text(sql)).all()
    engine.dispose()
    return result


def published(platform, service: str, event_type: str) -> list[dict]:
    """The data of every `event_type` the service wrote to its outbox."""
    envelopes = (json.loads(r[0]) for r in rows(platform, service, "SELECT envelope FROM outbox"))
    return [env["data"] for env in envelopes if env["type"] == event_type]


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


def messages_left(rabbit) -> dict[str, int]:
    """The queues still holding messages: ready, in a worker's hands, waiting for a retry or dead
    (the archive stream keeps every event by design)."""
    return {name: n for name, n in rabbit.messages().items() if n and name != "mall.archive"}


def place_during_restarts(platform, pg, rabbit, demo, sku: dict, people: list) -> list:
    """ORDERS single-unit orders while an order worker, a catalog worker and a catalog web process
    are killed and RabbitMQ and PostgreSQL restarted; the (customer, order id) of those accepted."""
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
    return accepted


def settle_during_kills(platform, demo, admin, orders: list, parked: Path) -> tuple[list, list]:
    """Pay every order; cancel one in three once paid (refunded), process, ship and sign the rest
    (completed), while the payment worker is killed where it parks after the provider's refund
    and before the commit, and a crm and a logistics worker are killed mid-way; each is restarted."""
    def status(customer, order_id, wanted):
        demo.wait_for(wanted, demo.order_status(customer, order_id, wanted), timeout=WAIT)

    def pay(customer, order_id):
        payment = customer.post("/api/payments", {"order_id": order_id, "method": "alipay"}, expect=201)
        customer.post(f"/api/payments/{payment['id']}/sandbox", {"outcome": "success"})
        status(customer, order_id, "PAID")

    def refund(customer, order_id):
        pay(customer, order_id)
        customer.post(f"/api/orders/{order_id}/cancel", {"reason": "changed my mind"})

    def complete(customer, order_id):
        pay(customer, order_id)
        admin.post(f"/api/orders/{order_id}/process")
        status(customer, order_id, "PROCESSING")
        tracking_number = f"SF{uuid.uuid4().int % 10**13:013d}"
        shipment = demo.wait_for("a shipment", lambda: demo._try_ship(admin, order_id, tracking_number), timeout=WAIT)
        customer.post(f"/api/logistics/shipments/{shipment['id']}/sign")
        status(customer, order_id, "COMPLETED")

    refunded, completed = orders[::3], [o for i, o in enumerate(orders) if i % 3]
    with ThreadPoolExecutor(6) as pool:
        jobs = [pool.submit(refund, *o) for o in refunded] + [pool.submit(complete, *o) for o in completed]
        eventually(lambda: parked.exists() and len(parked.read_text()) == 36, timeout=WAIT)
        kill(platform, "payment-worker-0")  # parked: the provider refunded, nothing committed
        assert rows(platform, "payment", f"SELECT status FROM refunds WHERE id = '{parked.read_text()}'") == [
            ("pending",)]
        platform.add_worker("payment")
        eventually(lambda: sum(j.done() for j in jobs) >= len(jobs) // 3, timeout=WAIT)
        for name in ("crm-worker-0", "logistics-worker-0"):
            kill(platform, name)
            platform.add_worker(name.split("-")[0])
        for job in jobs:
            job.result()
    return refunded, completed


def test_kill_and_restart_everything_during_a_burst_and_lose_nothing(chaos, demo):
    platform, pg, rabbit, parked = chaos
    admin = demo.login(platform.gateway, *platform.admin)
    sku = new_product(platform, demo, admin, stock=UNITS)["skus"][0]
    people = [new_customer(platform, demo) for _ in range(CUSTOMERS)]
    accepted = place_during_restarts(platform, pg, rabbit, demo, sku, people)

    def decided():
        statuses = [c.get(f"/api/orders/{order_id}")["status"] for c, order_id in accepted]
        return "PENDING" not in statuses and statuses

    statuses = eventually(decided, timeout=180, interval=1)
    reserved = [o for o, s in zip(accepted, statuses, strict=True) if s == "AWAITING_PAYMENT"]
    assert len(reserved) == min(UNITS, len(accepted)) and set(statuses) <= {"AWAITING_PAYMENT", "CANCELLED"}

    refunded, completed = settle_during_kills(platform, demo, admin, reserved, parked)
    totals = {order_id: c.get(f"/api/orders/{order_id}")["total"] for c, order_id in reserved}
    eventually(lambda: all(c.get(f"/api/orders/{o}").get("refunded") == totals[o] for c, o in refunded),
               timeout=WAIT, interval=1)
    assert republish_everything(platform) > len(accepted)
    eventually(lambda: not messages_left(rabbit), timeout=120, interval=1)  # and so no dead letters

    # Stock: every unit reserved once, released once by a refunded order, sold once by a completed one.
    after = admin.get(f"/api/catalog/skus?ids={sku['id']}")[0]
    assert (after["stock"], after["reserved"], after["sold"], after["on_hand"]) == (
        UNITS - len(completed), 0, len(completed), UNITS)
    movements = rows(platform, "catalog", f"SELECT order_id, kind, count(*) FROM stock_movements "
                                          f"WHERE sku_id = '{sku['id']}' AND order_id IS NOT NULL GROUP BY 1, 2")
    assert all(n == 1 for _, _, n in movements)  # no order reserved, released or sold twice
    assert Counter(kind for _, kind, _ in movements) == {"reserved": len(reserved), "released": len(refunded),
                                                         "sold": len(completed)}

    # Points: awarded once per completed order, as much as its total earns; nothing for the others.
    ours = {o for _, o in reserved}
    entries = [(o, p) for o, p in rows(platform, "crm", "SELECT order_id, points FROM points_entries") if o in ours]
    expected = {o: points_for(totals[o], 1) for _, o in completed}
    assert sorted(entries) == sorted(expected.items())
    assert sorted((d["order_id"], d["points"]) for d in published(platform, "crm", "PointsAwarded")
                  if d["order_id"] in ours) == sorted(expected.items())
    for customer in people:
        mine = [o for c, o in completed if c is customer]
        assert customer.get("/api/crm/me/membership")["points"] == sum(expected[o] for o in mine)

    # Refunds: one per refunded order, completed, published once; the provider moved money once each.
    refunds = [r for r in rows(platform, "payment", "SELECT id, order_id, status, amount FROM refunds") if r[1] in ours]
    assert sorted((o, s, a) for _, o, s, a in refunds) == sorted((o, "completed", totals[o]) for _, o in refunded)
    assert Counter(d["refund_id"] for d in published(platform, "payment", "RefundCompleted")
                   if d["order_id"] in ours) == {r[0]: 1 for r in refunds}
    ledger = [json.loads(line) for line in (platform.workdir / "data" / "sandbox" / "refunds.jsonl").read_text()
              .splitlines()]
    assert Counter(e["request_no"] for e in ledger if e["moved"]) == {r[0]: 1 for r in refunds}
    parked_id = parked.read_text()
    assert [e["moved"] for e in ledger if e["request_no"] == parked_id] == [True, False]  # asked again, once moved
    assert sorted(rows(platform, "crm", "SELECT order_id, amount FROM purchase_refunds")) == sorted(
        (o, totals[o]) for _, o in refunded)

    print(f"chaos: {len(accepted)} accepted of {ORDERS}, {len(reserved)} reserved, "
          f"{statuses.count('CANCELLED')} cancelled unreserved; then {len(completed)} completed "
          f"({sum(expected.values())} points awarded in {len(entries)} entries), {len(refunded)} refunded once "
          f"({len(ledger)} provider requests, {sum(e['moved'] for e in ledger)} moved money); stock {after['stock']} "
          f"reserved {after['reserved']} sold {after['sold']} on hand {after['on_hand']}")
