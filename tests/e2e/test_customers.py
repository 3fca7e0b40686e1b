"""Issue 6's customer-side proofs, through the gateway on real processes: accounts and tokens,
the address book at checkout, purchase history, points and tiers, reviews and the product's
rating, a customer service thread, and what one customer never sees of another."""
import uuid

import pytest

from scenarios import completed_order, new_customer, new_product, paid_order, shipped_order

ADDRESS = {"name": "王五", "phone": "13700137000", "province": "上海市", "city": "上海市", "district": "浦东新区",
           "detail": "世纪大道 1 号", "postal_code": "200120"}


@pytest.fixture(scope="module")
def staff(platform, demo, admin):
    """A fresh staff member (not the admin), so their ticket queue holds only this file's tickets."""
    email = f"staff-{uuid.uuid4().hex[:8]}@e2e.mall"
    admin.post("/api/auth/staff", {"email": email, "password": "staff-pass-2026", "name": "客服小李"}, expect=201)
    return demo.login(platform.gateway, email, "staff-pass-2026")


def history_of(customer, order_id, **expected):
    """crm's purchase-history entry of an order once it shows `expected`, else None."""
    entry = next((h for h in customer.get("/api/crm/me/orders?per_page=100")["items"] if h["order_id"] == order_id),
                 None)
    return entry if entry and all(entry[k] == v for k, v in expected.items()) else None


def test_refresh_rotates_the_tokens_and_logout_revokes_them(platform, demo):
    anon = demo.Client(platform.gateway)
    login = {"email": f"auth-{uuid.uuid4().hex[:10]}@example.com", "password": "s3cret-pass"}
    anon.post("/api/auth/register", login | {"name": "Token"}, expect=201)
    first = anon.post("/api/auth/login", login)
    second = anon.post("/api/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert second["refresh_token"] != first["refresh_token"] and second["token_type"] == "Bearer"
    assert demo.Client(platform.gateway, second["access_token"]).get("/api/auth/me")["email"] == login["email"]
    err = anon.post("/api/auth/refresh", {"refresh_token": first["refresh_token"]}, expect=401)
    assert err["error"]["code"] == "invalid_refresh_token"
    # A spent token presented again means it leaked: the tokens rotated from it are revoked too.
    anon.post("/api/auth/refresh", {"refresh_token": second["refresh_token"]}, expect=401)

    third = anon.post("/api/auth/login", login)
    holder = demo.Client(platform.gateway, third["access_token"])
    holder.get("/api/orders")
    anon.post("/api/auth/logout", {"refresh_token": third["refresh_token"]}, expect=204)
    err = anon.post("/api/auth/refresh", {"refresh_token": third["refresh_token"]}, expect=401)
    assert err["error"]["code"] == "invalid_refresh_token"
    # The access token ends with the login: the gateway refuses it (order alone could not know).
    err = demo.wait_for("the gateway to refuse the logged-out token",
                        lambda: holder.get("/api/orders", expect=(200, 401)).get("error"), timeout=10)
    assert err["code"] == "token_revoked"


def test_an_order_keeps_a_copy_of_the_saved_address_it_was_placed_with(platform, demo, customer, sku):
    office = customer.post("/api/crm/me/addresses", ADDRESS | {"name": "办公室"}, expect=201)
    home = customer.post("/api/crm/me/addresses", ADDRESS | {"is_default": True}, expect=201)
    book = customer.get("/api/crm/me/addresses")
    assert [(a["id"], a["is_default"]) for a in book] == [(home["id"], True), (office["id"], False)]

    order = customer.post("/api/orders", {"items": [{"sku_id": sku["id"], "quantity": 1}], "address_id": home["id"],
                                          "delivery_method_id": "standard"}, expect=201)
    assert order["shipping_address"] == ADDRESS
    customer.call("PATCH", f"/api/crm/me/addresses/{home['id']}", json={"detail": "世纪大道 2 号"})
    assert customer.get(f"/api/crm/me/addresses/{home['id']}")["detail"] == "世纪大道 2 号"
    assert customer.get(f"/api/orders/{order['id']}")["shipping_address"] == ADDRESS

    stranger = new_customer(platform, demo)
    theirs = stranger.post("/api/crm/me/addresses", ADDRESS, expect=201)
    err = customer.post("/api/orders", {"items": [{"sku_id": sku["id"], "quantity": 1}], "address_id": theirs["id"],
                                        "delivery_method_id": "standard"}, expect=422)
    assert err["error"]["code"] == "validation_error" and "address_id" in err["error"]["details"]["fields"]


def test_the_purchase_history_agrees_with_the_orders_after_a_cancel_and_a_refund(platform, demo, customer, sku,
                                                                                  staff):
    cancelled = demo.place_order(customer, sku["id"], 1)
    customer.post(f"/api/orders/{cancelled['id']}/cancel", {"reason": "ordered by mistake"})
    refunded = paid_order(demo, customer, [(sku["id"], 2)])
    staff.post(f"/api/payments/{refunded['payment_id']}/refunds", {"amount": 3000}, expect=201)
    demo.wait_for("the refund on the order", lambda: customer.get(f"/api/orders/{refunded['id']}")["refunded"] == 3000)

    for order_id in (cancelled["id"], refunded["id"]):
        order = customer.get(f"/api/orders/{order_id}")
        entry = demo.wait_for(f"crm to agree on {order_id}", lambda o=order: history_of(
            customer, o["id"], status=o["status"], refunded=o["refunded"]))
        assert (entry["total"], entry["currency"], entry["cancel_reason"]) == (
            order["total"], order["currency"], order["cancel_reason"])
        assert [(ln["sku_id"], ln["quantity"], ln["unit_price"]) for ln in entry["lines"]] == [
            (ln["sku_id"], ln["quantity"], ln["unit_price"]) for ln in order["lines"]]
    statuses = {h["order_id"]: (h["status"], h["refunded"]) for h in customer.get("/api/crm/me/orders")["items"]}
    assert statuses == {cancelled["id"]: ("CANCELLED", 0), refunded["id"]: ("PAID", 3000)}


def test_points_are_earned_on_completion_reversed_on_a_refund_and_adjusted_by_staff(platform, demo, admin, customer,
                                                                                     staff):
    # Default thresholds: silver from 1000 points, at 1 point per yuan. One order of 1010 yuan.
    pricey = new_product(platform, demo, admin, price=100000)["skus"][0]
    order = completed_order(demo, admin, customer, [(pricey["id"], 1)])
    assert order["total"] == 101000
    earned = demo.wait_for("points", lambda: (m := customer.get("/api/crm/me/membership"))["points"] and m)
    assert (earned["points"], earned["tier"], earned["tier_label"]) == (1010, "silver", "银卡")
    assert (earned["next_tier"], earned["points_to_next"]) == ("gold", 5000 - 1010)
    assert [(e["order_id"], e["points"], e["reason"]) for e in earned["ledger"]] == [
        (order["id"], 1010, "order_completed")]

    staff.post(f"/api/payments/{order['payment_id']}/refunds", {"amount": 50500}, expect=201)
    reversed_ = demo.wait_for("points reversed", lambda: (m := customer.get("/api/crm/me/membership"))["points"]
                              == 1010 - 505 and m)
    assert reversed_["tier"] == "regular" and reversed_["ledger"][0]["reason"] == "refund"

    me = customer.get("/api/crm/me")
    entry = staff.post(f"/api/crm/customers/{me['id']}/points", {"points": 495, "reason": "延迟发货补偿"}, expect=201)
    assert (entry["points"], entry["reason"]) == (495, "延迟发货补偿")
    adjusted = customer.get("/api/crm/me/membership")
    assert (adjusted["points"], adjusted["tier"]) == (1000, "silver")
    assert adjusted["ledger"][0]["reason"] == "延迟发货补偿"
    err = staff.post(f"/api/crm/customers/{me['id']}/points", {"points": -1001, "reason": "too much"}, expect=409)
    assert err["error"]["code"] == "insufficient_points"
    err = staff.post(f"/api/crm/customers/{me['id']}/points", {"points": 10}, expect=422)
    assert "reason" in err["error"]["details"]["fields"]


def test_reviews_need_a_completed_order_and_move_the_products_rating(platform, demo, admin, customer, staff):
    product = new_product(platform, demo, admin, skus=2)
    s1, s2 = (s["id"] for s in product["skus"])
    order, shipment = shipped_order(demo, admin, customer, [(s1, 1), (s2, 1)])
    review = {"order_id": order["id"], "sku_id": s1, "rating": 5, "text": "很好"}
    err = customer.post("/api/crm/reviews", review, expect=409)
    assert err["error"]["code"] == "order_not_completed"

    customer.post(f"/api/logistics/shipments/{shipment['id']}/sign")
    demo.wait_for("crm to hear COMPLETED", lambda: history_of(customer, order["id"], status="COMPLETED"))
    first = customer.post("/api/crm/reviews", review, expect=201)
    second = customer.post("/api/crm/reviews", review | {"sku_id": s2, "rating": 4}, expect=201)
    assert customer.post("/api/crm/reviews", review, expect=409)["error"]["code"] == "review_exists"

    def rating(count, average):
        return lambda: customer.get(f"/api/catalog/products/{product['id']}").get("rating") \
            == {"count": count, "average": average}

    demo.wait_for("rating 4.5 of 2", rating(2, 4.5))
    edited = customer.call("PATCH", f"/api/crm/reviews/{second['id']}", json={"rating": 2, "text": "开胶了"})
    assert (edited["rating"], edited["text"]) == (2, "开胶了")
    demo.wait_for("rating 3.5 of 2", rating(2, 3.5))
    hidden = staff.post(f"/api/crm/reviews/{first['id']}/hide", {"reason": "广告"})
    assert hidden["status"] == "hidden"
    demo.wait_for("rating 2.0 of 1", rating(1, 2.0))
    assert [r["id"] for r in customer.get(f"/api/crm/reviews?sku_id={s1}")["items"]] == []
    err = customer.call("PATCH", f"/api/crm/reviews/{first['id']}", json={"rating": 1}, expect=403)
    assert err["error"]["code"] == "review_not_editable"


def test_a_ticket_thread_between_a_customer_and_staff(platform, demo, customer, staff):
    ticket = customer.post("/api/crm/tickets", {"subject": "快递三天没动", "category": "delivery",
                                                "message": "物流一直没有更新"}, expect=201)
    assert ticket["status"] == "open" and ticket["customer_id"] == customer.get("/api/crm/me")["id"]
    path = f"/api/crm/tickets/{ticket['id']}"

    def queue(**filters):
        return [t["id"] for t in staff.get("/api/crm/tickets", params={"per_page": 100} | filters)["items"]]

    assert ticket["id"] in queue(status="open", assigned="unassigned")
    staff.post(f"{path}/assign")
    assert queue(assigned="me") == [ticket["id"]]
    assert staff.post(f"{path}/messages", {"body": "已联系快递，请稍候"}, expect=201)["status"] == "pending_customer"
    assert queue(assigned="me", status="open") == []
    assert customer.post(f"{path}/messages", {"body": "好的，谢谢"}, expect=201)["status"] == "open"
    err = customer.post(f"{path}/status", {"status": "resolved"}, expect=409)
    assert err["error"]["code"] == "illegal_ticket_transition"
    assert staff.post(f"{path}/status", {"status": "resolved"})["status"] == "resolved"
    assert queue(assigned="me", status="resolved") == [ticket["id"]]
    closed = customer.post(f"{path}/status", {"status": "closed"})
    assert closed["status"] == "closed"
    assert [(m["author_role"], m["body"]) for m in closed["messages"]] == [
        ("customer", "物流一直没有更新"), ("staff", "已联系快递，请稍候"), ("customer", "好的，谢谢")]
    assert customer.post(f"{path}/messages", {"body": "还有一件事"}, expect=409)["error"]["code"] == "ticket_closed"
    assert [t["id"] for t in customer.get("/api/crm/tickets")["items"]] == [ticket["id"]]


def test_a_customer_never_sees_another_customers_data_nor_uses_staff_endpoints(platform, demo, sku):
    a, b = new_customer(platform, demo, "甲"), new_customer(platform, demo, "乙")
    a_id, b_id = a.get("/api/crm/me")["id"], b.get("/api/crm/me")["id"]
    address = a.post("/api/crm/me/addresses", ADDRESS, expect=201)
    ticket = a.post("/api/crm/tickets", {"subject": "发票", "category": "other", "message": "需要发票"}, expect=201)
    order = demo.place_order(a, sku["id"], 1)
    demo.wait_for("AWAITING_PAYMENT", demo.order_status(a, order["id"], "AWAITING_PAYMENT"))
    payment = a.post("/api/payments", {"order_id": order["id"], "method": "alipay"}, expect=201)
    own = demo.place_order(b, sku["id"], 1)

    assert b.get("/api/crm/me")["id"] == b_id != a_id
    assert b.get("/api/crm/me/addresses") == []
    for method in ("GET", "PATCH", "DELETE"):
        err = b.call(method, f"/api/crm/me/addresses/{address['id']}", json={} if method == "PATCH" else None,
                     expect=404)
        assert err["error"]["code"] == "address_not_found"
    demo.wait_for("A's purchase history", lambda: history_of(a, order["id"]))
    demo.wait_for("B's purchase history", lambda: history_of(b, own["id"]))
    assert [h["order_id"] for h in b.get("/api/crm/me/orders")["items"]] == [own["id"]]
    assert b.get("/api/crm/tickets")["items"] == []
    for method, path, body in (("GET", "", None), ("POST", "/messages", {"body": "hi"}),
                               ("POST", "/status", {"status": "closed"})):
        err = b.call(method, f"/api/crm/tickets/{ticket['id']}{path}", json=body, expect=404)
        assert err["error"]["code"] == "ticket_not_found"
    assert b.get(f"/api/orders/{order['id']}", expect=404)["error"]["code"] == "order_not_found"
    assert b.post(f"/api/orders/{order['id']}/cancel", expect=404)["error"]["code"] == "order_not_found"
    assert [o["id"] for o in b.get(f"/api/orders?customer_id={a_id}")["items"]] == [own["id"]]
    assert b.get(f"/api/payments/{payment['id']}", expect=404)["error"]["code"] == "payment_not_found"
    err = b.post(f"/api/payments/{payment['id']}/sandbox", {"outcome": "success"}, expect=404)
    assert err["error"]["code"] == "payment_not_found"
    assert b.get(f"/api/payments?order_id={order['id']}")["total"] == 0
    err = b.post("/api/payments", {"order_id": order["id"], "method": "alipay"}, expect=404)
    assert err["error"]["code"] == "order_not_found"

    for method, path, body in (
            ("GET", f"/api/crm/customers/{a_id}", None),
            ("POST", f"/api/crm/customers/{b_id}/points", {"points": 1000, "reason": "me"}),
            ("POST", f"/api/crm/tickets/{ticket['id']}/assign", {}),
            ("POST", f"/api/crm/reviews/{uuid.uuid4()}/hide", {"reason": "x"}),
            ("POST", f"/api/orders/{order['id']}/process", {}),
            ("POST", f"/api/payments/{payment['id']}/refunds", {"amount": 100}),
            ("POST", "/api/auth/staff", {"email": "x@example.com", "password": "s3cret-pass", "name": "x"})):
        assert b.call(method, path, json=body, expect=403)["error"]["code"] == "forbidden", path
    assert b.get("/api/crm/me/membership")["points"] == 0
    assert a.get(f"/api/orders/{order['id']}")["status"] == "AWAITING_PAYMENT"
