"""Promotions on real processes (issue 10): a shopper fills a cart, claims a 满300减30 coupon,
spends points staff gave them, pays exactly the total, returns one line and gets back exactly that
line's paid share and its points."""
import uuid

from scenarios import new_customer, new_product

RETURNS = "/api/logistics/returns"


def test_a_cart_with_a_coupon_and_points_is_paid_and_a_returned_line_gives_back_its_share(platform, demo, admin):
    product = new_product(platform, demo, admin, stock=10, price=20000, skus=2)
    a, b = (sku["id"] for sku in product["skus"])
    admin.call("PATCH", f"/api/catalog/skus/{b}", json={"price": 15000})
    shopper = new_customer(platform, demo, "促销顾客")
    me = shopper.get("/api/auth/me")

    template = demo.offer_coupon(admin, total_quantity=10)
    coupon = shopper.post(f"/api/promotions/coupons/{template['id']}/claim", expect=201)
    admin.post(f"/api/crm/customers/{me['id']}/points", {"points": 5000, "reason": "e2e: points to spend"},
               expect=201)

    for sku_id in (a, b):
        shopper.call("PUT", f"/api/cart/items/{sku_id}", json={"quantity": 1}, expect=204)
    demo.wait_for("order's copy of the new price and the points",
                  lambda: (c := shopper.get("/api/cart"))["subtotal"] == 35000 and c["points_balance"] == 5000)
    (wallet,) = shopper.get("/api/promotions/me/coupons")["items"]
    assert (wallet["applies_to_cart"], wallet["cart_discount"]) == (True, 3000)
    query = f"coupon_id={coupon['id']}&points=5000&delivery_method_id=standard"
    cart = shopper.get(f"/api/cart?{query}")
    # 5000 points earned make the shopper gold in crm: 5% off as a member (ORDER_MEMBER_DISCOUNTS), then the coupon
    assert (cart["subtotal"], cart["promotion_discount"], cart["coupon_discount"], cart["points_discount"]) == (
        35000, 1750, 3000, 5000)

    order = shopper.post("/api/cart/checkout", {"shipping_address": demo.ADDRESS, "delivery_method_id": "standard",
                                                "coupon_id": coupon["id"], "points": 5000}, expect=201)
    assert order["total"] == cart["total"] == 35000 - 1750 - 3000 - 5000 + order["delivery_fee"]
    assert sum(ln["paid"] for ln in order["lines"]) + order["delivery_fee"] == order["total"]
    assert sum(ln["points"] for ln in order["lines"]) == 5000
    assert shopper.get("/api/cart")["lines"] == []

    demo.wait_for("stock and points held", demo.order_status(shopper, order["id"], "AWAITING_PAYMENT"))
    payment = shopper.post("/api/payments", {"order_id": order["id"], "method": "alipay"}, expect=201)
    assert payment["amount"] == order["total"]
    shopper.post(f"/api/payments/{payment['id']}/sandbox", {"outcome": "success"})
    demo.wait_for("PAID", demo.order_status(shopper, order["id"], "PAID"))
    assert shopper.get("/api/promotions/me/coupons")["items"][0]["status"] == "used"

    admin.post(f"/api/orders/{order['id']}/process")
    demo.wait_for("PROCESSING", demo.order_status(shopper, order["id"], "PROCESSING"))
    shipment = demo.wait_for("logistics to accept the shipment", lambda: demo._try_ship(
        admin, order["id"], f"SF{uuid.uuid4().int % 10**13:013d}"))
    demo.wait_for("SHIPPED", demo.order_status(shopper, order["id"], "SHIPPED"))
    shopper.post(f"/api/logistics/shipments/{shipment['id']}/sign")
    demo.wait_for("COMPLETED", demo.order_status(shopper, order["id"], "COMPLETED"))

    line_b = next(ln for ln in order["lines"] if ln["sku_id"] == b)
    ret = shopper.post(RETURNS, {"order_id": order["id"], "reason": "七天无理由",
                                 "lines": [{"sku_id": b, "quantity": 1}]}, expect=201)
    assert (ret["amount"], ret["points"]) == (line_b["paid"], line_b["points"])
    base = f"{RETURNS}/{ret['id']}"
    admin.post(f"{base}/approve")
    shopper.post(f"{base}/ship", {"carrier": "sf", "tracking_number": f"SF{uuid.uuid4().int % 10**13:013d}"})
    admin.post(f"{base}/receive")

    paid = demo.wait_for("the refund", lambda: (p := shopper.get(f"/api/payments/{payment['id']}"))["status"]
                         == "partially_refunded" and p)
    assert paid["refunded_amount"] == line_b["paid"]
    back = demo.wait_for("the points given back", lambda: next(
        (e for e in shopper.get("/api/crm/me/membership")["ledger"] if e["kind"] == "return"), None))
    assert back["points"] == line_b["points"]
    demo.wait_for("the refund in the order", lambda: shopper.get(f"/api/orders/{order['id']}")["refunded"]
                  == line_b["paid"])


def test_the_demo_shows_a_cart_a_coupon_and_points(platform, demo):
    story = demo.run_story(platform.gateway, *platform.admin, say=lambda *_: None)
    shown = demo.run_promotions(platform.gateway, story, say=lambda *_: None)
    cart, order = shown["cart"], shown["order"]
    assert (cart["coupon_discount"], cart["points_discount"], shown["coupon"]["status"]) == (3000, 100, "used")
    assert shown["payment"]["amount"] == order["total"] == 39900 - cart["promotion_discount"] - 3100 + cart[
        "delivery_fee"]
