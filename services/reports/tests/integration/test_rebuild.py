"""The rebuild proof. A known history of the bus (reports_history) is played into the reports as
competing live workers may see it — shuffled, every event twice, four at once — and every report is read. Then the same
history goes through a real outbox relay onto the bus, so the event archive holds it (a RabbitMQ
stream; the embedded table), a wiped reports database is fed from the archive by the real
`mall-replay reports` command, and every report must read exactly the same; replaying again (every
event delivered twice) changes nothing."""
import json
import os
import random
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import MetaData, insert, select
from sqlalchemy.exc import DBAPIError

from mall_shared.config import Settings, broker_options
from mall_shared.consumer import deliver
from mall_shared.db import Database, bus_tables, utcnow
from mall_shared.outbox import Relay
from mall_shared.testing import (
    create_database,
    create_vhost,
    delete_vhost,
    drop_database,
    eventually,
    migrated_database,
)
from reports.app import create_app
from reports.handlers import HANDLERS
from reports_history import build

RANGE = {"from": "2026-10-31", "to": "2026-11-30"}
REPORTS = [("sales", {"group_by": "day"}), ("sales", {"group_by": "week"}), ("sales", {"group_by": "month"}),
           ("products", {"sort": "units"}), ("products", {"sort": "revenue"}), ("categories", {}), ("funnel", {}),
           ("cancellations", {}), ("payment-methods", {}), ("carriers", {}), ("customers", {"group_by": "day"}),
           ("customers", {"group_by": "month"}), ("tiers", {}), ("stock", {}), ("product-views", {})]


def read_all(app, keys) -> dict:
    client, staff = app.test_client(), keys.headers(role="staff")
    figures = {}
    for name, args in REPORTS:
        res = client.get(f"/api/reports/{name}", query_string={**RANGE, **args}, headers=staff)
        assert res.status_code == 200, res.json
        figures[f"{name} {json.dumps(args)}"] = res.json
    return figures


def reports_app(url, keys):
    return create_app({"DATABASE_URL": url, "JWT_PUBLIC_KEY": keys.public, "TESTING": True})


@pytest.fixture(scope="module")
def history():
    return build(orders=150)


def deliver_retrying(db, env) -> bool:
    """As a worker does: a handler that lost a deadlock to another worker runs again."""
    for attempt in range(10):
        try:
            return deliver(db, HANDLERS, env)
        except DBAPIError:
            if attempt == 9:
                raise
    return False


@pytest.fixture(scope="module")
def live(history, keys):
    """Every report after the history arrived out of order, each event twice, to four workers at once."""
    with migrated_database("reports") as url:
        app = reports_app(url, keys)
        shuffled = history.envelopes * 2
        random.Random(5).shuffle(shuffled)
        with ThreadPoolExecutor(4) as workers:
            handled = sum(workers.map(lambda env: deliver_retrying(app.extensions["mall_db"], env), shuffled))
        assert handled == len(history.envelopes)
        figures = read_all(app, keys)
        app.extensions["mall_db"].dispose()
    return figures  # the database is gone: wiped


def rows(figures, name, args=None):
    return figures[f"{name} {json.dumps(args or {})}"]["rows"]


def test_every_report_says_what_the_history_says(live, history):
    e = history.expect
    totals = live['sales {"group_by": "day"}']["totals"]
    assert (totals["orders_placed"], totals["placed_amount"], totals["orders_paid"], totals["gmv"]) == (
        e["placed"], e["placed_amount"], e["paid"], e["gmv"])
    assert (totals["refunds"], totals["refund_amount"], totals["refunds_of_sales"]) == (
        e["refunds"], e["refund_amount"], e["refund_amount"])
    assert totals["net_sales"] == totals["net_of_sales"] == e["gmv"] - e["refund_amount"]
    assert totals["average_order_value"] == round(e["gmv"] / e["paid"])
    assert (totals["orders_cancelled"], totals["orders_completed"]) == (e["stage:CANCELLED"], e["stage:COMPLETED"])
    assert (totals["returns_received"], totals["registrations"]) == (e["returns"], e["registrations"])
    by_day = {r["period"]: r for r in rows(live, "sales", {"group_by": "day"})}
    for key, amount in e.items():  # a payment or refund counts on its own (Shanghai) day
        kind, _, day = key.partition(":")
        if not day:
            continue
        if kind == "gmv":
            assert by_day[day]["gmv"] == amount, day
        elif kind == "refund_day":
            assert by_day[day]["refund_amount"] == amount, day
        elif kind == "refund_sale_day":
            assert by_day[day]["refunds_of_sales"] == amount, day
    assert by_day["2026-11-03"]["orders_placed"] >= 1  # the order placed at 23:59:59 counts on its day
    month = rows(live, "sales", {"group_by": "month"})
    assert [r["period"] for r in month] == ["2026-11-01"] and month[0]["gmv"] == e["gmv"]
    assert {r["stage"]: r["orders"] for r in rows(live, "funnel")} == {
        "placed": e["placed"], "awaiting_payment": e["stage:AWAITING_PAYMENT"], "paid": e["stage:PAID"],
        "shipped": e["stage:SHIPPED"], "completed": e["stage:COMPLETED"], "cancelled": e["stage:CANCELLED"]}
    assert {r["reason"]: r["orders"] for r in rows(live, "cancellations")} == {
        k.split(":")[1]: v for k, v in e.items() if k.startswith("reason:")}
    methods = {r["method"]: r for r in rows(live, "payment-methods")}
    assert {m: r["amount"] for m, r in methods.items()} == {k[7:]: v for k, v in e.items() if k.startswith("method:")}
    assert {m: r["failures"] for m, r in methods.items() if r["failures"]} == {
        k[7:]: v for k, v in e.items() if k.startswith("failed:")}
    carriers = {r["carrier"]: r for r in rows(live, "carriers")}
    assert {c: r["delivered"] for c, r in carriers.items()} == {
        k[10:]: v for k, v in e.items() if k.startswith("delivered:")}
    assert all(20 <= r["p50_hours"] <= r["p90_hours"] <= 90 for r in carriers.values())
    assert {r["category_id"]: r["units"] for r in rows(live, "categories")} == {
        k[6:]: v for k, v in e.items() if k.startswith("units:")}
    assert rows(live, "customers", {"group_by": "month"})[-1] | {"registrations": 0} == {
        "period": "2026-11-01", "buyers": e["buyers"], "new": e["buyers"], "returning": 0, "registrations": 0}
    assert {r["tier"]: r["customers"] for r in rows(live, "tiers")}["gold"] == e["tier:gold"]
    alerts = {r["sku_id"]: r for r in rows(live, "stock")}
    assert alerts["s-cap"]["status"] == "depleted" and alerts["s-boot-40"]["stock"] == 3
    assert sum(r["views"] for r in rows(live, "product-views")) == e["views"]


metadata = MetaData()
bus_tables(metadata)


@pytest.fixture(params=["amqp", "filesystem"])
def bus(request, tmp_path):
    url = create_vhost("test_rebuild") if request.param == "amqp" else f"filesystem://{tmp_path / 'bus'}"
    yield Settings(service="source", database_url="", broker_url=url, broker_options=broker_options(url, None))
    if request.param == "amqp":
        delete_vhost(url)


def publish(history, settings):
    """The history's envelopes, as they were, through an outbox and a real relay onto the bus."""
    url = create_database("test_rebuild_source")
    db = Database("source", url, metadata)
    metadata.create_all(db.engine)
    with db.transaction() as s:
        s.execute(insert(db.outbox), [{"event_id": env["id"], "type": env["type"], "envelope": json.dumps(env),
                                       "created_at": utcnow()} for env in history.envelopes])
    stop = threading.Event()
    thread = threading.Thread(target=Relay(db, settings, batch=500).run, args=(stop,), daemon=True)
    thread.start()

    def all_sent():
        with db.engine.connect() as conn:
            return not conn.execute(select(db.outbox.c.id).where(db.outbox.c.published_at.is_(None))).first()

    try:
        eventually(all_sent, timeout=60)
    finally:
        stop.set()
        thread.join(timeout=5)
        db.dispose()
        drop_database(url)


def mall_replay(url, settings) -> str:
    env = {**os.environ, "REPORTS_DATABASE_URL": url, "MALL_BROKER_URL": settings.broker_url}
    done = subprocess.run([str(Path(sys.executable).parent / "mall-replay"), "reports", "--idle", "1"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_wiping_the_reports_and_replaying_the_archive_gives_the_identical_figures(live, history, bus, keys):
    publish(history, bus)
    with migrated_database("reports") as url:
        out = mall_replay(url, bus)
        assert f"{len(history.envelopes)} events read, {len(history.envelopes)} handled" in out, out
        app = reports_app(url, keys)
        assert read_all(app, keys) == live
        again = mall_replay(url, bus)  # every event delivered a second time
        assert f"0 handled, {len(history.envelopes)} already handled" in again, again
        assert read_all(app, keys) == live
        app.extensions["mall_db"].dispose()
