"""`make bench`: the mall's hot paths on PostgreSQL + RabbitMQ, right beside the bare rows of
../shared/limits measured in the same run, as one table of figure, bare row and ratio (also
written to bench/results/latest.json).

    python bench/run.py [--orders 2000] [--clients 32] [--single 200] [--skip browse,wrk,...]

- checkout: 2,000 orders from 32 customers at once through the gateway: POSTs answered per second,
  orders at AWAITING_PAYMENT per second (first POST to last decided, as a bus subscriber sees
  OrderStatusChanged), POST p50/p99; then one order at a time, POST -> AWAITING_PAYMENT p50/p99.
  With `--promo` (or BENCH_PROMO=1) every order spends a coupon of its own (claimed beforehand) and
  100 points (crm holds them: one more saga step), under a 满减 campaign and a gold member price.
- flash sale: 500 buyers for 50 units with two catalog workers, seconds until every order is decided.
- wrk: 32 connections POSTing one order each in a closed loop for 10 s (the nameko-examples load).
- browse: catalog search p99 at 10,000 and 100,000 products.
The mall's part runs under `flock /tmp/bench.lock`, as the limits' rows do.
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import subprocess
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from common import DEPLOYED, ROOT, percentile, start_platform
from watcher import OrderWatcher

LIMITS = ROOT.parent / "shared" / "limits"
RESULTS = ROOT / "bench" / "results"
NAMEKO_32 = 64.1  # nameko-examples, same wrk load at 32 connections (issue 15): orders/s


def load_demo():
    import importlib.util
    spec = importlib.util.spec_from_file_location("demo", ROOT / "scripts" / "demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    return demo


def new_sku(demo, admin, stock: int, price: int = 39900) -> str:
    run = uuid.uuid4().hex[:6]
    category = admin.post("/api/catalog/categories", {"name": f"Bench {run}"}, expect=201)
    product = admin.post("/api/catalog/products", {
        "name": f"Bench shoe {run}", "category_id": category["id"],
        "skus": [{"code": f"BENCH-{run}", "attributes": {"size": "42"}, "price": price, "stock": stock}]}, expect=201)
    admin.post(f"/api/catalog/products/{product['id']}/list")
    return product["skus"][0]["id"]


def customers(demo, gateway: str, n: int) -> list:
    run = uuid.uuid4().hex[:6]
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda i: demo.register(gateway, f"bench-{run}-{i}@example.com", f"B{i}"), range(n)))


def order_body(demo, sku_id: str) -> dict:
    return {"items": [{"sku_id": sku_id, "quantity": 1}], "shipping_address": demo.ADDRESS,
            "delivery_method_id": "standard"}


def post_orders(gateway: str, people: list, body, count: int,
                clients: int) -> list[tuple[float, float, int, dict]]:
    """POST `count` orders from `clients` threads, each customer on its own keep-alive session:
    [(sent, answered, status, body)] on one perf_counter clock. `body` is the order's body, or a
    function of the customer's index that gives one (a coupon of their own each time)."""
    sessions = [requests.Session() for _ in people]

    def post(i: int):
        k = i % len(people)
        json_body = body(k) if callable(body) else body
        sent = time.perf_counter()
        res = sessions[k].post(gateway + "/api/orders", json=json_body, timeout=60,
                               headers={"Authorization": f"Bearer {people[k].token}"})
        return sent, time.perf_counter(), res.status_code, res.json()

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(post, range(count)))


def promo_bodies(demo, admin, people: list, sku_id: str, orders: int, single: int):
    """Every order with a coupon of its own and 100 points, under a 满减 campaign: coupons claimed
    and points given (5000 each: the customers are gold in crm) before the clock starts."""
    now = datetime.now(UTC)
    window = {"starts_at": (now - timedelta(minutes=1)).isoformat(), "ends_at": (now + timedelta(days=1)).isoformat()}
    admin.post("/api/promotions/campaigns", {"name": "bench 满减", "kind": "reduction", "tiers": [[30000, 1000]],
                                             **window}, expect=201)
    need = [orders // len(people) + 4 for _ in people]
    need[0] += single + 20
    template = admin.post("/api/promotions/coupons", {
        "name": "bench", "kind": "amount", "value": 500, "threshold": 10000, "total_quantity": sum(need),
        "per_customer_limit": max(need), **window}, expect=201)
    wallets = [deque() for _ in people]

    def fill(k: int) -> None:
        me = people[k].get("/api/auth/me")
        admin.post(f"/api/crm/customers/{me['id']}/points", {"points": 100 * need[k] + 5000, "reason": "bench"})
        for _ in range(need[k]):
            wallets[k].append(people[k].post(f"/api/promotions/coupons/{template['id']}/claim", expect=201)["id"])
        demo.wait_for("order's copy of the points", lambda: people[k].get("/api/cart")["points_balance"] > 0,
                      timeout=60)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(fill, range(len(people))))
    base = order_body(demo, sku_id)
    return lambda k: base | {"coupon_id": wallets[k].popleft(), "points": 100}


def checkout(platform, demo, watcher: OrderWatcher, admin, orders: int, clients: int, single: int,
             promo: bool = False) -> dict:
    sku_id = new_sku(demo, admin, stock=10 * orders + single + 1000)
    people = customers(demo, platform.gateway, clients)
    body = promo_bodies(demo, admin, people, sku_id, orders, single) if promo else order_body(demo, sku_id)
    post_orders(platform.gateway, people, body, 2 * clients, clients)  # warm up connections and caches
    results = post_orders(platform.gateway, people, body, orders, clients)
    bad = [r for r in results if r[2] != 201]
    assert not bad, bad[:3]
    start, accepted = min(r[0] for r in results), max(r[1] for r in results)
    decided = watcher.wait([r[3]["id"] for r in results], timeout=300)
    last = max(at for at, _ in decided.values())
    reports = reports_lag(admin, since=last)
    posts = [r[1] - r[0] for r in results]
    out = {"orders": orders, "clients": clients, "promo": promo, "accepted_s": orders / (accepted - start),
           "decided_s": orders / (last - start), "post_p50_ms": percentile(posts, 50) * 1000,
           "post_p99_ms": percentile(posts, 99) * 1000,
           "cancelled": sum(1 for _, status in decided.values() if status != "AWAITING_PAYMENT"), **reports}
    # One order at a time: POST sent -> the subscriber hears AWAITING_PAYMENT.
    latencies = []
    for i in range(20 + single):
        sent, _, status, placed = post_orders(platform.gateway, people[:1], body, 1, 1)[0]
        assert status == 201, placed
        at, _ = watcher.wait([placed["id"]], timeout=30)[placed["id"]]
        if i >= 20:
            latencies.append(at - sent)
    out |= {"single_p50_ms": percentile(latencies, 50) * 1000, "single_p99_ms": percentile(latencies, 99) * 1000}
    return out


def reports_lag(admin, since: float, timeout: float = 300) -> dict:
    """How far the reports worker trails the checkout: its queue when the last order was decided,
    and the seconds after that until it is empty (GET /api/reports/lag)."""
    waiting = admin.get("/api/reports/lag")["waiting"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lag = admin.get("/api/reports/lag")
        if lag["waiting"] == 0:
            return {"reports_waiting_at_last_decided": waiting, "reports_drained_after_s": time.perf_counter() - since}
        time.sleep(0.2)
    raise TimeoutError("the reports worker did not catch up")


def settle(platform, timeout: float = 300) -> None:
    """Wait until every service's queue is empty: the last phase's saga has finished."""
    from kombu import Connection

    from mall_shared.config import SERVICES
    deadline = time.monotonic() + timeout
    with Connection(platform.broker_url) as conn:
        channel = conn.channel()
        while time.monotonic() < deadline:
            depths = [channel.queue_declare(f"{s}.events", passive=True).message_count for s in SERVICES]
            if not any(depths):
                time.sleep(1)  # what was delivered but not yet acked
                return
            time.sleep(0.5)
    raise TimeoutError(f"queues still hold {depths} after {timeout}s")


def flash_sale(platform, demo, watcher: OrderWatcher, admin, units: int = 50, buyers: int = 500) -> dict:
    """`buyers` single-unit orders for `units` units at once, two catalog workers competing."""
    sku_id = new_sku(demo, admin, stock=units, price=9900)
    people = customers(demo, platform.gateway, 25)
    results = post_orders(platform.gateway, people, order_body(demo, sku_id), buyers, 32)
    assert all(r[2] in (201, 409) for r in results), [r for r in results if r[2] not in (201, 409)][:3]
    accepted = [r[3]["id"] for r in results if r[2] == 201]
    decided = watcher.wait(accepted, timeout=120)
    start = min(r[0] for r in results)
    last = max([r[1] for r in results] + [at for at, _ in decided.values()])
    sold = sum(1 for _, status in decided.values() if status == "AWAITING_PAYMENT")
    sku = admin.get(f"/api/catalog/skus?ids={sku_id}")[0]
    return {"buyers": buyers, "units": units, "decided_in_s": last - start, "sold": sold,
            "refused_at_checkout": buyers - len(accepted), "stock_left": sku["stock"]}


def wrk(platform, demo, admin, seconds: int = 10, connections: int = 32) -> dict:
    """The issue's wrk load: POST one order, closed loop, one wrk thread."""
    sku_id = new_sku(demo, admin, stock=1_000_000)
    people = customers(demo, platform.gateway, connections)
    env = os.environ | {"WRK_BODY": json.dumps(order_body(demo, sku_id)),
                        "WRK_TOKENS": ",".join(p.token for p in people)}
    script = str(ROOT / "bench" / "wrk_order.lua")
    base = ["wrk", "-t1", f"-c{connections}", "--timeout", "10s", "-s", script, platform.gateway + "/api/orders"]
    subprocess.run(base[:1] + ["-d2s"] + base[1:], env=env, check=True, capture_output=True)
    out = subprocess.run(base[:1] + [f"-d{seconds}s"] + base[1:], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def browse(platform) -> dict:
    import catalog_browse
    db_url = platform.databases["catalog"]
    tops, subs = catalog_browse.categories(db_url)
    rows = {}
    for size in (10_000, 100_000):
        ids = catalog_browse.seed(db_url, size, subs)
        result = catalog_browse.browse(platform.gateway, 1500, 8, tops, ids)
        rows[size] = {"p99_ms": percentile(result["latencies"], 99) * 1000,
                      "per_second": len(result["latencies"]) / result["elapsed"]}
    return {"p99_10k_ms": rows[10_000]["p99_ms"], "p99_100k_ms": rows[100_000]["p99_ms"],
            "per_second_10k": rows[10_000]["per_second"], "per_second_100k": rows[100_000]["per_second"]}


def limits() -> dict:
    """The bare rows, measured now: {row id: {metric: value}}."""
    run = subprocess.run(["bash", str(LIMITS / "run.sh"), "1"], capture_output=True, text=True,
                         env=os.environ | {"LIMITS_ONLY": "saga saga_burst aproxy_insert"})
    if run.returncode != 0:
        raise RuntimeError(f"limits failed:\n{run.stderr[-3000:]}")
    raw = re.search(r"raw results: (\S+)", run.stderr).group(1)
    return {r["id"]: r["m"] for r in map(json.loads, Path(raw).read_text().splitlines())}


def table(mall: dict, bare: dict) -> list[dict]:
    rows = []

    def row(what, value, bare_name, bare_value, ratio, target):
        rows.append({"what": what, "mall": round(value, 1), "bare": bare_name,
                     "bare_value": None if bare_value is None else round(bare_value, 1),
                     # without the bare rows (--skip limits) a ratio is the empty dict of its row
                     "ratio": round(ratio, 2) if isinstance(ratio, int | float) else None, "target": target})

    c, s = mall.get("checkout"), bare.get("saga", {})
    b = bare.get("saga_burst", {})
    a = bare.get("aproxy_insert", {})
    if c:
        row("checkout: POSTs answered/s", c["accepted_s"], "saga_burst accepted_s", b.get("accepted_s"),
            b and c["accepted_s"] / b["accepted_s"], ">= 0.60")
        row("checkout: orders at AWAITING_PAYMENT/s", c["decided_s"], "saga_burst decided_s", b.get("decided_s"),
            b and c["decided_s"] / b["decided_s"], ">= 0.50")
        row("checkout: POST p50 ms (32 clients)", c["post_p50_ms"], "aproxy_insert p50_ms", a.get("p50_ms"),
            a and c["post_p50_ms"] / a["p50_ms"], "")
        row("checkout: POST p99 ms (32 clients)", c["post_p99_ms"], "aproxy_insert p99_ms", a.get("p99_ms"),
            a and c["post_p99_ms"] / a["p99_ms"], "<= 2.0")
        row("reports worker: queue drained s after the last order was decided", c["reports_drained_after_s"],
            f"waiting then: {c['reports_waiting_at_last_decided']}", None, None, "keeps up")
        one = s and s["http_p50_ms"] + s["hop2_p50_ms"]
        row("one at a time: POST -> AWAITING_PAYMENT p50 ms", c["single_p50_ms"], "saga http p50 + hop2 p50",
            one or None, one and c["single_p50_ms"] / one, "")
        one = s and s["http_p99_ms"] + s["hop2_p99_ms"]
        row("one at a time: POST -> AWAITING_PAYMENT p99 ms", c["single_p99_ms"], "saga http p99 + hop2 p99",
            one or None, one and c["single_p99_ms"] / one, "<= 1.5")
    if f := mall.get("flash_sale"):
        row(f"flash sale: {f['buyers']} buyers, {f['units']} units: all decided in s (sold {f['sold']})",
            f["decided_in_s"], "-", None, None, "< 2 s, sold = units")
    if w := mall.get("wrk"):
        row("wrk 32 connections: orders/s", w["req_s"], "nameko-examples (issue 15)", NAMEKO_32,
            w["req_s"] / NAMEKO_32, ">= 2.0")
    if br := mall.get("browse"):
        row("browse p99 ms at 100k / at 10k products", br["p99_100k_ms"], "browse p99 at 10k", br["p99_10k_ms"],
            br["p99_100k_ms"] / br["p99_10k_ms"], "flat (~1)")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--single", type=int, default=200)
    parser.add_argument("--skip", default="", help="comma-separated: checkout,flash_sale,wrk,browse,limits")
    parser.add_argument("--promo", action="store_true", default=os.environ.get("BENCH_PROMO") == "1",
                        help="checkout: every order with a coupon and points (also BENCH_PROMO=1)")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    demo = load_demo()
    mall: dict = {}
    with open("/tmp/bench.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        platform = start_platform(extra_env=DEPLOYED)
        watcher = OrderWatcher(platform.broker_url).start()
        try:
            admin = demo.login(platform.gateway, *platform.admin)
            if "checkout" not in skip:
                mall["checkout"] = checkout(platform, demo, watcher, admin, args.orders, args.clients, args.single,
                                            args.promo)
                print("checkout", json.dumps(mall["checkout"]), flush=True)
            if "flash_sale" not in skip:
                settle(platform)
                platform.add_worker("catalog")
                time.sleep(1)  # the second worker's consumer is up before the sale starts
                mall["flash_sale"] = flash_sale(platform, demo, watcher, admin)
                print("flash sale", json.dumps(mall["flash_sale"]), flush=True)
            if "wrk" not in skip:
                settle(platform)
                mall["wrk"] = wrk(platform, demo, admin)
                print("wrk", json.dumps(mall["wrk"]), flush=True)
        finally:
            watcher.stop()
            platform.stop()
        if "browse" not in skip:
            # On a platform of its own, as bench/catalog_browse.py runs it: measured on the platform
            # the checkout phases had just used, keyword search at 100k read p99 4× (alone: 1.15×);
            # why is not known yet, and browsing should not measure the checkout's leftovers.
            platform = start_platform(extra_env=DEPLOYED)
            try:
                mall["browse"] = browse(platform)
                print("browse", json.dumps(mall["browse"]), flush=True)
            finally:
                platform.stop()
    bare = {} if "limits" in skip else limits()
    rows = table(mall, bare)
    print("\n| what | mall | bare row | bare | ratio | target |\n|---|---:|---|---:|---:|---|")
    for r in rows:
        print(f"| {r['what']} | {r['mall']} | {r['bare']} | {r['bare_value'] if r['bare_value'] is not None else '-'}"
              f" | {r['ratio'] if r['ratio'] is not None else '-'} | {r['target']} |")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                                     "table": rows, "mall": mall, "bare": bare}, indent=2) + "\n")


if __name__ == "__main__":
    main()
