"""A flash sale on real processes: 50 units, 500 concurrent orders from many customers through
the gateway. Exactly 50 are reserved, 450 are refused or cancelled cleanly, stock never goes
negative, and on-hand = available + reserved + sold. Once with one catalog worker, once with two
consuming the same queue."""
import uuid
from concurrent.futures import ThreadPoolExecutor

from mall_shared.testing import eventually

UNITS, ORDERS, CUSTOMERS = 50, 500, 25


def flash_sale(platform, demo) -> dict:
    run = uuid.uuid4().hex[:6]
    admin = demo.login(platform.gateway, *platform.admin)
    category = admin.post("/api/catalog/categories", {"name": f"Flash {run}"}, expect=201)
    product = admin.post("/api/catalog/products", {
        "name": f"Flash shoe {run}", "category_id": category["id"],
        "skus": [{"code": f"FLASH-{run}", "attributes": {"size": "42"}, "price": 9900, "stock": UNITS}]}, expect=201)
    admin.post(f"/api/catalog/products/{product['id']}/list")
    sku_id = product["skus"][0]["id"]

    with ThreadPoolExecutor(8) as pool:
        customers = list(pool.map(lambda i: demo.register(platform.gateway, f"flash-{run}-{i}@example.com", f"C{i}"),
                                  range(CUSTOMERS)))

    def order(i: int):
        c = customers[i % CUSTOMERS]
        res = c.http.post(platform.gateway + "/api/orders", timeout=60,
                          headers={"Authorization": f"Bearer {c.token}"},
                          json={"items": [{"sku_id": sku_id, "quantity": 1}], "shipping_address": demo.ADDRESS,
                                "delivery_method_id": "standard"})
        assert res.status_code in (201, 409), res.text  # accepted, or refused up front with a reason
        return (c, res.json()["id"]) if res.status_code == 201 else res.json()["error"]["code"]

    with ThreadPoolExecutor(32) as pool:
        outcomes = list(pool.map(order, range(ORDERS)))
    accepted = [o for o in outcomes if isinstance(o, tuple)]
    refused = [o for o in outcomes if not isinstance(o, tuple)]
    assert set(refused) <= {"insufficient_stock", "sku_unavailable"}

    def all_decided():
        statuses = [c.get(f"/api/orders/{oid}")["status"] for c, oid in accepted]
        return "PENDING" not in statuses and statuses
    statuses = eventually(all_decided, timeout=120, interval=0.5)
    sku = admin.get(f"/api/catalog/skus?ids={sku_id}")[0]
    return {"reserved": statuses.count("AWAITING_PAYMENT"), "cancelled": statuses.count("CANCELLED"),
            "refused": len(refused), "sku": sku}


def check(result):
    assert result["reserved"] == UNITS
    assert result["cancelled"] + result["refused"] == ORDERS - UNITS
    sku = result["sku"]
    assert sku["stock"] == 0 and sku["reserved"] == UNITS and sku["sold"] == 0
    assert sku["on_hand"] == sku["stock"] + sku["reserved"] + sku["sold"]
    assert sku["status"] == "delisted"


def test_a_flash_sale_reserves_exactly_the_stock_there_is(platform, demo):
    check(flash_sale(platform, demo))


def test_a_flash_sale_with_two_catalog_workers_still_never_oversells(platform, demo):
    if platform.worker_copies["catalog"] < 2:
        platform.add_worker("catalog")
    check(flash_sale(platform, demo))
