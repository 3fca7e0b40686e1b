"""Load scenarios shared by the end-to-end tests and the benchmarks (bench/)."""
from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from mall_shared.testing import eventually


def new_product(platform, demo, admin, stock: int = 100, price: int = 10000, skus: int = 1) -> dict:
    """A listed product of a fresh category, with `skus` SKUs of `stock` units at `price` each."""
    run = uuid.uuid4().hex[:8]
    category = admin.post("/api/catalog/categories", {"name": f"E2E {run}"}, expect=201)
    product = admin.post("/api/catalog/products", {
        "name": f"Item {run}", "description": "e2e", "category_id": category["id"], "brand": "Mall",
        "skus": [{"code": f"E2E-{run}-{i}", "attributes": {"size": str(40 + i)}, "price": price, "stock": stock}
                 for i in range(skus)]}, expect=201)
    return admin.post(f"/api/catalog/products/{product['id']}/list")


def new_customer(platform, demo, name: str = "顾客"):
    """A newly registered customer, logged in."""
    return demo.register(platform.gateway, f"c-{uuid.uuid4().hex[:10]}@example.com", name)


def paid_order(demo, customer, items: list[tuple[str, int]], **placed) -> dict:
    """Place an order for `items` [(sku_id, quantity)] and pay it through the sandbox Alipay.
    `placed` overrides the order's body (e.g. address_id instead of shipping_address)."""
    body = {"items": [{"sku_id": s, "quantity": q} for s, q in items], "shipping_address": demo.ADDRESS,
            "delivery_method_id": "standard"} | placed
    if "address_id" in placed:
        body.pop("shipping_address")
    order = customer.post("/api/orders", body, expect=201)
    demo.wait_for("AWAITING_PAYMENT", demo.order_status(customer, order["id"], "AWAITING_PAYMENT"))
    payment = customer.post("/api/payments", {"order_id": order["id"], "method": "alipay"}, expect=201)
    customer.post(f"/api/payments/{payment['id']}/sandbox", {"outcome": "success"})
    demo.wait_for("PAID", demo.order_status(customer, order["id"], "PAID"))
    return customer.get(f"/api/orders/{order['id']}") | {"payment_id": payment["id"]}


def shipped_order(demo, admin, customer, items: list[tuple[str, int]], **placed) -> tuple[dict, dict]:
    """A paid order, picked, packed and handed to SF Express: (order, shipment)."""
    order = paid_order(demo, customer, items, **placed)
    admin.post(f"/api/orders/{order['id']}/process")
    demo.wait_for("PROCESSING", demo.order_status(customer, order["id"], "PROCESSING"))
    tracking_number = f"SF{uuid.uuid4().int % 10**13:013d}"
    shipment = demo.wait_for("logistics to accept the shipment",
                             lambda: demo._try_ship(admin, order["id"], tracking_number))
    demo.wait_for("SHIPPED", demo.order_status(customer, order["id"], "SHIPPED"))
    return order, shipment


def completed_order(demo, admin, customer, items: list[tuple[str, int]], **placed) -> dict:
    """A shipped order the customer signed for: COMPLETED."""
    order, shipment = shipped_order(demo, admin, customer, items, **placed)
    customer.post(f"/api/logistics/shipments/{shipment['id']}/sign")
    return demo.wait_for("COMPLETED", demo.order_status(customer, order["id"], "COMPLETED")) \
        | {"payment_id": order["payment_id"], "shipment_id": shipment["id"]}


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
