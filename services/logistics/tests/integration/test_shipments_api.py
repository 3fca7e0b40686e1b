"""Shipping, tracking and signing over the API, against real PostgreSQL."""
import uuid
from datetime import datetime, timedelta, timezone

from mall_shared.testing import outbox_events

from .conftest import tracking_number


def test_staff_ship_a_processing_order_which_emits_shipped(client, staff, place_order, db):
    order_id, customer = place_order("PROCESSING")
    number = tracking_number()
    res = client.post("/api/logistics/shipments", headers=staff,
                      json={"order_id": order_id, "carrier": "sf", "tracking_number": number})
    assert res.status_code == 201, res.json
    shipment = res.json
    assert (shipment["order_id"], shipment["carrier"], shipment["tracking_number"], shipment["status"]) == (
        order_id, "sf", number, "shipped")
    assert shipment["tracking_url"].endswith(number)
    assert [e["status"] for e in shipment["events"]] == ["shipped"]
    assert shipment["shipping_address"]["name"] == "张三"
    (shipped,) = outbox_events(db, order_id)
    assert shipped["type"] == "Shipped"
    assert {k: shipped["data"][k] for k in ("shipment_id", "order_id", "carrier", "tracking_number", "status")} == {
        "shipment_id": shipment["id"], "order_id": order_id, "carrier": "sf", "tracking_number": number,
        "status": "shipped"}
    assert shipped["data"]["at"].endswith("Z")


def test_an_order_that_is_not_processing_cannot_ship(client, staff, place_order, db):
    for status in ("AWAITING_PAYMENT", "PAID"):
        order_id, _ = place_order(status)
        res = client.post("/api/logistics/shipments", headers=staff,
                          json={"order_id": order_id, "carrier": "sf", "tracking_number": tracking_number()})
        assert res.status_code == 409 and res.json["error"]["code"] == "order_not_ready"
        assert outbox_events(db, order_id) == []
    res = client.post("/api/logistics/shipments", headers=staff,
                      json={"order_id": str(uuid.uuid4()), "carrier": "sf", "tracking_number": tracking_number()})
    assert res.status_code == 409 and res.json["error"]["code"] == "order_not_ready"


def test_a_tracking_number_of_the_wrong_format_is_refused_naming_the_field(client, staff, place_order, db):
    order_id, _ = place_order("PROCESSING")
    for carrier, number in (("sf", "SF123"), ("jd", tracking_number("SF")), ("ems", "EA123456789")):
        res = client.post("/api/logistics/shipments", headers=staff,
                          json={"order_id": order_id, "carrier": carrier, "tracking_number": number})
        assert res.status_code == 422, res.json
        assert list(res.json["error"]["details"]["fields"]) == ["tracking_number"]
    res = client.post("/api/logistics/shipments", headers=staff,
                      json={"order_id": order_id, "carrier": "pigeon", "tracking_number": "1"})
    assert res.status_code == 422 and "carrier" in res.json["error"]["details"]["fields"]
    res = client.post("/api/logistics/shipments", headers=staff, json={"order_id": order_id, "carrier": "sf"})
    assert res.status_code == 422 and "tracking_number" in res.json["error"]["details"]["fields"]
    assert outbox_events(db, order_id) == []


def test_an_order_ships_once_and_a_tracking_number_serves_one_parcel(client, staff, ship, place_order):
    shipment, _ = ship()
    again = client.post("/api/logistics/shipments", headers=staff, json={
        "order_id": shipment["order_id"], "carrier": "sf", "tracking_number": tracking_number()})
    assert again.status_code == 409
    other, _ = place_order("PROCESSING")
    reuse = client.post("/api/logistics/shipments", headers=staff, json={
        "order_id": other, "carrier": "sf", "tracking_number": shipment["tracking_number"]})
    assert reuse.status_code == 409 and reuse.json["error"]["code"] == "tracking_number_in_use"


def test_only_staff_ship(client, keys, place_order):
    order_id, customer = place_order("PROCESSING")
    body = {"order_id": order_id, "carrier": "sf", "tracking_number": tracking_number()}
    assert client.post("/api/logistics/shipments", json=body).status_code == 401
    assert client.post("/api/logistics/shipments", json=body, headers=keys.headers(customer)).status_code == 403


def test_tracking_updates_build_the_timeline_and_emit_shipment_updated(client, staff, keys, ship, db):
    shipment, customer = ship()
    url = f"/api/logistics/shipments/{shipment['id']}/events"
    steps = [{"status": "picked_up", "location": "深圳"}, {"status": "in_transit", "location": "杭州转运中心"},
             {"status": "out_for_delivery", "location": "上海浦东", "description": "派送中"}]
    for step in steps:
        res = client.post(url, json=step, headers=staff)
        assert res.status_code == 201, res.json
    tracking = client.get(f"/api/logistics/orders/{shipment['order_id']}/tracking", headers=keys.headers(customer))
    assert tracking.status_code == 200
    assert [e["status"] for e in tracking.json["events"]] == ["shipped", "picked_up", "in_transit", "out_for_delivery"]
    last = tracking.json["events"][-1]
    assert (last["location"], last["description"]) == ("上海浦东", "派送中")
    assert tracking.json["status"] == "out_for_delivery"
    types = [(e["type"], e["data"]["status"]) for e in outbox_events(db, shipment["order_id"])]
    assert types == [("Shipped", "shipped"), ("ShipmentUpdated", "picked_up"), ("ShipmentUpdated", "in_transit"),
                     ("ShipmentUpdated", "out_for_delivery")]


def test_a_tracking_update_the_machine_refuses_is_a_conflict(client, staff, ship, place_order):
    shipment, _ = ship()
    url = f"/api/logistics/shipments/{shipment['id']}/events"
    assert client.post(url, json={"status": "in_transit"}, headers=staff).status_code == 201
    res = client.post(url, json={"status": "picked_up"}, headers=staff)
    assert res.status_code == 409 and res.json["error"]["code"] == "illegal_transition"
    bad = client.post(url, json={"status": "signed"}, headers=staff)
    assert bad.status_code == 422 and "status" in bad.json["error"]["details"]["fields"]
    later = (datetime.now(timezone.utc) + timedelta(minutes=5)).replace(tzinfo=None, microsecond=0).isoformat()
    naive = client.post(url, json={"status": "in_transit", "at": later}, headers=staff)  # read as UTC
    assert naive.status_code == 201 and naive.json["events"][-1]["at"].startswith(later)
    assert client.post("/api/logistics/shipments/nope/events", json={"status": "in_transit"},
                       headers=staff).status_code == 404


def test_only_the_customer_who_ordered_or_staff_see_the_tracking(client, staff, keys, ship):
    shipment, customer = ship()
    order_url = f"/api/logistics/orders/{shipment['order_id']}/tracking"
    shipment_url = f"/api/logistics/shipments/{shipment['id']}"
    for url in (order_url, shipment_url):
        assert client.get(url, headers=keys.headers(customer)).status_code == 200
        assert client.get(url, headers=staff).status_code == 200
        other = client.get(url, headers=keys.headers())
        assert other.status_code == 404 and other.json["error"]["code"] == "shipment_not_found"
        assert client.get(url).status_code == 401


def test_staff_list_shipments_by_status(client, staff, ship):
    shipment, _ = ship()
    res = client.get(f"/api/logistics/shipments?status=shipped&order_id={shipment['order_id']}", headers=staff)
    assert res.status_code == 200
    assert res.json["total"] == 1 and res.json["items"][0]["id"] == shipment["id"]
    assert client.get("/api/logistics/shipments?status=lost", headers=staff).status_code == 422


def test_the_customer_signs_once_and_delivered_is_emitted_once(client, keys, staff, ship, db):
    shipment, customer = ship()
    url = f"/api/logistics/shipments/{shipment['id']}/sign"
    assert client.post(url, headers=keys.headers()).status_code == 404
    assert client.post(url, headers=staff).status_code == 403
    res = client.post(url, headers=keys.headers(customer))
    assert res.status_code == 200, res.json
    assert (res.json["status"], res.json["signed_by"]) == ("signed", "customer")
    again = client.post(url, headers=keys.headers(customer))
    assert again.status_code == 409 and again.json["error"]["code"] == "already_delivered"
    late = client.post(f"/api/logistics/shipments/{shipment['id']}/events", json={"status": "delivered"}, headers=staff)
    assert late.status_code == 409
    types = [e["type"] for e in outbox_events(db, shipment["order_id"])]
    assert types == ["Shipped", "Delivered"]


def test_a_shipment_awaiting_dispatch_cannot_be_signed(client, keys, place_order, db):
    order_id, customer = place_order("PAID")
    tracking = client.get(f"/api/logistics/orders/{order_id}/tracking", headers=keys.headers(customer)).json
    assert tracking["status"] == "awaiting_dispatch" and tracking["events"] == []
    res = client.post(f"/api/logistics/shipments/{tracking['id']}/sign", headers=keys.headers(customer))
    assert res.status_code == 409 and res.json["error"]["code"] == "not_shipped"


def test_staff_can_ship_at_once_after_processing_though_our_copy_lags(client, staff, place_order, monkeypatch):
    """Staff process the order and ship it before our worker handled OrderStatusChanged: we ask order."""
    from mall_shared import clients

    order_id, customer_id = place_order("PAID")
    answers = {}
    monkeypatch.setattr(clients, "get_order", lambda oid, authorization: answers.get(oid))
    body = {"order_id": order_id, "carrier": "sf", "tracking_number": tracking_number()}
    answers[order_id] = {"id": order_id, "customer_id": customer_id, "status": "PAID", "lines": []}
    assert client.post("/api/logistics/shipments", headers=staff, json=body).json["error"]["code"] == "order_not_ready"
    answers[order_id] |= {"status": "PROCESSING"}
    res = client.post("/api/logistics/shipments", headers=staff, json=body)
    assert res.status_code == 201 and res.json["status"] == "shipped"
    unknown = {**body, "order_id": "no-such-order", "tracking_number": tracking_number()}
    assert client.post("/api/logistics/shipments", headers=staff, json=unknown).status_code == 409
