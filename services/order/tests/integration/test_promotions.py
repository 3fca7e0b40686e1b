"""Cart, coupons, campaigns and points at checkout, against real PostgreSQL (catalog, logistics
and crm stubbed, conftest.py); the races are in test_promotion_races.py."""
import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from mall_shared.events import (
    MembershipChanged,
    PaymentConfirmed,
    PointsHeld,
    PointsRejected,
    ProductListed,
    SkuChanged,
    StockReserved,
)
from mall_shared.testing import outbox_events
from order.saga import cancel_expired_orders

from .conftest import ADDRESS

NOW = datetime.now(UTC)
VERSIONS = itertools.count(1000)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def coupon_body(**changes) -> dict:
    return {"name": "满300减30", "kind": "amount", "value": 3000, "threshold": 30000,
            "starts_at": iso(NOW - timedelta(hours=1)), "ends_at": iso(NOW + timedelta(days=7)),
            "total_quantity": 100, "per_customer_limit": 1, **changes}


@pytest.fixture
def promo(client, staff, shop):
    promo = Promo(client, staff, shop)
    yield promo
    for campaign_id in promo.campaigns:  # campaigns apply to everyone: end them with the test
        client.patch(f"/api/promotions/campaigns/{campaign_id}", json={"active": False}, headers=staff)


class Promo:
    """Staff offering coupons and campaigns, and the shop's customer using them."""

    def __init__(self, client, staff, shop):
        self.client, self.staff, self.shop = client, staff, shop
        self.campaigns: list[str] = []

    def coupon(self, **changes) -> dict:
        res = self.client.post("/api/promotions/coupons", json=coupon_body(**changes), headers=self.staff)
        assert res.status_code == 201, res.json
        return res.json

    def claim(self, template_id: str, headers=None, expect=201) -> dict:
        res = self.client.post(f"/api/promotions/coupons/{template_id}/claim", headers=headers or self.shop.headers)
        assert res.status_code == expect, res.json
        return res.json

    def campaign(self, **body) -> dict:
        body = {"name": "campaign", "starts_at": iso(NOW - timedelta(hours=1)), "ends_at": iso(NOW + timedelta(days=1)),
                **body}
        res = self.client.post("/api/promotions/campaigns", json=body, headers=self.staff)
        assert res.status_code == 201, res.json
        self.campaigns.append(res.json["id"])
        return res.json

    def member(self, tier="regular", balance=0, version=None):
        self.shop.send(MembershipChanged(customer_id=self.shop.customer_id, tier=tier, balance=balance,
                                         version=version or next(VERSIONS)))

    def put(self, sku_id: str, quantity: int, expect=204):
        res = self.client.put(f"/api/cart/items/{sku_id}", json={"quantity": quantity}, headers=self.shop.headers)
        assert res.status_code == expect, res.json
        return res

    def cart(self, expect=200, **query) -> dict:
        res = self.client.get("/api/cart", query_string=query, headers=self.shop.headers)
        assert res.status_code == expect, res.json
        return res.json

    def checkout(self, expect=201, **body) -> dict:
        body = {"shipping_address": ADDRESS, "delivery_method_id": "standard", **body}
        res = self.client.post("/api/cart/checkout", json=body, headers=self.shop.headers)
        assert res.status_code == expect, res.json
        return res.json


# ---- cart ------------------------------------------------------------------------------------
def test_the_cart_prices_its_lines_live_and_flags_a_sold_out_line_instead_of_dropping_it(promo, fake):
    shoe, sock = fake.sku(price=19900), fake.sku(price=2990)
    promo.put(shoe, 2)
    promo.put(sock, 1)
    promo.put(sock, 3)  # a second PUT sets the quantity
    cart = promo.cart(delivery_method_id="standard")
    assert [(ln["sku_id"], ln["quantity"], ln["state"], ln["available"], ln["paid"]) for ln in cart["lines"]] == [
        (shoe, 2, "on_sale", True, 39800), (sock, 3, "on_sale", True, 8970)]
    assert (cart["subtotal"], cart["delivery_fee"], cart["total"]) == (48770, 1000, 49770)

    fake.skus[sock]["stock"] = 0
    promo.shop.send(_sku_changed(fake, sock, sold_out=True))
    cart = promo.cart()
    assert [(ln["state"], ln["available"]) for ln in cart["lines"]] == [("on_sale", True), ("sold_out", False)]
    assert cart["lines"][1]["unit_price"] == 2990 and cart["lines"][1]["paid"] is None
    assert (cart["subtotal"], cart["total"]) == (39800, 39800)
    res = promo.checkout(expect=409)
    assert res["error"]["code"] == "sku_unavailable"
    assert len(promo.cart()["lines"]) == 2  # a refused checkout leaves the cart as it was

    promo.client.delete(f"/api/cart/items/{sock}", headers=promo.shop.headers)
    order = promo.checkout()
    assert [(ln["sku_id"], ln["quantity"]) for ln in order["lines"]] == [(shoe, 2)]
    assert promo.cart()["lines"] == []


def test_checking_out_an_empty_cart_or_an_unknown_sku_is_refused(promo):
    assert promo.checkout(expect=409)["error"]["code"] == "cart_empty"
    assert promo.put(str(uuid.uuid4()), 1, expect=404).json["error"]["code"] == "sku_not_found"


# ---- coupons ---------------------------------------------------------------------------------
def test_a_coupon_is_locked_by_the_unpaid_order_used_when_paid_and_a_second_order_cannot_use_it(promo, fake, db):
    template = promo.coupon()
    coupon = promo.claim(template["id"])
    promo.put(fake.sku(price=19900), 2)
    (mine,) = promo.client.get("/api/promotions/me/coupons", headers=promo.shop.headers).json["items"]
    assert (mine["id"], mine["status"], mine["applies_to_cart"], mine["cart_discount"]) == (
        coupon["id"], "available", True, 3000)

    order = promo.checkout(coupon_id=coupon["id"])
    assert (order["coupon_id"], order["coupon_discount"], order["total"]) == (coupon["id"], 3000, 39800 - 3000 + 1000)
    placed = outbox_events(db, order["id"])[0]["data"]
    assert (placed["coupon_id"], placed["coupon_discount"], placed["lines"][0]["paid"]) == (coupon["id"], 3000, 36800)
    assert _wallet(promo)[0]["status"] == "locked"

    promo.put(fake.sku(price=39900), 1)
    assert promo.checkout(coupon_id=coupon["id"], expect=409)["error"]["code"] == "coupon_used"
    promo.shop.send(StockReserved(order_id=order["id"], lines=[]))
    promo.shop.send(PaymentConfirmed(payment_id=str(uuid.uuid4()), order_id=order["id"], method="alipay",
                                     amount=order["total"]))
    assert _wallet(promo)[0]["status"] == "used"
    (used,) = [e["data"] for e in outbox_events(db, order["id"]) if e["type"] == "CouponUsed"]
    assert (used["coupon_id"], used["template_id"], used["customer_id"]) == (
        coupon["id"], template["id"], promo.shop.customer_id)
    claimed = [e for e in outbox_events(db) if e["type"] == "CouponClaimed" and e["data"]["coupon_id"] == coupon["id"]]
    assert len(claimed) == 1


def test_cancelling_an_unpaid_order_gives_its_coupon_back(promo, fake, db):
    coupon = promo.claim(promo.coupon()["id"])
    promo.put(fake.sku(price=39900), 1)
    order = promo.checkout(coupon_id=coupon["id"])
    promo.client.post(f"/api/orders/{order['id']}/cancel", headers=promo.shop.headers)
    assert (_wallet(promo)[0]["status"], _wallet(promo)[0]["order_id"]) == ("available", None)
    (released,) = [e["data"] for e in outbox_events(db, order["id"]) if e["type"] == "CouponReleased"]
    assert (released["coupon_id"], released["reason"]) == (coupon["id"], "cancelled_by_customer")


@pytest.mark.parametrize("case, status, code", [
    ("foreign", 403, "coupon_not_yours"), ("expired", 409, "coupon_expired"), ("withdrawn", 409, "coupon_expired"),
    ("below", 422, "below_threshold"), ("scope", 422, "coupon_out_of_scope"), ("unknown", 404, "coupon_not_found")])
def test_a_coupon_that_cannot_be_used_is_refused_with_its_reason_and_nothing_is_written(promo, fake, keys, client,
                                                                                        staff, case, status, code):
    changes = {"scope": "product", "scope_ids": ["p-other"]} if case == "scope" else {}
    template = promo.coupon(**changes)
    holder = keys.headers() if case == "foreign" else promo.shop.headers
    coupon_id = promo.claim(template["id"], headers=holder)["id"] if case != "unknown" else str(uuid.uuid4())
    if case == "expired":
        client.patch(f"/api/promotions/coupons/{template['id']}", headers=staff,
                     json={"starts_at": iso(NOW - timedelta(days=2)), "ends_at": iso(NOW - timedelta(days=1))})
    if case == "withdrawn":
        assert client.delete(f"/api/promotions/coupons/{template['id']}", headers=staff).json["active"] is False
    promo.put(fake.sku(price=29900 if case == "below" else 39900), 1)
    assert promo.cart(coupon_id=coupon_id, expect=status)["error"]["code"] == code
    assert promo.checkout(coupon_id=coupon_id, expect=status)["error"]["code"] == code
    assert client.get(f"/api/orders?customer_id={promo.shop.customer_id}", headers=staff).json["total"] == 0
    assert len(promo.cart()["lines"]) == 1


def test_a_category_coupon_applies_to_the_goods_catalog_listed_in_that_category(promo, fake):
    sku = fake.sku(price=39900)
    category = str(uuid.uuid4())
    promo.shop.send(ProductListed(product_id=fake.skus[sku]["product_id"], name="Runner", category_id=category))
    coupon = promo.claim(promo.coupon(scope="category", scope_ids=[category], threshold=0, value=500)["id"])
    promo.put(sku, 1)
    assert promo.cart(coupon_id=coupon["id"])["coupon_discount"] == 500


def test_claims_stop_at_the_per_customer_limit_and_outside_the_window(promo):
    template = promo.coupon(per_customer_limit=2)
    promo.claim(template["id"])
    promo.claim(template["id"])
    assert promo.claim(template["id"], expect=409)["error"]["code"] == "coupon_limit_reached"
    later = promo.coupon(starts_at=iso(NOW + timedelta(days=1)), ends_at=iso(NOW + timedelta(days=2)))
    assert promo.claim(later["id"], expect=409)["error"]["code"] == "coupon_expired"
    assert promo.client.get(f"/api/promotions/coupons/{template['id']}", headers=promo.staff).json["claimed"] == 2


@pytest.mark.parametrize("change, field", [
    ({"kind": "percent", "value": 150}, "value"), ({"kind": "amount", "max_off": 100}, "max_off"),
    ({"scope": "category"}, "scope_ids"), ({"ends_at": iso(NOW - timedelta(days=1))}, "ends_at"),
    ({"value": -1}, "value"), ({"total_quantity": 0}, "total_quantity")])
def test_a_bad_coupon_template_is_refused_naming_the_field(client, staff, change, field):
    res = client.post("/api/promotions/coupons", json=coupon_body(**change), headers=staff)
    assert res.status_code == 422 and field in res.json["error"]["details"]["fields"]


def test_customers_cannot_manage_coupons_or_campaigns(client, shop):
    assert client.post("/api/promotions/coupons", json=coupon_body(), headers=shop.headers).status_code == 403
    assert client.post("/api/promotions/campaigns", json={}, headers=shop.headers).status_code == 403


# ---- campaigns -------------------------------------------------------------------------------
def test_member_price_and_full_reduction_combine_by_the_rule(promo, fake):
    promo.member("gold")
    promo.campaign(kind="reduction", tiers=[[30000, 3000], [50000, 6000]])
    promo.put(fake.sku(price=19900), 3)  # 59700, gold 5% → 56715 (2985 off), 满500减60 → 6000 more
    cart = promo.cart()
    assert (cart["promotion_discount"], cart["total"]) == (2985 + 6000, 59700 - 8985)


def test_a_flash_sale_price_applies_in_its_window_up_to_the_customers_limit(promo, fake, client, staff):
    sku = fake.sku(price=19900)
    sale = promo.campaign(kind="flash_price", sku_id=sku, price=9900, per_customer_limit=1)
    promo.member("gold")
    promo.put(sku, 1)
    line = promo.cart()["lines"][0]
    assert (line["flash_price"], line["campaign_id"], line["paid"]) == (9900, sale["id"], 9900)
    order = promo.checkout()
    assert (order["promotion_discount"], order["lines"][0]["unit_price"]) == (10000, 19900)

    promo.put(sku, 1)
    assert promo.checkout(expect=409)["error"]["code"] == "campaign_limit_reached"
    client.post(f"/api/orders/{order['id']}/cancel", headers=promo.shop.headers)
    promo.checkout()  # cancelling gave the unit back

    client.patch(f"/api/promotions/campaigns/{sale['id']}", headers=staff, json={"active": False})
    promo.put(sku, 1)
    assert promo.cart()["lines"][0]["flash_price"] is None and promo.cart()["promotion_discount"] == 995  # gold 5%


def test_an_order_naming_a_flash_sale_that_no_longer_prices_the_sku_is_refused(promo, fake, client, staff):
    sku = fake.sku(price=19900)
    sale = promo.campaign(kind="flash_price", sku_id=sku, price=9900, per_customer_limit=5)
    item = {"sku_id": sku, "quantity": 1, "campaign_id": sale["id"]}
    assert promo.shop.place(items=[item])["promotion_discount"] == 10000
    client.patch(f"/api/promotions/campaigns/{sale['id']}", headers=staff, json={
        "starts_at": iso(NOW - timedelta(days=2)), "ends_at": iso(NOW - timedelta(days=1))})
    refused = promo.shop.place(items=[item], expect=409)["error"]
    assert (refused["code"], refused["details"]["campaign_id"]) == ("campaign_not_active", sale["id"])


def test_the_unpaid_timeout_gives_back_the_coupon_and_the_flash_sale_units(promo, fake, db):
    sku = fake.sku(price=39900)
    promo.campaign(kind="flash_price", sku_id=sku, price=35000, per_customer_limit=1)
    coupon = promo.claim(promo.coupon()["id"])
    promo.put(sku, 1)
    order = promo.checkout(coupon_id=coupon["id"])
    while True:  # every unpaid order is past a timeout of -1 s, in batches of the oldest
        with db.transaction() as session:
            if not cancel_expired_orders(session, timeout=-1):
                break
    assert promo.shop.get(order["id"])["cancel_reason"] == "payment_timeout"
    assert _wallet(promo)[0]["status"] == "available"
    promo.put(sku, 1)
    assert promo.checkout(coupon_id=coupon["id"])["promotion_discount"] == 4900


def test_a_bad_campaign_is_refused_naming_the_field(client, staff):
    window = {"name": "x", "starts_at": iso(NOW), "ends_at": iso(NOW + timedelta(days=1))}
    for body, field in (({"kind": "reduction", "tiers": [[100, 200]]}, "tiers"),
                        ({"kind": "member_price", "tiers": {"gold": 0}}, "tiers"),
                        ({"kind": "flash_price", "sku_id": "s"}, "sku_id")):
        res = client.post("/api/promotions/campaigns", json={**window, **body}, headers=staff)
        assert res.status_code == 422 and field in res.json["error"]["details"]["fields"], res.json


# ---- points ----------------------------------------------------------------------------------
def test_points_above_the_balance_or_the_cap_are_refused_at_once(promo, fake):
    promo.member(balance=30000)
    promo.put(fake.sku(price=39900), 1)
    assert promo.cart(points=30001, expect=422)["error"]["code"] == "points_exceed_balance"
    refused = promo.checkout(points=20000, expect=422)["error"]
    assert (refused["code"], refused["details"]["max_points"]) == ("points_exceed_cap", 19950)
    assert promo.cart()["max_points"] == 19950


@pytest.mark.parametrize("first", ["stock", "points"])
def test_an_order_spending_points_awaits_payment_once_stock_and_points_are_held_in_either_order(promo, fake, db, first):
    promo.member(balance=5000)
    promo.put(fake.sku(price=39900), 1)
    order = promo.checkout(points=5000)
    assert (order["points_used"], order["points_discount"], order["total"]) == (5000, 5000, 39900 - 5000 + 1000)
    assert outbox_events(db, order["id"])[0]["data"]["lines"][0]["points"] == 5000
    held = PointsHeld(order_id=order["id"], customer_id=promo.shop.customer_id, points=5000, balance=0)
    reserved = StockReserved(order_id=order["id"], lines=[])
    one, two = (reserved, held) if first == "stock" else (held, reserved)
    promo.shop.send(one)
    assert promo.shop.get(order["id"])["status"] == "PENDING"
    promo.shop.send(two)
    assert promo.shop.get(order["id"])["status"] == "AWAITING_PAYMENT"


def test_points_rejected_cancels_the_order_and_gives_its_coupon_back(promo, fake):
    promo.member(balance=5000)
    coupon = promo.claim(promo.coupon()["id"])
    promo.put(fake.sku(price=39900), 1)
    order = promo.checkout(points=5000, coupon_id=coupon["id"])
    promo.shop.send(StockReserved(order_id=order["id"], lines=[]))
    promo.shop.send(PointsRejected(order_id=order["id"], customer_id=promo.shop.customer_id, points=5000,
                                   reason="balance 100 is below 5000"))
    got = promo.shop.get(order["id"])
    assert (got["status"], got["cancel_reason"]) == ("CANCELLED", "points_rejected: balance 100 is below 5000")
    assert _wallet(promo)[0]["status"] == "available"


def test_a_member_order_has_not_heard_of_is_asked_of_crm_once_and_kept(promo, fake):
    fake.memberships[promo.shop.headers["Authorization"]] = {"tier": "gold", "balance": 700, "version": 3}
    promo.put(fake.sku(price=10000), 1)
    assert (promo.cart()["points_balance"], promo.cart()["promotion_discount"]) == (700, 500)
    asked = [c for c in fake.calls if c.url.endswith("/api/crm/me/membership")]
    assert len(asked) == 1
    promo.member("gold", 200, version=2)  # an older change than the answer: ignored
    assert promo.cart()["points_balance"] == 700


def test_while_crm_is_down_a_new_member_orders_at_regular_prices_but_cannot_spend_points(promo, fake):
    fake.down.add("crm")
    promo.put(fake.sku(price=10000), 1)
    assert promo.cart()["points_balance"] == 0
    assert promo.checkout(points=100, expect=503)["error"]["code"] == "crm_unavailable"
    assert promo.checkout()["total"] == 11000


def test_a_late_membership_change_never_overwrites_a_newer_one(promo, fake):
    promo.member("gold", 100, version=2)
    promo.member("regular", 5, version=1)
    assert promo.cart()["points_balance"] == 100


def _wallet(promo) -> list[dict]:
    return promo.client.get("/api/promotions/me/coupons", headers=promo.shop.headers).json["items"]


def _sku_changed(fake, sku_id: str, sold_out: bool):
    sku = fake.skus[sku_id]
    return SkuChanged(sku_id=sku_id, product_id=sku["product_id"], product_name=sku["product_name"], code=sku["code"],
                      price=sku["price"], status="delisted" if sold_out else "listed", product_status="listed",
                      sold_out=sold_out, version=next(VERSIONS))
