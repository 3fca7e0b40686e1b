"""The unpaid timeout: the worker's periodic job cancels orders left unpaid too long."""
from datetime import timedelta

from mall_shared.db import utcnow
from mall_shared.events import PaymentConfirmed, StockReserved
from mall_shared.testing import outbox_events
from order.saga import cancel_expired_orders


def run_job(db, **kwargs) -> int:
    total = 0
    while True:  # the job works in batches: run it until nothing is left, as the worker would
        with db.transaction() as session:
            done = cancel_expired_orders(session, **kwargs)
        total += done
        if not done:
            return total


def test_unpaid_orders_are_cancelled_after_the_timeout_and_paid_ones_are_not(shop, db):
    pending, awaiting, paid = shop.place(), shop.place(), shop.place()
    for order in (awaiting, paid):
        shop.send(StockReserved(order_id=order["id"], lines=[]))
    shop.send(PaymentConfirmed(payment_id="p", order_id=paid["id"], method="alipay", amount=paid["total"]))

    run_job(db, timeout=1800)  # nothing here is 30 minutes old yet
    assert {shop.get(o["id"])["status"] for o in (pending, awaiting)} == {"PENDING", "AWAITING_PAYMENT"}

    assert run_job(db, now=utcnow() + timedelta(minutes=31)) >= 2
    for order in (pending, awaiting):
        got = shop.get(order["id"])
        assert got["status"] == "CANCELLED" and got["cancel_reason"] == "payment_timeout"
        assert got["history"][-1]["actor"] == "system"
        cancelled = [e for e in outbox_events(db, order["id"]) if e["type"] == "OrderCancelled"]
        assert len(cancelled) == 1 and cancelled[0]["data"]["reason"] == "payment_timeout"
    assert shop.get(paid["id"])["status"] == "PAID"
    assert run_job(db, now=utcnow() + timedelta(minutes=31)) == 0  # a second run changes nothing


def test_the_timeout_is_measured_from_when_the_order_was_placed(shop, db):
    order = shop.place()
    run_job(db, now=utcnow() + timedelta(seconds=5), timeout=10)
    assert shop.get(order["id"])["status"] == "PENDING"
    run_job(db, now=utcnow() + timedelta(seconds=11), timeout=10)
    assert shop.get(order["id"])["status"] == "CANCELLED"
