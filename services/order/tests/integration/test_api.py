"""order's HTTP API against real PostgreSQL, with catalog and logistics stubbed (conftest)."""
import uuid

import pytest

from mall_shared.events import PaymentConfirmed, StockReserved
from mall_shared.testing import outbox_events

# The address the `shop` fixture orders with (conftest.py).
ADDRESS = {"name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
           "district": "西湖区", "detail": "文三路 100 号", "postal_code": "310000"}


def count_orders(client, staff, customer_id):
    return client.get(f"/api/orders?customer_id={customer_id}", headers=staff).json["total"]


def test_placing_an_order_prices_it_from_catalog_and_logistics(shop, db, fake):
    s42, s41 = fake.sku(price=39900, size="42"), fake.sku(price=29900, size="41")
    order = shop.place((s42, 2), (s41, 1))
    assert order["status"] == "PENDING" and order["customer_id"] == shop.customer_id
    assert [(ln["sku_id"], ln["quantity"], ln["unit_price"], ln["line_total"]) for ln in order["lines"]] == [
        (s42, 2, 39900, 79800), (s41, 1, 29900, 29900)]
    assert order["lines"][0]["product_name"] == "Runner" and order["lines"][0]["attributes"] == {"size": "42"}
    assert (order["subtotal"], order["delivery_fee"], order["total"]) == (109700, 1000, 110700)
    assert order["shipping_address"] == ADDRESS and order["delivery_method_id"] == "standard"
    assert [(h["status"], h["reason"]) for h in order["history"]] == [("PENDING", "placed")]
    (placed,) = outbox_events(db, order["id"])
    assert placed["type"] == "OrderPlaced" and placed["source"] == "mall/order"
    data = placed["data"]
    assert data["lines"] == [
        {"sku_id": s42, "quantity": 2, "unit_price": 39900, "discount": 0, "paid": 79800, "points": 0},
        {"sku_id": s41, "quantity": 1, "unit_price": 29900, "discount": 0, "paid": 29900, "points": 0}]
    assert (data["promotion_discount"], data["coupon_discount"], data["coupon_id"], data["points_used"]) == (
        0, 0, None, 0)
    assert (data["total"], data["subtotal"], data["delivery_fee"]) == (110700, 109700, 1000)
    assert data["shipping_address"] == ADDRESS and data["delivery_method_id"] == "standard"


def test_lines_of_the_same_sku_are_merged(shop, fake):
    sku = fake.sku()
    order = shop.place((sku, 1), (sku, 2))
    assert [(ln["sku_id"], ln["quantity"]) for ln in order["lines"]] == [(sku, 3)]


def test_a_client_cannot_set_a_price(shop, fake):
    body = {"items": [{"sku_id": fake.sku(), "quantity": 1, "unit_price": 1}], "shipping_address": ADDRESS,
            "delivery_method_id": "standard"}
    res = shop.client.post("/api/orders", json=body, headers=shop.headers)
    assert res.status_code == 422 and "items" in res.json["error"]["details"]["fields"]


@pytest.mark.parametrize("change, field", [
    ({"items": []}, "items"),
    ({"items": [{"sku_id": "x", "quantity": 0}]}, "items"),
    ({"items": [{"sku_id": "x", "quantity": 100}]}, "items"),
    ({"items": [{"sku_id": "x", "quantity": 60}, {"sku_id": "x", "quantity": 40}]}, "items"),
    ({"items": [{"sku_id": str(i), "quantity": 1} for i in range(51)]}, "items"),
    ({"shipping_address": {**ADDRESS, "phone": "12345"}}, "shipping_address"),
    ({"shipping_address": {**ADDRESS, "postal_code": "abc"}}, "shipping_address"),
    ({"shipping_address": {k: v for k, v in ADDRESS.items() if k != "city"}}, "shipping_address"),
    ({"delivery_method_id": ""}, "delivery_method_id"),
    ({"delivery_method_id": None}, "delivery_method_id"),
])
def test_bad_order_input_is_refused_naming_the_field(shop, client, staff, change, field):
    body = {"items": [{"sku_id": "x", "quantity": 1}], "shipping_address": ADDRESS,
            "delivery_method_id": "standard", **change}
    res = client.post("/api/orders", json=body, headers=shop.headers)
    assert res.status_code == 422, res.json
    assert res.json["error"]["code"] == "validation_error"
    assert field in res.json["error"]["details"]["fields"]
    assert count_orders(client, staff, shop.customer_id) == 0


def test_a_phone_with_the_country_code_is_accepted_and_stored_as_eleven_digits(shop):
    order = shop.place(shipping_address={**ADDRESS, "phone": "+86 138-0013-8000"})
    assert order["shipping_address"]["phone"] == "13800138000"


def test_an_unknown_or_inactive_delivery_method_is_a_validation_error(shop, fake):
    fake.methods["closed"] = {"id": "closed", "name": "Closed", "fee": 0, "active": False}
    fake.methods["north"] = {"id": "north", "name": "North only", "fee": 0, "active": True, "regions": ["北京市"]}
    for method_id in ("nope", "closed", "north"):
        res = shop.place(delivery_method_id=method_id, expect=422)
        assert list(res["error"]["details"]["fields"]) == ["delivery_method_id"]


def test_unavailable_skus_are_refused_by_name_and_nothing_is_written(shop, fake, client, staff):
    good, delisted, hidden = fake.sku(), fake.sku(status="delisted"), fake.sku(product_status="delisted")
    unknown = str(uuid.uuid4())
    res = shop.place((good, 1), (delisted, 1), (hidden, 1), (unknown, 1), expect=409)
    assert res["error"]["code"] == "sku_unavailable"
    assert res["error"]["details"]["sku_ids"] == [delisted, hidden, unknown]
    assert count_orders(client, staff, shop.customer_id) == 0


def test_asking_for_more_than_is_in_stock_is_left_to_catalogs_reservation(shop, fake):
    """order's copy says only whether a SKU is sold out: catalog, the authority on stock, decides."""
    order = shop.place((fake.sku(stock=3), 4))
    assert order["status"] == "PENDING"


@pytest.mark.parametrize("service, how", [("catalog", "down"), ("logistics", "down"), ("catalog", "broken"),
                                          ("logistics", "broken")])
def test_a_service_that_is_down_or_failing_gives_a_503_and_nothing_is_written(shop, fake, client, staff, service,
                                                                              how):
    method_id = f"m-{uuid.uuid4().hex[:8]}"  # neither it nor the SKU has reached order's copies yet
    fake.methods[method_id] = fake.methods["standard"] | {"id": method_id}
    getattr(fake, how).add(service)
    res = shop.place(delivery_method_id=method_id, expect=503)
    assert res["error"]["code"] == f"{service}_unavailable"
    assert count_orders(client, staff, shop.customer_id) == 0


def test_anonymous_callers_are_refused_before_the_body_is_read(client):
    res = client.post("/api/orders", json={"items": "nope"})
    assert res.status_code == 401 and res.json["error"]["code"] == "unauthorized"


def test_another_customer_cannot_see_or_cancel_an_order(shop, client, keys):
    order = shop.place()
    stranger = keys.headers()
    for res in (client.get(f"/api/orders/{order['id']}", headers=stranger),
                client.post(f"/api/orders/{order['id']}/cancel", headers=stranger)):
        assert res.status_code == 404 and res.json["error"]["code"] == "order_not_found"
    assert client.get("/api/orders", headers=stranger).json["total"] == 0
    assert shop.get(order["id"])["status"] == "PENDING"


def test_customers_list_their_own_orders_newest_first(shop, client):
    first, second = shop.place(), shop.place()
    res = client.get("/api/orders?per_page=1", headers=shop.headers).json
    assert (res["total"], res["page"], res["per_page"]) == (2, 1, 1)
    assert [o["id"] for o in res["items"]] == [second["id"]]
    res = client.get("/api/orders?per_page=1&page=2", headers=shop.headers).json
    assert [o["id"] for o in res["items"]] == [first["id"]]


def test_staff_filter_orders_by_customer_status_and_date(shop, client, staff):
    pending, awaiting = shop.place(), shop.place()
    shop.send(StockReserved(order_id=awaiting["id"], lines=[]))
    base = f"/api/orders?customer_id={shop.customer_id}"
    assert client.get(base, headers=staff).json["total"] == 2
    found = client.get(base + "&status=AWAITING_PAYMENT", headers=staff).json
    assert [o["id"] for o in found["items"]] == [awaiting["id"]]
    day = pending["created_at"][:10]
    assert client.get(f"{base}&created_from={day}&created_to={day}", headers=staff).json["total"] == 2
    assert client.get(f"{base}&created_to=2000-01-01", headers=staff).json["total"] == 0
    assert client.get(f"{base}&created_from=2999-01-01T00:00:00Z", headers=staff).json["total"] == 0
    res = client.get(f"{base}&created_from=yesterday", headers=staff)
    assert res.status_code == 422 and "created_from" in res.json["error"]["details"]["fields"]


def test_a_customers_customer_id_filter_cannot_widen_their_view(shop, client, keys):
    shop.place()
    assert client.get(f"/api/orders?customer_id={shop.customer_id}", headers=keys.headers()).json["total"] == 0


def test_only_staff_may_process_an_order(shop, client):
    order = shop.place()
    res = client.post(f"/api/orders/{order['id']}/process", headers=shop.headers)
    assert res.status_code == 403 and res.json["error"]["code"] == "forbidden"


def test_processing_an_unpaid_order_is_an_illegal_transition_and_changes_nothing(shop, client, staff, db):
    order = shop.place()
    res = client.post(f"/api/orders/{order['id']}/process", headers=staff)
    assert res.status_code == 409 and res.json["error"]["code"] == "illegal_transition"
    assert res.json["error"]["details"] == {"status": "PENDING", "requested": "PROCESSING"}
    assert shop.get(order["id"])["history"] == order["history"]
    assert [e["type"] for e in outbox_events(db, order["id"])] == ["OrderPlaced"]


def test_staff_process_a_paid_order(shop, client, staff, db):
    order = shop.place()
    shop.send(StockReserved(order_id=order["id"], lines=[]))
    shop.send(PaymentConfirmed(payment_id="p", order_id=order["id"], method="alipay", amount=order["total"]))
    res = client.post(f"/api/orders/{order['id']}/process", headers=staff)
    assert res.status_code == 200 and res.json["status"] == "PROCESSING"
    assert res.json["history"][-1]["actor"].startswith("staff:")
    last = outbox_events(db, order["id"])[-1]
    assert (last["type"], last["data"]["status"], last["data"]["previous_status"]) == (
        "OrderStatusChanged", "PROCESSING", "PAID")


def test_the_customer_cancels_before_shipment_and_cannot_cancel_twice(shop, client, db):
    order = shop.place()
    res = client.post(f"/api/orders/{order['id']}/cancel", headers=shop.headers)
    assert res.status_code == 200 and res.json["status"] == "CANCELLED"
    assert res.json["cancel_reason"] == "cancelled_by_customer"
    assert [e["type"] for e in outbox_events(db, order["id"])] == ["OrderPlaced", "OrderStatusChanged",
                                                                   "OrderCancelled"]
    again = client.post(f"/api/orders/{order['id']}/cancel", headers=shop.headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "illegal_transition"
    assert len(outbox_events(db, order["id"])) == 3


def test_staff_cancel_with_a_reason(shop, client, staff):
    order = shop.place()
    res = client.post(f"/api/orders/{order['id']}/cancel", json={"reason": "address unreachable"}, headers=staff)
    assert res.status_code == 200 and res.json["cancel_reason"] == "address unreachable"
    assert res.json["history"][-1]["actor"].startswith("staff:")


def test_a_too_long_cancel_reason_is_refused(shop, client):
    order = shop.place()
    res = client.post(f"/api/orders/{order['id']}/cancel", json={"reason": "x" * 201}, headers=shop.headers)
    assert res.status_code == 422 and "reason" in res.json["error"]["details"]["fields"]
    assert shop.get(order["id"])["status"] == "PENDING"


# ---- a saved address (crm's address book) ----------------------------------------------------
def test_an_order_placed_with_a_saved_address_keeps_its_own_copy(shop, fake, db):
    address_id = fake.address(shop.headers, name="李四", phone="+86 139-0013-9000", postal_code=None)
    order = shop.place(address_id=address_id)
    copy = {**ADDRESS, "name": "李四", "phone": "13900139000", "postal_code": None}
    assert order["shipping_address"] == copy
    (crm_call,) = [c for c in fake.calls if "/api/crm/me/addresses" in c.url]
    assert crm_call.url.endswith(f"/api/crm/me/addresses/{address_id}")
    assert crm_call.headers["Authorization"] == shop.headers["Authorization"]
    (placed,) = outbox_events(db, order["id"])
    assert placed["data"]["shipping_address"] == copy
    fake.addresses[address_id][1]["detail"] = "搬家了"  # edited in crm afterwards
    assert shop.get(order["id"])["shipping_address"] == copy


def test_an_address_that_is_not_in_the_customers_book_is_a_validation_error(shop, fake, keys, client, staff):
    someone_elses = fake.address(keys.headers())
    for address_id in (someone_elses, str(uuid.uuid4())):
        res = shop.place(address_id=address_id, expect=422)
        assert res["error"]["code"] == "validation_error"
        assert list(res["error"]["details"]["fields"]) == ["address_id"]
    assert count_orders(client, staff, shop.customer_id) == 0


def test_a_saved_address_is_held_to_the_checkout_rules(shop, fake):
    res = shop.place(address_id=fake.address(shop.headers, phone="010-12345678"), expect=422)
    assert res["error"]["code"] == "validation_error"
    assert "phone" in res["error"]["details"]["fields"]["address_id"][0]


@pytest.mark.parametrize("body", [{"address_id": "a", "shipping_address": ADDRESS}, {}])
def test_exactly_one_of_shipping_address_and_address_id_is_given(shop, client, body):
    res = client.post("/api/orders", headers=shop.headers, json={
        "items": [{"sku_id": "x", "quantity": 1}], "delivery_method_id": "standard", **body})
    assert res.status_code == 422 and res.json["error"]["code"] == "validation_error"
    assert set(res.json["error"]["details"]["fields"]) == {"shipping_address", "address_id"}


@pytest.mark.parametrize("how", ["down", "broken", "slow"])
def test_crm_down_failing_or_slow_gives_a_503_and_nothing_is_written(shop, fake, client, staff, how):
    address_id = fake.address(shop.headers)
    getattr(fake, how).add("crm")
    res = shop.place(address_id=address_id, expect=503)
    assert res["error"]["code"] == "crm_unavailable"
    assert count_orders(client, staff, shop.customer_id) == 0


def test_a_customer_cannot_hold_more_than_the_unpaid_order_cap(shop, fake, monkeypatch):
    monkeypatch.setenv("ORDER_MAX_UNPAID_ORDERS", "3")
    sku = fake.sku(stock=100)
    first = [shop.place((sku, 1))["id"] for _ in range(3)]
    refused = shop.place((sku, 1), expect=409)
    assert refused["error"]["code"] == "too_many_unpaid_orders"
    assert refused["error"]["details"] == {"unpaid_orders": 3, "limit": 3}
    assert shop.client.post(f"/api/orders/{first[0]}/cancel", headers=shop.headers).status_code == 200
    shop.place((sku, 1))  # room again once one is cancelled (or paid)


def test_a_customer_cannot_hold_more_units_of_a_sku_than_the_cap_across_unpaid_orders(shop, fake, monkeypatch):
    monkeypatch.setenv("ORDER_MAX_UNPAID_PER_SKU", "5")
    scarce, other = fake.sku(stock=100), fake.sku(stock=100)
    shop.place((scarce, 3))
    refused = shop.place((scarce, 3), expect=409)
    assert refused["error"]["code"] == "unpaid_quantity_exceeded"
    assert refused["error"]["details"] == {"sku_id": scarce, "unpaid": 3, "requested": 3, "limit": 5}
    shop.place((scarce, 2), (other, 5))  # up to the cap, and other SKUs count on their own
