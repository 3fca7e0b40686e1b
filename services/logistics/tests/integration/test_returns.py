"""Returns (售后) over the API and from payment's RefundCompleted, against real PostgreSQL."""
import uuid
from datetime import timedelta
from functools import partial

import pytest
import requests
from sqlalchemy import select

from logistics.handlers import HANDLERS
from logistics.models import OrderRecord, Return
from logistics.services import iso
from mall_shared.consumer import deliver
from mall_shared.db import utcnow
from mall_shared.events import Line, OrderPlaced, OrderStatusChanged, RefundCompleted, envelope
from mall_shared.testing import outbox_events

from .conftest import ADDRESS, PATH, tracking_number
from .test_carrier_webhook import race

URL = "/api/logistics/returns"
SHOE, SOCK = "sku-shoe-42", "sku-sock"


@pytest.fixture
def completed(db, keys):
    """completed(days_ago=0) → (order_id, customer headers): an order of 2 shoes at 399 and 3 pairs of
    socks at 15 yuan, completed `days_ago` days ago, as logistics learns it from order's events."""

    def complete(days_ago: float = 0, status: str = "COMPLETED", lines=None, total=85300) -> tuple[str, dict]:
        order_id, customer = str(uuid.uuid4()), str(uuid.uuid4())
        placed = OrderPlaced(order_id=order_id, customer_id=customer, total=total, shipping_address=ADDRESS,
                             lines=lines or [Line(SHOE, 2, 39900), Line(SOCK, 3, 1500)], delivery_method_id="standard")
        assert deliver(db, HANDLERS, envelope(placed, "order"))
        at = iso(utcnow() - timedelta(days=days_ago))
        for previous, step in zip(("PENDING", *PATH), PATH[: PATH.index(status) + 1], strict=False):
            changed = OrderStatusChanged(order_id=order_id, customer_id=customer, status=step,
                                         previous_status=previous, at=at)
            assert deliver(db, HANDLERS, envelope(changed, "order"))
        return order_id, keys.headers(customer)

    return complete


def ask(client, headers, order_id, *lines, reason="七天无理由"):
    body = {"order_id": order_id, "lines": [{"sku_id": s, "quantity": q} for s, q in lines], "reason": reason}
    return client.post(URL, json=body, headers=headers)


def requested(client, completed, *lines) -> tuple[dict, dict]:
    order_id, me = completed()
    res = ask(client, me, order_id, *(lines or [(SHOE, 1)]))
    assert res.status_code == 201, res.json
    return res.json, me


def refund(ret, refund_id=None):
    evt = RefundCompleted(refund_id=refund_id or str(uuid.uuid4()), payment_id="p", order_id=ret["order_id"],
                          amount=ret["amount"], return_id=ret["id"])
    return envelope(evt, "payment")


def test_logistics_keeps_the_lines_currency_and_completion_time_of_an_order(db, completed):
    before = utcnow()
    order_id, _ = completed()
    with db.transaction() as session:
        order = session.get(OrderRecord, order_id)
    assert [(ln["sku_id"], ln["quantity"], ln["unit_price"]) for ln in order.lines] == [(SHOE, 2, 39900),
                                                                                       (SOCK, 3, 1500)]
    assert order.currency == "CNY" and order.completed_at >= before.replace(microsecond=0)


def test_a_customer_asks_to_return_some_units_which_emits_return_requested(client, completed, db):
    order_id, me = completed()
    res = ask(client, me, order_id, (SHOE, 1), (SOCK, 1), (SOCK, 1), reason="尺码不合适")
    assert res.status_code == 201, res.json
    ret = res.json
    assert (ret["order_id"], ret["status"], ret["amount"], ret["currency"], ret["reason"]) == (
        order_id, "requested", 39900 + 2 * 1500, "CNY", "尺码不合适")
    assert [(ln["sku_id"], ln["quantity"], ln["unit_price"]) for ln in ret["lines"]] == [(SHOE, 1, 39900),
                                                                                       (SOCK, 2, 1500)]
    (evt,) = outbox_events(db, order_id)
    assert evt["type"] == "ReturnRequested"
    data = evt["data"]
    assert (data["return_id"], data["status"], data["amount"], data["reason"], data["customer_id"]) == (
        ret["id"], "requested", 42900, "尺码不合适", ret["customer_id"])
    assert sorted((ln["sku_id"], ln["quantity"], ln["unit_price"]) for ln in data["lines"]) == [
        (SHOE, 1, 39900), (SOCK, 2, 1500)]
    assert data["at"].endswith("Z")


DISCOUNTED = [Line(SHOE, 2, 39900, discount=9901, paid=69899, points=501),
              Line(SOCK, 3, 1500, discount=500, paid=4000, points=99)]


def shares(ret) -> list[tuple]:
    return [(ln["sku_id"], ln["quantity"], ln["paid"], ln["points"]) for ln in ret["lines"]]


def test_a_return_refunds_the_units_share_of_what_was_paid_and_their_points_exactly_over_all_returns(
        client, completed, staff, db):
    order_id, me = completed(lines=DISCOUNTED, total=73899)
    first = ask(client, me, order_id, (SHOE, 1), (SOCK, 1)).json
    assert shares(first) == [(SHOE, 1, 34949, 250), (SOCK, 1, 1333, 33)]
    assert (first["amount"], first["points"]) == (34949 + 1333, 250 + 33)
    requested_event = outbox_events(db, order_id)[-1]["data"]
    assert (requested_event["amount"], requested_event["points"]) == (36282, 283)
    assert [(ln["paid"], ln["points"]) for ln in requested_event["lines"]] == [(34949, 250), (1333, 33)]

    refused = ask(client, me, order_id, (SOCK, 1)).json
    assert shares(refused) == [(SOCK, 1, 1333, 33)]
    assert client.post(f"{URL}/{refused['id']}/refuse", json={"reason": "已拆封"}, headers=staff).status_code == 200
    rest = ask(client, me, order_id, (SHOE, 1), (SOCK, 2)).json  # what the refused one held is free again
    assert shares(rest) == [(SHOE, 1, 69899 - 34949, 501 - 250), (SOCK, 2, 4000 - 1333, 99 - 33)]
    assert first["amount"] + rest["amount"] == 69899 + 4000 and first["points"] + rest["points"] == 501 + 99


def test_another_customers_order_or_an_unknown_one_is_not_found(client, completed, keys, db):
    order_id, _ = completed()
    for other in (keys.headers(), keys.headers(role="staff")):
        res = ask(client, other, order_id, (SHOE, 1))
        assert res.status_code == 404 and res.json["error"]["code"] == "order_not_found"
    _, me = completed()
    assert ask(client, me, str(uuid.uuid4()), (SHOE, 1)).status_code == 404
    assert outbox_events(db, order_id) == []


def test_an_order_not_completed_or_past_the_window_cannot_be_returned(client, completed):
    for status in ("PAID", "SHIPPED"):
        order_id, me = completed(status=status)
        res = ask(client, me, order_id, (SHOE, 1))
        assert res.status_code == 409 and res.json["error"]["code"] == "order_not_completed"
    order_id, me = completed(days_ago=6.9)
    assert ask(client, me, order_id, (SHOE, 1)).status_code == 201
    order_id, me = completed(days_ago=7.1)
    res = ask(client, me, order_id, (SHOE, 1))
    assert res.status_code == 409 and res.json["error"]["code"] == "return_window_closed"


def test_never_more_than_bought_less_what_other_returns_hold(client, completed, staff):
    order_id, me = completed()
    res = ask(client, me, order_id, (SHOE, 3))
    assert res.status_code == 422 and res.json["error"]["code"] == "return_exceeds_purchase"
    first = ask(client, me, order_id, (SHOE, 1)).json
    assert ask(client, me, order_id, (SHOE, 1), (SOCK, 3)).status_code == 201
    res = ask(client, me, order_id, (SHOE, 1))
    assert res.status_code == 422 and res.json["error"]["details"]["returnable"] == {SHOE: 0}
    # A refused return no longer holds its units.
    assert client.post(f"{URL}/{first['id']}/refuse", json={"reason": "已穿着"}, headers=staff).status_code == 200
    assert ask(client, me, order_id, (SHOE, 1)).status_code == 201


@pytest.mark.parametrize("lines", [
    [{"sku_id": "sku-hat", "quantity": 1}], [{"sku_id": SHOE, "quantity": 0}], [{"sku_id": SHOE, "quantity": -1}],
    [{"sku_id": SHOE}], [],
])
def test_an_unknown_sku_or_a_quantity_below_one_is_a_validation_error(client, completed, lines):
    order_id, me = completed()
    res = client.post(URL, json={"order_id": order_id, "lines": lines, "reason": "r"}, headers=me)
    assert res.status_code == 422 and res.json["error"]["code"] == "validation_error"
    assert list(res.json["error"]["details"]["fields"]) == ["lines"]


def test_a_reason_is_required(client, completed):
    order_id, me = completed()
    res = client.post(URL, json={"order_id": order_id, "lines": [{"sku_id": SHOE, "quantity": 1}]}, headers=me)
    assert res.status_code == 422 and list(res.json["error"]["details"]["fields"]) == ["reason"]


def test_the_whole_way_approved_shipped_received_refunded(client, completed, staff, db):
    ret, me = requested(client, completed, (SOCK, 2))
    base = f"{URL}/{ret['id']}"
    assert client.post(f"{base}/approve", headers=staff).json["status"] == "approved"
    number = tracking_number()
    shipped = client.post(f"{base}/ship", json={"carrier": "sf", "tracking_number": number}, headers=me)
    assert shipped.status_code == 200, shipped.json
    assert (shipped.json["status"], shipped.json["carrier"], shipped.json["tracking_number"]) == ("shipped", "sf",
                                                                                                 number)
    assert client.post(f"{base}/receive", headers=staff).json["status"] == "received"
    refund_id = str(uuid.uuid4())
    env = refund(ret, refund_id)
    assert deliver(db, HANDLERS, env) is True
    assert deliver(db, HANDLERS, env) is False
    assert deliver(db, HANDLERS, refund(ret))  # another refund for the same return changes nothing
    done = client.get(base, headers=me).json
    assert (done["status"], done["refund_id"]) == ("refunded", refund_id) and done["refunded_at"]
    events = outbox_events(db, ret["order_id"])
    assert [e["type"] for e in events] == ["ReturnRequested", "ReturnApproved", "ReturnShipped", "ReturnReceived"]
    received = events[-1]["data"]
    assert (received["return_id"], received["status"], received["amount"], received["carrier"],
            received["tracking_number"]) == (ret["id"], "received", 3000, "sf", number)
    assert received["lines"] == [{"sku_id": SOCK, "quantity": 2, "unit_price": 1500, "discount": None,
                                  "paid": 3000, "points": 0}]
    assert received["points"] == 0


def test_staff_refuse_with_a_reason_which_ends_the_return(client, completed, staff, db):
    ret, _ = requested(client, completed)
    base = f"{URL}/{ret['id']}"
    res = client.post(f"{base}/refuse", json={}, headers=staff)
    assert res.status_code == 422 and "reason" in res.json["error"]["details"]["fields"]
    refused = client.post(f"{base}/refuse", json={"reason": "商品已使用"}, headers=staff).json
    assert (refused["status"], refused["refusal_reason"], refused["reason"]) == ("refused", "商品已使用", "七天无理由")
    evt = outbox_events(db, ret["order_id"])[-1]
    assert (evt["type"], evt["data"]["status"], evt["data"]["reason"]) == ("ReturnRefused", "refused", "商品已使用")
    for step in ("approve", "receive"):
        res = client.post(f"{base}/{step}", headers=staff)
        assert res.status_code == 409 and res.json["error"]["code"] == "illegal_transition"


def test_an_illegal_step_is_a_conflict_and_emits_nothing(client, completed, staff, db):
    ret, me = requested(client, completed)
    base = f"{URL}/{ret['id']}"
    parcel = {"carrier": "sf", "tracking_number": tracking_number()}
    for call in (partial(client.post, f"{base}/ship", json=parcel, headers=me),
                 partial(client.post, f"{base}/receive", headers=staff)):
        res = call()
        assert res.status_code == 409 and res.json["error"]["code"] == "illegal_transition"
        assert res.json["error"]["details"]["status"] == "requested"
    client.post(f"{base}/approve", headers=staff)
    for call in (partial(client.post, f"{base}/approve", headers=staff),
                 partial(client.post, f"{base}/refuse", json={"reason": "late"}, headers=staff),
                 partial(client.post, f"{base}/receive", headers=staff)):
        assert call().json["error"]["code"] == "illegal_transition"
    assert [e["type"] for e in outbox_events(db, ret["order_id"])] == ["ReturnRequested", "ReturnApproved"]


def test_the_parcel_back_needs_a_known_carrier_and_a_number_of_its_format(client, completed, staff, keys):
    ret, me = requested(client, completed)
    base = f"{URL}/{ret['id']}"
    client.post(f"{base}/approve", headers=staff)
    for body, field in (({"carrier": "pigeon", "tracking_number": "1"}, "carrier"),
                        ({"carrier": "sf", "tracking_number": "SF123"}, "tracking_number"),
                        ({"carrier": "sf"}, "tracking_number")):
        res = client.post(f"{base}/ship", json=body, headers=me)
        assert res.status_code == 422 and field in res.json["error"]["details"]["fields"], res.json
    parcel = {"carrier": "zto", "tracking_number": str(uuid.uuid4().int)[:13]}
    assert client.post(f"{base}/ship", json=parcel, headers=keys.headers()).status_code == 404
    res = client.post(f"{base}/ship", json=parcel, headers=staff)
    assert res.status_code == 403 and res.json["error"]["code"] == "customer_only"
    assert client.post(f"{base}/ship", json=parcel, headers=me).json["status"] == "shipped"


def test_only_staff_approve_refuse_and_receive(client, completed):
    ret, me = requested(client, completed)
    base = f"{URL}/{ret['id']}"
    for step, body in (("approve", None), ("refuse", {"reason": "x"}), ("receive", None)):
        assert client.post(f"{base}/{step}", json=body).status_code == 401
        assert client.post(f"{base}/{step}", json=body, headers=me).status_code == 403
    assert client.post(f"{URL}/{uuid.uuid4()}/approve", headers=me).status_code == 403


def test_an_unknown_return_is_not_found(client, staff):
    res = client.post(f"{URL}/{uuid.uuid4()}/approve", headers=staff)
    assert res.status_code == 404 and res.json["error"]["code"] == "return_not_found"


def test_a_customer_reads_their_own_returns_and_staff_read_all(client, completed, staff, keys):
    mine, me = requested(client, completed)
    theirs, _ = requested(client, completed)
    assert client.get(f"{URL}/{mine['id']}", headers=me).json["id"] == mine["id"]
    assert client.get(f"{URL}/{mine['id']}", headers=staff).json["id"] == mine["id"]
    res = client.get(f"{URL}/{theirs['id']}", headers=me)
    assert res.status_code == 404 and res.json["error"]["code"] == "return_not_found"
    page = client.get(URL, headers=me).json
    assert [r["id"] for r in page["items"]] == [mine["id"]] and page["total"] == 1
    assert (page["page"], page["per_page"]) == (1, 20)
    assert client.get(URL, headers=keys.headers()).json["items"] == []
    client.post(f"{URL}/{theirs['id']}/approve", headers=staff)
    by_order = client.get(URL, query_string={"order_id": theirs["order_id"]}, headers=staff).json
    assert [r["id"] for r in by_order["items"]] == [theirs["id"]]
    approved = client.get(URL, query_string={"status": "approved", "per_page": 100}, headers=staff).json
    assert theirs["id"] in [r["id"] for r in approved["items"]]
    assert {r["status"] for r in approved["items"]} == {"approved"}
    res = client.get(URL, query_string={"status": "lost"}, headers=staff)
    assert res.status_code == 422 and "status" in res.json["error"]["details"]["fields"]


def test_a_refund_without_a_return_or_for_a_return_not_received_changes_nothing(client, completed, db):
    ret, me = requested(client, completed)
    plain = RefundCompleted(refund_id=str(uuid.uuid4()), payment_id="p", order_id=ret["order_id"], amount=100)
    assert deliver(db, HANDLERS, envelope(plain, "payment"))
    assert deliver(db, HANDLERS, refund(ret))
    assert deliver(db, HANDLERS, refund({**ret, "id": str(uuid.uuid4())}))  # an unknown return: logged
    assert client.get(f"{URL}/{ret['id']}", headers=me).json["status"] == "requested"


def test_requests_for_the_last_units_at_once_take_them_once(app, completed, db):
    base = app.extensions["logistics_config"].url + URL
    order_id, me = completed()
    body = {"order_id": order_id, "lines": [{"sku_id": SHOE, "quantity": 2}], "reason": "r"}
    assert race(*[partial(requests.post, base, json=body, headers=me, timeout=10)] * 3) == [201, 422, 422]
    assert [e["type"] for e in outbox_events(db, order_id)] == ["ReturnRequested"]


def test_approving_and_refusing_at_once_applies_one(app, client, completed, staff, db):
    base = app.extensions["logistics_config"].url + URL
    for _ in range(3):
        ret, _ = requested(client, completed)
        approve = partial(requests.post, f"{base}/{ret['id']}/approve", headers=staff, timeout=10)
        refuse = partial(requests.post, f"{base}/{ret['id']}/refuse", json={"reason": "no"}, headers=staff,
                         timeout=10)
        assert race(approve, refuse, approve) == [200, 409, 409]
        with db.transaction() as session:
            status = session.scalar(select(Return.status).where(Return.id == ret["id"]))
        types = [e["type"] for e in outbox_events(db, ret["order_id"])]
        assert len(types) == 2 and types[1] == {"approved": "ReturnApproved", "refused": "ReturnRefused"}[status]


def test_a_return_worth_more_than_32_bits_of_fen_is_recorded(client, db, keys):
    order_id, customer, big = str(uuid.uuid4()), str(uuid.uuid4()), 3_000_000_000  # 30 million yuan
    placed = OrderPlaced(order_id=order_id, customer_id=customer, total=big, shipping_address=ADDRESS,
                         lines=[Line(SHOE, 1, big)], delivery_method_id="standard")
    assert deliver(db, HANDLERS, envelope(placed, "order"))
    for previous, step in zip(("PENDING", *PATH), PATH, strict=False):
        changed = OrderStatusChanged(order_id=order_id, customer_id=customer, status=step, previous_status=previous,
                                     at=iso(utcnow()))
        assert deliver(db, HANDLERS, envelope(changed, "order"))
    res = ask(client, keys.headers(customer), order_id, (SHOE, 1))
    assert res.status_code == 201 and res.json["amount"] == big
