"""The purchase history and membership points built from order's and payment's events. Each
event is delivered twice: the second delivery must return False and change nothing."""
import uuid

import pytest
from sqlalchemy import select

from crm.handlers import HANDLERS
from crm.models import PurchaseRecord
from mall_shared.consumer import deliver, handle_batch
from mall_shared.events import (
    Line,
    OrderCancelled,
    OrderCompleted,
    OrderPlaced,
    OrderStatusChanged,
    RefundCompleted,
    envelope,
    parse,
)
from mall_shared.testing import outbox_events, race


def new_id() -> str:
    return str(uuid.uuid4())


def twice(db, evt, source="order"):
    env = envelope(evt, source)
    assert deliver(db, HANDLERS, env) is True
    assert deliver(db, HANDLERS, env) is False


@pytest.fixture
def customer(keys):
    customer_id = new_id()
    return customer_id, keys.headers(sub=customer_id)


def place(db, customer_id, total=79800, order_id=None):
    order_id = order_id or new_id()
    twice(db, OrderPlaced(order_id=order_id, customer_id=customer_id, lines=[Line("sku-42", 2, 39900)], total=total))
    return order_id


def status(db, customer_id, order_id, new, previous=None, reason=None):
    twice(db, OrderStatusChanged(order_id=order_id, customer_id=customer_id, status=new, previous_status=previous,
                                 at="2026-11-25T06:00:00Z", reason=reason))


def complete(db, customer_id, order_id, total=79800):
    status(db, customer_id, order_id, "COMPLETED", "SHIPPED")
    twice(db, OrderCompleted(order_id=order_id, customer_id=customer_id, total=total))


def history(client, headers, **params):
    res = client.get("/api/crm/me/orders", query_string=params, headers=headers)
    assert res.status_code == 200, res.json
    return res.json


def membership(client, headers):
    return client.get("/api/crm/me/membership", headers=headers).json


def test_a_placed_order_shows_in_the_purchase_history_as_pending(client, db, customer):
    customer_id, headers = customer
    order_id = place(db, customer_id)
    (item,) = history(client, headers)["items"]
    assert (item["order_id"], item["status"], item["total"]) == (order_id, "PENDING", 79800)
    assert item["lines"] == [{"sku_id": "sku-42", "quantity": 2, "unit_price": 39900}]


def test_the_history_follows_the_order_and_ignores_a_late_older_status(client, db, customer):
    customer_id, headers = customer
    order_id = place(db, customer_id)
    status(db, customer_id, order_id, "AWAITING_PAYMENT", "PENDING")
    status(db, customer_id, order_id, "PAID", "AWAITING_PAYMENT")
    status(db, customer_id, order_id, "AWAITING_PAYMENT", "PENDING")  # redelivered late
    assert history(client, headers)["items"][0]["status"] == "PAID"


def test_a_status_change_before_the_order_placed_event_still_ends_right(client, db, customer):
    customer_id, headers = customer
    order_id = new_id()
    status(db, customer_id, order_id, "AWAITING_PAYMENT", "PENDING")
    place(db, customer_id, order_id=order_id)
    (item,) = history(client, headers)["items"]
    assert (item["status"], item["total"], len(item["lines"])) == ("AWAITING_PAYMENT", 79800, 1)


def test_a_cancelled_order_shows_its_reason_and_a_refund_its_amount(client, db, customer):
    customer_id, headers = customer
    order_id = place(db, customer_id)
    twice(db, OrderCancelled(order_id=order_id, customer_id=customer_id, total=79800, reason="customer"))
    twice(db, RefundCompleted(refund_id=new_id(), payment_id=new_id(), order_id=order_id, amount=79800), "payment")
    (item,) = history(client, headers)["items"]
    assert (item["status"], item["cancel_reason"], item["refunded"]) == ("CANCELLED", "customer", 79800)
    assert membership(client, headers)["points"] == 0  # nothing earned, nothing reversed


def test_the_history_is_paginated_newest_first(client, db, customer):
    customer_id, headers = customer
    orders = [place(db, customer_id) for _ in range(3)]
    page1 = history(client, headers, per_page=2)
    page2 = history(client, headers, per_page=2, page=2)
    assert page1["total"] == 3 and (page1["page"], page1["per_page"]) == (1, 2)
    assert [i["order_id"] for i in page1["items"] + page2["items"]] == orders[::-1]


def test_a_completed_order_awards_points_once(client, db, customer):
    customer_id, headers = customer
    order_id = place(db, customer_id)
    complete(db, customer_id, order_id)
    # A different event with the same meaning (order re-sent it) awards nothing more.
    twice(db, OrderCompleted(order_id=order_id, customer_id=customer_id, total=79800))
    card = membership(client, headers)
    assert (card["points"], card["tier"], card["tier_label"]) == (798, "regular", "普通")
    assert (card["next_tier"], card["points_to_next"]) == ("silver", 202)
    assert [(e["order_id"], e["points"], e["reason"]) for e in card["ledger"]] == [(order_id, 798, "order_completed")]
    assert history(client, headers)["items"][0]["status"] == "COMPLETED"
    (awarded,) = [e for e in outbox_events(db, order_id) if e["type"] == "PointsAwarded"]
    assert awarded["data"] == {"customer_id": customer_id, "order_id": order_id, "points": 798, "balance": 798}


def test_crossing_a_threshold_changes_the_tier_up_then_a_refund_changes_it_down(client, db, customer):
    customer_id, headers = customer
    first = place(db, customer_id)
    complete(db, customer_id, first)
    second = place(db, customer_id, total=50000)
    complete(db, customer_id, second, total=50000)
    assert membership(client, headers)["tier"] == "silver"  # 798 + 500 = 1298
    (up,) = [e for e in outbox_events(db, second) if e["type"] == "TierChanged"]
    assert (up["data"]["old_tier"], up["data"]["new_tier"]) == ("regular", "silver")

    refund_id = new_id()
    twice(db, RefundCompleted(refund_id=refund_id, payment_id=new_id(), order_id=second, amount=50000), "payment")
    card = membership(client, headers)
    assert (card["points"], card["tier"]) == (798, "regular")
    types = [e["type"] for e in outbox_events(db, second)]
    assert types[-3:] == ["PointsAdjusted", "TierChanged", "MembershipChanged"]
    assert outbox_events(db, second)[-2]["data"]["new_tier"] == "regular"
    assert outbox_events(db, second)[-1]["data"] | {"version": 0} == {
        "customer_id": customer_id, "tier": "regular", "balance": 798, "version": 0}
    assert card["ledger"][0]["points"] == -500


def test_partial_refunds_reverse_points_proportionally_once_per_refund(client, db, customer):
    customer_id, headers = customer
    order_id = place(db, customer_id)
    complete(db, customer_id, order_id)
    refund = RefundCompleted(refund_id=new_id(), payment_id=new_id(), order_id=order_id, amount=39900)
    twice(db, refund, "payment")
    assert membership(client, headers)["points"] == 399
    twice(db, RefundCompleted(refund_id=refund.refund_id, payment_id=refund.payment_id, order_id=order_id,
                              amount=39900), "payment")  # the same refund, re-sent
    assert membership(client, headers)["points"] == 399
    twice(db, RefundCompleted(refund_id=new_id(), payment_id=new_id(), order_id=order_id, amount=39900), "payment")
    assert membership(client, headers)["points"] == 0
    assert history(client, headers)["items"][0]["refunded"] == 79800


def test_a_reversal_never_takes_the_balance_below_zero(client, db, register, staff):
    profile, headers, _ = register()
    order_id = place(db, profile["id"])
    complete(db, profile["id"], order_id)
    res = client.post(f"/api/crm/customers/{profile['id']}/points", json={"points": -700, "reason": "兑换礼品"},
                      headers=staff)
    assert res.status_code == 201, res.json
    twice(db, RefundCompleted(refund_id=new_id(), payment_id=new_id(), order_id=order_id, amount=79800), "payment")
    assert membership(client, headers)["points"] == 0


def test_one_customer_never_sees_anothers_history_or_points(client, db, customer, keys):
    customer_id, _ = customer
    order_id = place(db, customer_id)
    complete(db, customer_id, order_id)
    other = keys.headers(sub=new_id())
    assert history(client, other)["items"] == []
    assert membership(client, other)["points"] == 0


def test_a_refund_handled_before_the_completion_still_reverses_its_points(client, db, customer):
    customer_id, headers = customer
    order_id = place(db, customer_id)
    twice(db, RefundCompleted(refund_id=new_id(), payment_id=new_id(), order_id=order_id, amount=39900), "payment")
    complete(db, customer_id, order_id)
    card = membership(client, headers)
    assert card["points"] == 399
    assert sorted(e["points"] for e in card["ledger"]) == [-399, 798]


@pytest.mark.parametrize("parked", ["OrderCompleted", "RefundCompleted"])
def test_a_refund_and_the_completion_handled_at_once_by_two_workers_take_back_its_points(client, db, customer, parked):
    """Worker 1's batch handles the completion (the first crm hears of the order: points awarded,
    refunds read) or the refund (the award looked for), then another order's event that the test
    parks before the commit (by holding that order's history row); worker 2 handles the other
    meanwhile. Neither may miss the other: the refund takes its share of the points back."""
    customer_id, headers = customer
    other, order_id = place(db, customer_id), new_id()
    events = {"OrderCompleted": envelope(OrderCompleted(order_id=order_id, customer_id=customer_id, total=79800),
                                         "order"),
              "RefundCompleted": envelope(RefundCompleted(refund_id=new_id(), payment_id=new_id(), order_id=order_id,
                                                          amount=39900), "payment")}
    first, (_, second) = events.pop(parked), events.popitem()
    batch = [parse(first), parse(envelope(OrderStatusChanged(
        order_id=other, customer_id=customer_id, status="AWAITING_PAYMENT", previous_status="PENDING",
        at="2026-11-25T06:00:00Z"), "order"))]
    assert race(db, lambda: handle_batch(db, HANDLERS, batch), lambda: deliver(db, HANDLERS, second),
                parked_at=select(PurchaseRecord).where(PurchaseRecord.order_id == other).with_for_update()) == (2, True)
    card = membership(client, headers)
    assert sorted(e["points"] for e in card["ledger"]) == [-399, 798] and card["points"] == 399
    assert {i["order_id"]: i["refunded"] for i in history(client, headers)["items"]}[order_id] == 39900


def test_an_order_past_32_bits_of_fen_is_recorded_and_earns_its_points(client, db, customer):
    customer_id, headers = customer
    big = 3_000_000_000  # 30 million yuan: more than a 32-bit column holds
    order_id = place(db, customer_id, total=big)
    complete(db, customer_id, order_id, total=big)
    twice(db, RefundCompleted(refund_id=new_id(), payment_id=new_id(), order_id=order_id, amount=big), "payment")
    assert history(client, headers)["items"][0]["total"] == big


def test_a_page_past_the_last_possible_one_is_refused_not_a_server_error(client, customer):
    res = client.get("/api/crm/me/orders", query_string={"page": 10**12}, headers=customer[1])
    assert res.status_code == 422 and res.json["error"]["code"] == "validation_error"
