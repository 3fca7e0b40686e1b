"""Load scenarios shared by the end-to-end tests and the benchmarks (bench/)."""
from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from mall_shared.testing import eventually


def flash_sale(platform, demo, units: int = 50, orders: int = 500, customers: int = 25, threads: int = 32) -> dict:
    """`orders` single-unit orders for a SKU with `units` in stock, from `customers` customers at once.
    Returns the outcome (reserved, cancelled, refused, the SKU) and its timings."""
    run = uuid.uuid4().hex[:6]
    admin = demo.login(platform.gateway, *platform.admin)
    category = admin.post("/api/catalog/categories", {"name": f"Flash {run}"}, expect=201)
    product = admin.post("/api/catalog/products", {
        "name": f"Flash shoe {run}", "category_id": category["id"],
        "skus": [{"code": f"FLASH-{run}", "attributes": {"size": "42"}, "price": 9900, "stock": units}]}, expect=201)
    admin.post(f"/api/catalog/products/{product['id']}/list")
    sku_id = product["skus"][0]["id"]
    with ThreadPoolExecutor(8) as pool:
        people = list(pool.map(lambda i: demo.register(platform.gateway, f"flash-{run}-{i}@example.com", f"C{i}"),
                               range(customers)))

    def order(i: int):
        c = people[i % customers]
        res = c.http.post(platform.gateway + "/api/orders", timeout=60,
                          headers={"Authorization": f"Bearer {c.token}"},
                          json={"items": [{"sku_id": sku_id, "quantity": 1}], "shipping_address": demo.ADDRESS,
                                "delivery_method_id": "standard"})
        assert res.status_code in (201, 409), res.text  # accepted, or refused up front with a reason
        return (c, res.json()["id"]) if res.status_code == 201 else res.json()["error"]["code"]

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        outcomes = list(pool.map(order, range(orders)))
    placed_in = time.perf_counter() - started
    accepted = [o for o in outcomes if isinstance(o, tuple)]
    refused = [o for o in outcomes if not isinstance(o, tuple)]

    def all_decided():
        statuses = [c.get(f"/api/orders/{oid}")["status"] for c, oid in accepted]
        return "PENDING" not in statuses and statuses
    statuses = eventually(all_decided, timeout=180, interval=0.25)
    decided_in = time.perf_counter() - started
    return {"reserved": statuses.count("AWAITING_PAYMENT"), "cancelled": statuses.count("CANCELLED"),
            "refused": len(refused), "refusal_codes": set(refused),
            "sku": admin.get(f"/api/catalog/skus?ids={sku_id}")[0],
            "orders": orders, "placed_seconds": placed_in, "decided_seconds": decided_in}
