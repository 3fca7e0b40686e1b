"""Checkout through the gateway: orders placed per second, and for each order the time from
placing it to AWAITING_PAYMENT and from the provider's notification to PAID (p50, p99).

    python bench/checkout.py [--orders 300] [--paid 100] [--concurrency 16]

Phase 1 places `--orders` orders at once (throughput). Phase 2 walks `--paid` orders, several at
a time, through place → AWAITING_PAYMENT → Alipay sandbox notification → PAID, polling the
order as a client app would (every 20 ms) to see each state.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from common import ROOT, Timer, start_platform, summary


def load_demo():
    spec = importlib.util.spec_from_file_location("demo", ROOT / "scripts" / "demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    return demo


def until(client, order_id: str, status: str, timeout: float = 60) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if client.get(f"/api/orders/{order_id}")["status"] == status:
            return time.perf_counter()
        time.sleep(0.02)
    raise TimeoutError(f"order {order_id} never reached {status}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--paid", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    demo = load_demo()
    platform = start_platform()
    try:
        run = uuid.uuid4().hex[:6]
        admin = demo.login(platform.gateway, *platform.admin)
        category = admin.post("/api/catalog/categories", {"name": f"Bench {run}"}, expect=201)
        product = admin.post("/api/catalog/products", {
            "name": f"Bench shoe {run}", "category_id": category["id"],
            "skus": [{"code": f"BENCH-{run}", "price": 39900, "stock": 100000}]}, expect=201)
        admin.post(f"/api/catalog/products/{product['id']}/list")
        sku_id = product["skus"][0]["id"]
        with ThreadPoolExecutor(8) as pool:
            customers = list(pool.map(lambda i: demo.register(platform.gateway, f"bench-{run}-{i}@example.com",
                                                              f"B{i}"), range(args.concurrency)))

        def place(i: int) -> tuple[float, object, str]:
            c = customers[i % len(customers)]
            started = time.perf_counter()
            order = demo.place_order(c, sku_id, 1)
            return time.perf_counter() - started, c, order["id"]

        with Timer() as t, ThreadPoolExecutor(args.concurrency) as pool:
            placing = list(pool.map(place, range(args.orders)))
        rows = [summary("place an order (POST /api/orders)", [p[0] for p in placing], t.elapsed)]
        with Timer() as drain:  # let the saga work off phase 1 before timing single orders
            for _, c, order_id in placing:
                until(c, order_id, "AWAITING_PAYMENT", timeout=300)
        print(f"phase 1 backlog decided {drain.elapsed:.2f}s after the last order was placed", flush=True)

        def walk(i: int) -> tuple[float, float]:
            c = customers[i % len(customers)]
            placed = time.perf_counter()
            order = demo.place_order(c, sku_id, 1)
            awaiting = until(c, order["id"], "AWAITING_PAYMENT")
            payment = c.post("/api/payments", {"order_id": order["id"], "method": "alipay"}, expect=201)
            notified = time.perf_counter()
            c.post(f"/api/payments/{payment['id']}/sandbox", {"outcome": "success"})
            paid = until(c, order["id"], "PAID")
            return awaiting - placed, paid - notified

        with Timer() as t, ThreadPoolExecutor(max(1, args.concurrency // 2)) as pool:
            walks = list(pool.map(walk, range(args.paid)))
        rows.append(summary("placed -> AWAITING_PAYMENT", [a for a, _ in walks], t.elapsed))
        rows.append(summary("notification sent -> PAID", [b for _, b in walks], t.elapsed))
        print(json.dumps(rows))
    finally:
        platform.stop()


if __name__ == "__main__":
    main()
