"""Returns (售后, 七天无理由退货) through the gateway on real processes: a customer returns one unit of
a completed order; staff approve, the parcel comes back, staff receive it; payment refunds it, the
order and the points follow, catalog puts the unit back on sale. And a return staff refuse."""
import uuid

import pytest

from scenarios import completed_order, new_customer, new_product

RETURNS = "/api/logistics/returns"


@pytest.fixture(scope="module")
def bought(platform, demo, admin):
    """A customer's COMPLETED order of 2 units of one SKU and 1 of another, at 100 yuan each."""
    product = new_product(platform, demo, admin, stock=10, price=10000, skus=2)
    customer = new_customer(platform, demo, "退货顾客")
    a, b = (sku["id"] for sku in product["skus"])
    order = completed_order(demo, admin, customer, [(a, 2), (b, 1)])
    return {"customer": customer, "order": order, "product_id": product["id"], "a": a, "b": b}


def stock(admin, product_id, sku_id) -> int:
    return next(s["stock"] for s in admin.get(f"/api/catalog/products/{product_id}")["skus"] if s["id"] == sku_id)


def ask(client, order_id, lines, expect=201):
    return client.post(RETURNS, {"order_id": order_id, "reason": "七天无理由",
                                 "lines": [{"sku_id": s, "quantity": q} for s, q in lines]}, expect=expect)


def test_a_returned_unit_is_refunded_its_points_reversed_and_put_back_on_sale(platform, demo, admin, bought):
    c, order, a = bought["customer"], bought["order"], bought["a"]
    earned = demo.wait_for("points", lambda: c.get("/api/crm/me/membership")["points"])
    before = stock(admin, bought["product_id"], a)

    stranger = new_customer(platform, demo, "路人")
    assert ask(stranger, order["id"], [(a, 1)], expect=404)["error"]["code"] == "order_not_found"
    err = ask(c, order["id"], [(a, 3)], expect=422)
    assert err["error"]["code"] == "return_exceeds_purchase"

    ret = ask(c, order["id"], [(a, 1)])
    assert (ret["status"], ret["amount"], ret["lines"][0]["unit_price"]) == ("requested", 10000, 10000)
    base = f"{RETURNS}/{ret['id']}"
    assert admin.post(f"{base}/approve")["status"] == "approved"
    parcel = {"carrier": "sf", "tracking_number": f"SF{uuid.uuid4().int % 10**13:013d}"}
    assert c.post(f"{base}/ship", parcel)["status"] == "shipped"
    assert admin.post(f"{base}/receive")["status"] == "received"

    payment_id = order["payment_id"]
    paid = demo.wait_for("refund", lambda: (p := c.get(f"/api/payments/{payment_id}"))["status"]
                         == "partially_refunded" and p)
    assert paid["refunded_amount"] == 10000
    (refund,) = admin.get(f"/api/payments/{payment_id}/refunds")
    assert (refund["amount"], refund["return_id"]) == (10000, ret["id"])
    demo.wait_for("refund in the order", lambda: c.get(f"/api/orders/{order['id']}")["refunded"] == 10000)
    reversed_ = demo.wait_for("points reversed", lambda: (m := c.get("/api/crm/me/membership"))["points"]
                              < earned and m)
    assert (order["total"], earned, reversed_["points"]) == (31000, 310, 210)  # 1 point a yuan, 100 of 310 back
    assert reversed_["ledger"][0]["reason"] == "refund"
    done = demo.wait_for("refunded", lambda: (r := c.get(base))["status"] == "refunded" and r)
    assert done["refund_id"] == refund["id"]
    demo.wait_for("stock back", lambda: stock(admin, bought["product_id"], a) == before + 1)


def test_a_refused_return_ends_there_and_frees_its_units(platform, demo, admin, bought):
    c, order, b = bought["customer"], bought["order"], bought["b"]
    ret = ask(c, order["id"], [(b, 1)])
    assert ask(c, order["id"], [(b, 1)], expect=422)["error"]["code"] == "return_exceeds_purchase"
    refused = admin.post(f"{RETURNS}/{ret['id']}/refuse", {"reason": "商品已拆封使用"})
    assert (refused["status"], refused["refusal_reason"]) == ("refused", "商品已拆封使用")
    parcel = {"carrier": "sf", "tracking_number": f"SF{uuid.uuid4().int % 10**13:013d}"}
    err = c.post(f"{RETURNS}/{ret['id']}/ship", parcel, expect=409)
    assert err["error"]["code"] == "illegal_transition"
    assert c.get(f"{RETURNS}/{ret['id']}")["status"] == "refused"
    listed = admin.get(f"{RETURNS}?status=refused&order_id={order['id']}")
    assert [r["id"] for r in listed["items"]] == [ret["id"]] and listed["total"] == 1
    mine = c.get(RETURNS)["items"]
    assert ret["id"] in [r["id"] for r in mine] and {r["customer_id"] for r in mine} == {ret["customer_id"]}
    assert ask(c, order["id"], [(b, 1)])["status"] == "requested"  # the refused one no longer holds the unit
