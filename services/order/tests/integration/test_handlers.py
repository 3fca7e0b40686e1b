"""The saga's steps as order takes them. Each event is delivered twice (the second delivery
must change nothing), and facts are also repeated under new ids or sent out of order."""
import uuid

from mall_shared.events import (
    Delivered,
    Line,
    PaymentConfirmed,
    PaymentFailed,
    RefundCompleted,
    Shipped,
    StockRejected,
    StockReserved,
)
from mall_shared.testing import outbox_events


def reserved(order):
    return StockReserved(order_id=order["id"], lines=[Line(ln["sku_id"], ln["quantity"]) for ln in order["lines"]])


def paid(order, payment_id="pay-1"):
    return PaymentConfirmed(payment_id=payment_id, order_id=order["id"], method="alipay", amount=order["total"])


def parcel(event_type, order, status):
    return event_type(shipment_id="ship-1", order_id=order["id"], carrier="sf", tracking_number="SF1234567890123",
                      status=status, at="2026-11-25T06:00:00Z")


def types(db, order):
    return [e["type"] for e in outbox_events(db, order["id"])]


def changes(db, order):
    return [e["data"]["status"] for e in outbox_events(db, order["id"]) if e["type"] == "OrderStatusChanged"]


def staff_process(client, staff, order):
    res = client.post(f"/api/orders/{order['id']}/process", headers=staff)
    assert res.status_code == 200, res.json


def test_stock_reserved_makes_the_order_await_payment_once(shop, db):
    order = shop.place()
    shop.send(reserved(order))
    shop.send(reserved(order))  # the same fact under a new event id
    got = shop.get(order["id"])
    assert got["status"] == "AWAITING_PAYMENT"
    assert [(h["status"], h["actor"]) for h in got["history"]] == [
        ("PENDING", f"customer:{shop.customer_id}"), ("AWAITING_PAYMENT", "catalog")]
    (change,) = [e for e in outbox_events(db, order["id"]) if e["type"] == "OrderStatusChanged"]
    assert change["data"] == {"order_id": order["id"], "customer_id": shop.customer_id, "status": "AWAITING_PAYMENT",
                              "previous_status": "PENDING", "at": change["data"]["at"], "reason": "stock_reserved"}


def test_stock_rejected_cancels_the_order_with_catalogs_reason(shop, db):
    order = shop.place()
    reason = "insufficient_stock: SKU RUN-41: 4 requested, 3 available"
    shop.send(StockRejected(order_id=order["id"], reason=reason, sku_ids=[order["lines"][0]["sku_id"]]))
    got = shop.get(order["id"])
    assert got["status"] == "CANCELLED" and got["cancel_reason"] == reason
    assert types(db, order) == ["OrderPlaced", "OrderStatusChanged", "OrderCancelled"]
    cancelled = outbox_events(db, order["id"])[-1]["data"]
    assert cancelled["reason"] == reason and cancelled["total"] == order["total"]


def test_payment_confirmed_makes_the_order_paid(shop, db):
    order = shop.place()
    shop.send(reserved(order))
    shop.send(paid(order))
    shop.send(paid(order))  # a duplicate notification, re-announced
    assert shop.get(order["id"])["status"] == "PAID"
    assert changes(db, order) == ["AWAITING_PAYMENT", "PAID"]


def test_a_payment_that_overtakes_the_reservation_passes_through_awaiting_payment(shop, db):
    order = shop.place()
    shop.send(paid(order))
    shop.send(reserved(order))  # arrives late: changes nothing
    got = shop.get(order["id"])
    assert [h["status"] for h in got["history"]] == ["PENDING", "AWAITING_PAYMENT", "PAID"]
    assert changes(db, order) == ["AWAITING_PAYMENT", "PAID"]


def test_a_payment_for_a_cancelled_order_is_noted_and_the_order_stays_cancelled(shop, db, client):
    order = shop.place()
    shop.send(reserved(order))
    client.post(f"/api/orders/{order['id']}/cancel", headers=shop.headers)
    before = types(db, order)
    shop.send(paid(order))
    shop.send(paid(order))
    got = shop.get(order["id"])
    assert got["status"] == "CANCELLED"
    assert got["history"][-1]["kind"] == "note" and "payment_confirmed" in got["history"][-1]["reason"]
    assert len(got["history"]) == 4  # PENDING, AWAITING_PAYMENT, CANCELLED, the note once
    assert types(db, order) == before  # payment refunds it on the OrderCancelled it already has


def test_a_failed_payment_leaves_the_order_awaiting_payment_with_a_note(shop, db):
    order = shop.place()
    shop.send(reserved(order))
    failed = PaymentFailed(payment_id="pay-9", order_id=order["id"], method="card", amount=order["total"],
                           reason="card_declined")
    shop.send(failed)
    shop.send(failed)
    got = shop.get(order["id"])
    assert got["status"] == "AWAITING_PAYMENT"
    assert [(h["kind"], h["reason"]) for h in got["history"][2:]] == [("note", "payment_failed: card_declined")]
    assert changes(db, order) == ["AWAITING_PAYMENT"]


def test_shipped_then_delivered_completes_the_order(shop, db, client, staff):
    order = shop.place()
    shop.send(reserved(order))
    shop.send(paid(order))
    staff_process(client, staff, order)
    shop.send(parcel(Shipped, order, "shipped"))
    assert shop.get(order["id"])["status"] == "SHIPPED"
    shop.send(parcel(Delivered, order, "delivered"))
    shop.send(parcel(Delivered, order, "delivered"))
    got = shop.get(order["id"])
    assert [h["status"] for h in got["history"]] == [
        "PENDING", "AWAITING_PAYMENT", "PAID", "PROCESSING", "SHIPPED", "COMPLETED"]
    assert changes(db, order) == ["AWAITING_PAYMENT", "PAID", "PROCESSING", "SHIPPED", "COMPLETED"]
    (completed,) = [e for e in outbox_events(db, order["id"]) if e["type"] == "OrderCompleted"]
    assert completed["data"] == {"order_id": order["id"], "customer_id": shop.customer_id,
                                 "total": order["total"], "currency": "CNY"}


def test_a_delivery_that_overtakes_the_shipment_completes_the_order_and_the_late_shipment_changes_nothing(
        shop, db, client, staff):
    order = shop.place()
    shop.send(reserved(order))
    shop.send(paid(order))
    staff_process(client, staff, order)
    shop.send(parcel(Delivered, order, "delivered"))
    shop.send(parcel(Shipped, order, "shipped"))
    assert shop.get(order["id"])["status"] == "COMPLETED"
    assert changes(db, order)[-2:] == ["SHIPPED", "COMPLETED"]
    assert types(db, order).count("OrderCompleted") == 1


def test_a_shipment_for_an_unpaid_order_is_only_noted(shop, db):
    order = shop.place()
    shop.send(reserved(order))
    shop.send(parcel(Shipped, order, "shipped"))
    got = shop.get(order["id"])
    assert got["status"] == "AWAITING_PAYMENT" and got["history"][-1]["kind"] == "note"
    assert changes(db, order) == ["AWAITING_PAYMENT"]


def test_a_refund_after_cancelling_a_paid_order_shows_in_its_history(shop, db, client):
    order = shop.place()
    shop.send(reserved(order))
    shop.send(paid(order))
    res = client.post(f"/api/orders/{order['id']}/cancel", json={"reason": "changed my mind"}, headers=shop.headers)
    assert res.status_code == 200 and res.json["status"] == "CANCELLED"
    refund = RefundCompleted(refund_id="ref-1", payment_id="pay-1", order_id=order["id"], amount=order["total"])
    shop.send(refund)
    shop.send(refund)  # the same refund, announced again
    got = shop.get(order["id"])
    assert got["refunded"] == order["total"]
    assert [h["kind"] for h in got["history"]] == ["status", "status", "status", "status", "note"]
    assert got["history"][-1]["reason"].startswith("refund_completed")


def test_events_about_an_unknown_order_are_ignored(shop):
    shop.send(StockReserved(order_id=str(uuid.uuid4()), lines=[]))
    shop.send(RefundCompleted(refund_id="r", payment_id="p", order_id=str(uuid.uuid4()), amount=1))


def test_a_reservation_for_an_order_the_customer_already_cancelled_changes_nothing(shop, db, client):
    order = shop.place()
    client.post(f"/api/orders/{order['id']}/cancel", headers=shop.headers)
    before = types(db, order)
    shop.send(reserved(order))
    got = shop.get(order["id"])
    assert got["status"] == "CANCELLED" and got["history"][-1]["kind"] == "note"
    assert types(db, order) == before  # catalog releases the stock on the OrderCancelled it already has
