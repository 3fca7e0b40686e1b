"""Issue 6's delivery proofs, through the gateway on real processes: a shipment opens when an order is
paid, staff ship it with a tracking number of the carrier's format, carrier pushes build the timeline
(a replayed push changes nothing, a forged one is refused), and each sign-off completes the order once.

Sign-off (docs/design.md, order flow step 6): whichever comes first of the customer confirming receipt
(确认收货), the carrier reporting the parcel delivered (签收), or the automatic confirmation
LOGISTICS_AUTO_CONFIRM_AFTER seconds after dispatch (never for a parcel in exception) signs the shipment
off: Delivered, and the order is COMPLETED."""
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
import requests

from logistics.carriers import SIGNATURE_HEADER, carrier_key, sign
from logistics.config import LogisticsConfig
from mall_shared.db import utcnow
from scenarios import new_customer, new_product, paid_order, shipped_order

SHIPMENTS = "/api/logistics/shipments"
NOTIFY_SF = "/api/logistics/notify/sf"


@pytest.fixture(scope="module")
def sf_key(platform):
    """The sandbox SF Express key the logistics web process verifies pushes with (MALL_DATA_DIR/keys)."""
    return carrier_key(LogisticsConfig(sandbox=True, keys_dir=platform.workdir / "data" / "keys"), "sf")


def push_body(shipment, status, location="上海浦东") -> bytes:
    """A push as SF Express's server would send it, with its own event id."""
    return json.dumps({"event_id": uuid.uuid4().hex, "tracking_number": shipment["tracking_number"],
                       "status": status, "location": location, "at": utcnow().isoformat()},
                      ensure_ascii=False).encode()


def notify(platform, body: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"} | ({SIGNATURE_HEADER: signature} if signature else {})
    return requests.post(platform.gateway + NOTIFY_SF, data=body, headers=headers, timeout=15)


def statuses(shipment) -> list[str]:
    return [e["status"] for e in shipment["events"]]


def history(client, order_id) -> list[str]:
    return [h["status"] for h in client.get(f"/api/orders/{order_id}")["history"]]


def order_awards(client, order_id) -> list[dict]:
    return [e for e in client.get("/api/crm/me/membership")["ledger"] if e["order_id"] == order_id]


def events_of(subscriber, order_id, type_) -> list[dict]:
    return [e for _, e in subscriber.drain() if e["type"] == type_ and e["data"].get("order_id") == order_id]


def together(*calls) -> list[requests.Response]:
    """Start the calls at the same moment, each on its own thread; their responses, in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def post_as(client, path, body=None):
    """A POST as `client` on its own connection, for use on another thread."""
    return lambda: requests.post(client.base + path, json=body or {}, timeout=15,
                                 headers={"Authorization": f"Bearer {client.token}"})


def test_a_paid_order_waits_for_dispatch_then_ships_with_a_tracking_number_of_its_carrier(platform, demo, admin,
                                                                                         customer, sku):
    order = paid_order(demo, customer, [(sku["id"], 1)])
    tracking = f"/api/logistics/orders/{order['id']}/tracking"
    waiting = demo.wait_for("the shipment", lambda: (s := customer.get(tracking, expect=(200, 404))).get("id") and s)
    assert (waiting["status"], waiting["carrier"], waiting["tracking_number"], waiting["events"]) == (
        "awaiting_dispatch", None, None, [])
    assert waiting["shipping_address"] == demo.ADDRESS == order["shipping_address"]
    assert waiting["delivery_method_id"] == "standard"
    listed = admin.get(f"{SHIPMENTS}?order_id={order['id']}")
    assert [s["id"] for s in listed["items"]] == [waiting["id"]] and listed["total"] == 1
    assert admin.get(f"{SHIPMENTS}/{waiting['id']}")["shipping_address"] == demo.ADDRESS

    admin.post(f"/api/orders/{order['id']}/process")
    demo.wait_for("PROCESSING", demo.order_status(customer, order["id"], "PROCESSING"))
    zto_number = "73100012345678"  # a ZTO waybill, not an SF one
    err = admin.post(SHIPMENTS, {"order_id": order["id"], "carrier": "sf", "tracking_number": zto_number},
                     expect=422)
    assert err["error"]["code"] == "validation_error" and "tracking_number" in err["error"]["details"]["fields"]
    assert customer.get(tracking)["status"] == "awaiting_dispatch"
    assert customer.get(f"/api/orders/{order['id']}")["status"] == "PROCESSING"

    number = f"SF{uuid.uuid4().int % 10**13:013d}"
    shipped = demo.wait_for("logistics to accept the shipment", lambda: demo._try_ship(admin, order["id"], number))
    assert (shipped["id"], shipped["status"], shipped["carrier"], shipped["tracking_number"]) == (
        waiting["id"], "shipped", "sf", number)
    assert number in shipped["tracking_url"] and statuses(shipped) == ["shipped"]
    demo.wait_for("SHIPPED", demo.order_status(customer, order["id"], "SHIPPED"))
    assert history(customer, order["id"])[-1] == "SHIPPED"


def test_carrier_pushes_extend_the_timeline_and_a_replayed_push_changes_nothing(platform, demo, admin, customer,
                                                                                sku, sf_key):
    order, shipment = shipped_order(demo, admin, customer, [(sku["id"], 1)])
    sandbox = f"{SHIPMENTS}/{shipment['id']}/sandbox"
    assert admin.post(sandbox, {"status": "in_transit", "location": "杭州转运中心"})["status"] == "in_transit"
    assert admin.post(sandbox, {"status": "out_for_delivery", "location": "上海浦东"})["status"] == "out_for_delivery"

    body = push_body(shipment, "out_for_delivery", location="派送员已出发")
    first, replay = notify(platform, body, sign(sf_key, body)), notify(platform, body, sign(sf_key, body))
    assert (first.status_code, first.json()["result"]) == (200, "applied"), first.text
    assert (replay.status_code, replay.json()["result"]) == (200, "duplicate"), replay.text

    seen = customer.get(f"/api/logistics/orders/{order['id']}/tracking")
    assert statuses(seen) == ["shipped", "in_transit", "out_for_delivery", "out_for_delivery"]
    assert [e["location"] for e in seen["events"][1:]] == ["杭州转运中心", "上海浦东", "派送员已出发"]
    assert seen["status"] == "out_for_delivery" and seen["delivered_at"] is None
    assert customer.get(f"/api/orders/{order['id']}")["status"] == "SHIPPED"


def test_a_forged_carrier_push_is_refused_and_changes_nothing(platform, demo, admin, customer, sku, sf_key):
    order, shipment = shipped_order(demo, admin, customer, [(sku["id"], 1)])
    body = push_body(shipment, "delivered")
    tampered = body.replace(b'"delivered"', b'"exception"')
    for forged in (notify(platform, body, sign("guessed-key", body)), notify(platform, body, None),
                   notify(platform, tampered, sign(sf_key, body))):
        assert forged.status_code == 401 and forged.json()["error"]["code"] == "invalid_signature", forged.text
    seen = customer.get(f"{SHIPMENTS}/{shipment['id']}")
    assert (seen["status"], statuses(seen), seen["delivered_at"]) == ("shipped", ["shipped"], None)
    assert customer.get(f"/api/orders/{order['id']}")["status"] == "SHIPPED"
    # The same body signed with the carrier's key goes through: it was the signature that was refused.
    genuine = notify(platform, body, sign(sf_key, body))
    assert (genuine.status_code, genuine.json()["result"]) == (200, "applied"), genuine.text


def test_the_customer_confirming_receipt_completes_the_order_once(platform, demo, admin, customer, sku):
    order, shipment = shipped_order(demo, admin, customer, [(sku["id"], 1)])
    sign_path = f"{SHIPMENTS}/{shipment['id']}/sign"
    assert admin.post(sign_path, expect=403)["error"]["code"] == "customer_only"  # staff never sign for them

    signed = customer.post(sign_path)
    assert (signed["status"], signed["signed_by"], statuses(signed)[-1]) == ("signed", "customer", "signed")
    assert customer.post(sign_path, expect=409)["error"]["code"] == "already_delivered"
    demo.wait_for("COMPLETED", demo.order_status(customer, order["id"], "COMPLETED"))
    award = demo.wait_for("points", lambda: order_awards(customer, order["id"]))
    assert [(e["points"], e["reason"]) for e in award] == [(order["total"] // 100, "order_completed")]
    assert history(customer, order["id"]).count("COMPLETED") == 1


def test_the_carrier_reporting_delivered_completes_the_order_once(platform, demo, admin, customer, sku,
                                                                   subscriber):
    order, shipment = shipped_order(demo, admin, customer, [(sku["id"], 1)])
    sandbox = f"{SHIPMENTS}/{shipment['id']}/sandbox"
    signed = admin.post(sandbox, {"status": "delivered", "location": "菜鸟驿站"})
    assert (signed["status"], signed["signed_by"], statuses(signed)) == ("signed", "carrier",
                                                                         ["shipped", "delivered", "signed"])
    assert signed["delivered_at"] and signed["signed_at"]
    again = admin.post(sandbox, {"status": "delivered"})  # the carrier says it twice: ignored
    assert (statuses(again), again["signed_at"]) == (statuses(signed), signed["signed_at"])
    err = customer.post(f"{SHIPMENTS}/{shipment['id']}/sign", expect=409)
    assert err["error"]["code"] == "already_delivered"

    demo.wait_for("COMPLETED", demo.order_status(customer, order["id"], "COMPLETED"))
    demo.wait_for("PointsAwarded", lambda: events_of(subscriber, order["id"], "PointsAwarded"))
    (fact,) = events_of(subscriber, order["id"], "Delivered")
    assert (fact["data"]["shipment_id"], fact["data"]["status"]) == (shipment["id"], "signed")
    assert [e["data"]["status"] for e in events_of(subscriber, order["id"], "ShipmentUpdated")] == ["delivered"]
    assert history(customer, order["id"]).count("COMPLETED") == 1
    assert len(order_awards(customer, order["id"])) == 1


def test_sign_offs_arriving_together_complete_the_order_once(platform, demo, admin, customer, sku, subscriber):
    order, shipment = shipped_order(demo, admin, customer, [(sku["id"], 1)])
    base = f"{SHIPMENTS}/{shipment['id']}"
    confirm, carrier = post_as(customer, f"{base}/sign"), post_as(admin, f"{base}/sandbox", {"status": "delivered"})
    *confirms, pushed = together(confirm, confirm, carrier)
    # The carrier is acknowledged either way (applied, or ignored after a customer's sign-off);
    # at most one of the customer's confirmations goes through, the others are told it is done.
    assert pushed.status_code == 200, pushed.text
    codes = sorted(r.status_code for r in confirms)
    assert codes in ([200, 409], [409, 409]), [r.text for r in confirms]
    assert {r.json()["error"]["code"] for r in confirms if r.status_code == 409} == {"already_delivered"}

    demo.wait_for("COMPLETED", demo.order_status(customer, order["id"], "COMPLETED"))
    demo.wait_for("PointsAwarded", lambda: events_of(subscriber, order["id"], "PointsAwarded"))
    final = customer.get(base)
    assert final["signed_by"] == ("customer" if 200 in codes else "carrier")
    assert statuses(final).count("signed") == 1 and statuses(final).count("delivered") <= 1
    assert len(events_of(subscriber, order["id"], "Delivered")) == 1
    assert len(events_of(subscriber, order["id"], "OrderCompleted")) == 1
    assert history(customer, order["id"]).count("COMPLETED") == 1
    assert len(order_awards(customer, order["id"])) == 1


def test_another_customer_can_neither_see_nor_sign_someone_elses_shipment(platform, demo, admin, customer, sku):
    order, shipment = shipped_order(demo, admin, customer, [(sku["id"], 1)])
    stranger = new_customer(platform, demo)
    for method, path in (("GET", f"{SHIPMENTS}/{shipment['id']}"),
                         ("GET", f"/api/logistics/orders/{order['id']}/tracking"),
                         ("POST", f"{SHIPMENTS}/{shipment['id']}/sign")):
        assert stranger.call(method, path, json={}, expect=404)["error"]["code"] == "shipment_not_found", path
    assert stranger.get(f"{SHIPMENTS}?order_id={order['id']}", expect=403)["error"]["code"] == "forbidden"
    sandbox = stranger.post(f"{SHIPMENTS}/{shipment['id']}/sandbox", {"status": "delivered"}, expect=403)
    assert sandbox["error"]["code"] == "forbidden"
    assert customer.get(f"{SHIPMENTS}/{shipment['id']}")["status"] == "shipped"
    assert customer.get(f"/api/orders/{order['id']}")["status"] == "SHIPPED"


AUTO_CONFIRM_AFTER = 4  # seconds after dispatch


@pytest.fixture(scope="module")
def auto_confirm(tmp_path_factory):
    """A second platform whose logistics signs off parcels nobody signed AUTO_CONFIRM_AFTER seconds after dispatch."""
    from harness import running

    with running(tmp_path_factory.mktemp("auto-confirm"), extra_env={
            "LOGISTICS_AUTO_CONFIRM_AFTER": str(AUTO_CONFIRM_AFTER), "LOGISTICS_AUTO_CONFIRM_INTERVAL": "0.5",
            "MALL_DB_POOL_SIZE": "2"}) as p:
        yield p


def test_receipt_is_confirmed_automatically_the_configured_time_after_dispatch(auto_confirm, demo):
    p = auto_confirm
    admin = demo.login(p.gateway, *p.admin)
    sku = new_product(p, demo, admin)["skus"][0]
    customer = new_customer(p, demo)
    # Shipped first, then lost (exception): it must wait for staff, however long it has been.
    lost, lost_shipment = shipped_order(demo, admin, customer, [(sku["id"], 1)])
    assert admin.post(f"{SHIPMENTS}/{lost_shipment['id']}/sandbox", {"status": "exception"})["status"] == "exception"
    order, shipment = shipped_order(demo, admin, customer, [(sku["id"], 1)])
    assert admin.post(f"{SHIPMENTS}/{shipment['id']}/sandbox", {"status": "in_transit"})["status"] == "in_transit"

    demo.wait_for("COMPLETED", demo.order_status(customer, order["id"], "COMPLETED"), timeout=20)
    signed = customer.get(f"{SHIPMENTS}/{shipment['id']}")
    assert (signed["status"], signed["signed_by"], statuses(signed)) == ("signed", "auto",
                                                                         ["shipped", "in_transit", "signed"])
    waited = datetime.fromisoformat(signed["signed_at"]) - datetime.fromisoformat(signed["shipped_at"])
    assert waited.total_seconds() >= AUTO_CONFIRM_AFTER
    err = customer.post(f"{SHIPMENTS}/{shipment['id']}/sign", expect=409)
    assert err["error"]["code"] == "already_delivered"
    assert history(customer, order["id"]).count("COMPLETED") == 1
    demo.wait_for("points", lambda: order_awards(customer, order["id"]))
    # The lost parcel was due before this one, so the pass that signed this one off passed it over.
    assert customer.get(f"{SHIPMENTS}/{lost_shipment['id']}")["status"] == "exception"
    assert customer.get(f"/api/orders/{lost['id']}")["status"] == "SHIPPED"
