"""Carrier pushes: signed with the carrier's key, applied once per event id; the sandbox carrier
pushes over real HTTP to the same endpoint."""
import json
import logging
import threading
import uuid
from dataclasses import replace
from functools import partial

import requests

from logistics.carriers import SIGNATURE_HEADER, sign
from mall_shared.db import utcnow
from mall_shared.testing import outbox_events

SF_KEY = "sf-test-key"  # LOGISTICS_CARRIER_KEYS in tests/conftest.py


def push_body(shipment: dict, status: str, event_id: str | None = None, **extra) -> bytes:
    return json.dumps({"event_id": event_id or str(uuid.uuid4()), "tracking_number": shipment["tracking_number"],
                       "status": status, "location": "上海浦东", "description": None,
                       "at": utcnow().isoformat(), **extra}).encode()


def push(client, body: bytes, key: str = SF_KEY, carrier: str = "sf"):
    return client.post(f"/api/logistics/notify/{carrier}", data=body, content_type="application/json",
                       headers={SIGNATURE_HEADER: sign(key, body)})


def status_of(client, staff, shipment) -> str:
    return client.get(f"/api/logistics/shipments/{shipment['id']}", headers=staff).json["status"]


def test_a_signed_push_updates_the_timeline(client, staff, ship, db):
    shipment, _ = ship()
    res = push(client, push_body(shipment, "in_transit"))
    assert res.status_code == 200, res.json
    assert res.json["result"] == "applied" and res.json["status"] == "in_transit"
    detail = client.get(f"/api/logistics/shipments/{shipment['id']}", headers=staff).json
    assert detail["events"][-1]["location"] == "上海浦东"
    assert [e["type"] for e in outbox_events(db, shipment["order_id"])] == ["Shipped", "ShipmentUpdated"]


def test_a_forged_push_is_refused_logged_and_changes_nothing(client, staff, ship, db, caplog):
    shipment, _ = ship()
    body = push_body(shipment, "delivered")
    with caplog.at_level(logging.WARNING, logger="logistics.api"):
        forged = push(client, body, key="guessed")
    assert forged.status_code == 401 and forged.json["error"]["code"] == "invalid_signature"
    assert "invalid signature" in caplog.text
    unsigned = client.post("/api/logistics/notify/sf", data=body, content_type="application/json")
    assert unsigned.status_code == 401
    tampered = client.post("/api/logistics/notify/sf", data=body.replace(b"delivered", b"exception"),
                           content_type="application/json", headers={SIGNATURE_HEADER: sign(SF_KEY, body)})
    assert tampered.status_code == 401
    assert status_of(client, staff, shipment) == "shipped"
    assert [e["type"] for e in outbox_events(db, shipment["order_id"])] == ["Shipped"]


def test_a_duplicate_push_changes_nothing(client, staff, ship, db):
    shipment, _ = ship()
    body = push_body(shipment, "in_transit")
    assert push(client, body).json["result"] == "applied"
    again = push(client, body)
    assert again.status_code == 200 and again.json["result"] == "duplicate"
    detail = client.get(f"/api/logistics/shipments/{shipment['id']}", headers=staff).json
    assert [e["status"] for e in detail["events"]] == ["shipped", "in_transit"]
    assert len(outbox_events(db, shipment["order_id"])) == 2


def test_the_carrier_reporting_delivered_signs_receipt_off_once(client, staff, ship, db):
    shipment, _ = ship()
    assert push(client, push_body(shipment, "delivered")).json["result"] == "applied"
    second = push(client, push_body(shipment, "delivered"))
    assert second.status_code == 200 and second.json["result"] == "ignored"
    detail = client.get(f"/api/logistics/shipments/{shipment['id']}", headers=staff).json
    assert (detail["status"], detail["signed_by"]) == ("signed", "carrier")
    assert [e["status"] for e in detail["events"]] == ["shipped", "delivered", "signed"]
    events = [(e["type"], e["data"]["status"]) for e in outbox_events(db, shipment["order_id"])]
    assert events == [("Shipped", "shipped"), ("ShipmentUpdated", "delivered"), ("Delivered", "signed")]


def test_pushes_the_webhook_cannot_place_are_refused(client, ship):
    shipment, _ = ship()
    assert push(client, push_body(shipment, "in_transit"), carrier="pigeon").status_code == 404
    unknown = push(client, push_body({"tracking_number": "SF000000000000"}, "in_transit"))
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "shipment_not_found"
    bad = push(client, push_body(shipment, "teleported"))
    assert bad.status_code == 422 and "status" in bad.json["error"]["details"]["fields"]
    not_json = push(client, b"not json")
    assert not_json.status_code == 422


def test_the_sandbox_carrier_pushes_a_signed_update_over_http(client, staff, ship, db):
    shipment, _ = ship("zto", str(uuid.uuid4().int)[:14])  # zto has no configured key: a dev key is made
    url = f"/api/logistics/shipments/{shipment['id']}/sandbox"
    res = client.post(url, json={"status": "in_transit", "location": "杭州"}, headers=staff)
    assert res.status_code == 200, res.json
    assert res.json["status"] == "in_transit" and res.json["events"][-1]["location"] == "杭州"
    assert client.post(url, json={"status": "signed"}, headers=staff).status_code == 422
    assert client.post(url, json={"status": "delivered"}, headers=staff).json["status"] == "signed"
    assert [e["type"] for e in outbox_events(db, shipment["order_id"])] == ["Shipped", "ShipmentUpdated",
                                                                             "ShipmentUpdated", "Delivered"]


def test_the_sandbox_does_not_exist_unless_enabled(app, client, staff, ship):
    shipment, _ = ship()
    cfg = app.extensions["logistics_config"]
    app.extensions["logistics_config"] = replace(cfg, sandbox=False)
    try:
        res = client.post(f"/api/logistics/shipments/{shipment['id']}/sandbox", json={"status": "in_transit"},
                          headers=staff)
        assert res.status_code == 404
        zto = push(client, push_body(shipment, "in_transit"), key="anything", carrier="zto")
        assert zto.status_code == 401  # no key configured for zto outside the sandbox
    finally:
        app.extensions["logistics_config"] = cfg


def race(*calls) -> list[int]:
    """Start the calls at the same moment, each on its own thread; their status codes, sorted."""
    barrier = threading.Barrier(len(calls))
    results: list[int] = []

    def run(call):
        barrier.wait()
        results.append(call().status_code)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(results)


def test_sign_offs_and_the_carrier_arriving_together_deliver_once(app, keys, ship, db):
    base = app.extensions["logistics_config"].url
    for _ in range(3):
        shipment, customer = ship()
        body = push_body(shipment, "delivered")
        sign_off = partial(requests.post, f"{base}/api/logistics/shipments/{shipment['id']}/sign",
                           headers=keys.headers(customer), timeout=10)
        carrier = partial(requests.post, f"{base}/api/logistics/notify/sf", data=body, timeout=10,
                          headers={SIGNATURE_HEADER: sign(SF_KEY, body), "Content-Type": "application/json"})
        # The carrier first: both sign-offs are 409; a customer first: the carrier's push is
        # acknowledged (200) but ignored, and the other sign-off is 409.
        assert race(sign_off, sign_off, carrier) in ([200, 200, 409], [200, 409, 409])
        types = [e["type"] for e in outbox_events(db, shipment["order_id"])]
        assert types.count("Delivered") == 1 and types.count("ShipmentUpdated") <= 1, types
