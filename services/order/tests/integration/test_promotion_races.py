"""The races of issue 10 on real PostgreSQL, with two web apps (two engines and pools, as two
gunicorn workers have) taking the requests in turn: the database decides, never a read before."""
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from order.app import create_app
from order.models import FlashPurchase, WalletCoupon

from .conftest import ADDRESS


@pytest.fixture(scope="module")
def second_app(app, keys):
    other = create_app({"DATABASE_URL": app.extensions["mall_db"].url, "JWT_PUBLIC_KEY": keys.public,
                        "TESTING": True})
    yield other
    other.extensions["mall_db"].dispose()


@pytest.fixture
def workers(app, second_app):
    """Two clients, as requests spread over two web workers."""
    return [app.test_client(), second_app.test_client()]


def window() -> dict:
    now = datetime.now(UTC)
    return {"starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(days=1)).isoformat()}


def at_once(n: int, call) -> list:
    """Run `call(i)` n times on as many threads, released together."""
    gate = threading.Barrier(min(n, 50))

    def run(i):
        if i < 50:
            gate.wait()
        return call(i)

    with ThreadPoolExecutor(min(n, 50)) as pool:
        return list(pool.map(run, range(n)))


def test_a_thousand_concurrent_claims_of_a_hundred_copies_give_exactly_a_hundred(client, staff, keys, workers, db):
    template = client.post("/api/promotions/coupons", headers=staff, json={
        "name": "100 copies", "kind": "amount", "value": 500, "total_quantity": 100, **window()}).json
    customers = [keys.headers() for _ in range(1000)]

    def claim(i):
        res = workers[i % 2].post(f"/api/promotions/coupons/{template['id']}/claim", headers=customers[i])
        return res.status_code, (res.json or {}).get("error", {}).get("code")

    outcomes = Counter(at_once(1000, claim))
    assert outcomes == {(201, None): 100, (409, "coupon_sold_out"): 900}
    assert client.get(f"/api/promotions/coupons/{template['id']}", headers=staff).json["claimed"] == 100
    with db.transaction() as session:
        assert len(session.scalars(select(WalletCoupon).where(WalletCoupon.template_id == template["id"])).all()) == 100


def test_one_coupon_in_two_orders_placed_at_the_same_instant_is_used_once(client, staff, shop, fake, workers):
    template = client.post("/api/promotions/coupons", headers=staff, json={
        "name": "once", "kind": "amount", "value": 500, "total_quantity": 10, "per_customer_limit": 5,
        **window()}).json
    for _ in range(5):
        coupon = client.post(f"/api/promotions/coupons/{template['id']}/claim", headers=shop.headers).json
        body = {"items": [{"sku_id": fake.sku(price=39900), "quantity": 1}], "shipping_address": ADDRESS,
                "delivery_method_id": "standard", "coupon_id": coupon["id"]}
        results = at_once(2, lambda i, body=body: workers[i].post("/api/orders", json=body, headers=shop.headers))
        assert sorted(r.status_code for r in results) == [201, 409]
        refused = next(r for r in results if r.status_code == 409)
        assert refused.json["error"]["code"] == "coupon_used"
        placed = next(r for r in results if r.status_code == 201)
        assert placed.json["coupon_discount"] == 500


def test_a_flash_sale_limit_of_one_holds_under_twenty_concurrent_orders_from_one_customer(
        client, staff, shop, fake, workers, db, monkeypatch):
    monkeypatch.setenv("ORDER_MAX_UNPAID_ORDERS", "50")  # the flash sale's limit is what is tested
    sku = fake.sku(price=19900, stock=100)
    sale = client.post("/api/promotions/campaigns", headers=staff, json={
        "name": "flash", "kind": "flash_price", "sku_id": sku, "price": 9900, "per_customer_limit": 1,
        **window()}).json
    body = {"items": [{"sku_id": sku, "quantity": 1}], "shipping_address": ADDRESS, "delivery_method_id": "standard"}
    try:
        results = at_once(20, lambda i: workers[i % 2].post("/api/orders", json=body, headers=shop.headers))
    finally:
        client.patch(f"/api/promotions/campaigns/{sale['id']}", json={"active": False}, headers=staff)
    outcomes = Counter((r.status_code, (r.json.get("error") or {}).get("code")) for r in results)
    assert outcomes == {(201, None): 1, (409, "campaign_limit_reached"): 19}
    with db.transaction() as session:
        assert session.get(FlashPurchase, (sale["id"], shop.customer_id)).quantity == 1
