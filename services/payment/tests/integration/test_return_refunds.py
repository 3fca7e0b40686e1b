"""A received return (售后) is refunded from the order's payment: once per return, whatever is
redelivered, and never more than is left of the payment."""
import threading
import uuid

from sqlalchemy import select

from mall_shared.consumer import deliver
from mall_shared.events import Line, OrderPlaced, ReturnReceived, StockReserved, envelope
from mall_shared.testing import outbox_events
from payment.handlers import HANDLERS
from payment.models import Refund

from .test_handlers import pay, settle


def received(order_id, amount, return_id=None, points=0) -> dict:
    """A ReturnReceived envelope (a fresh event id each time, as a republished fact would have)."""
    evt = ReturnReceived(return_id=return_id or str(uuid.uuid4()), order_id=order_id, customer_id="c",
                         status="received", lines=[Line("sku-42", 1, amount, paid=amount, points=points)],
                         amount=amount, points=points, at="2026-11-25T08:00:00Z", carrier="sf",
                         tracking_number="SF123456789012")
    return envelope(evt, "logistics")


def refunds(db, order_id) -> list[Refund]:
    with db.transaction() as session:
        return list(session.scalars(select(Refund).where(Refund.order_id == order_id).order_by(Refund.created_at)))


def test_a_received_return_is_refunded_once_with_its_return_id(client, db, cfg, shop, staff):
    order_id, me = shop.order(total=79800)
    payment = pay(client, cfg, order_id, me)
    env = received(order_id, 39900, points=120)
    return_id = env["data"]["return_id"]
    assert deliver(db, HANDLERS, env) is True
    assert deliver(db, HANDLERS, env) is False  # the same event again: the inbox drops it
    assert deliver(db, HANDLERS, received(order_id, 39900, return_id)) is True  # the same fact anew: no effect
    settle(db, cfg)
    after = client.get(f"/api/payments/{payment['id']}", headers=me).json
    assert (after["status"], after["refunded_amount"]) == ("partially_refunded", 39900)
    (refund,) = client.get(f"/api/payments/{payment['id']}/refunds", headers=staff).json
    assert (refund["amount"], refund["return_id"]) == (39900, return_id)
    events = outbox_events(db, order_id)
    assert [e["type"] for e in events] == ["PaymentConfirmed", "RefundCompleted"]
    assert events[1]["data"] | {"refund_id": None} == {
        "refund_id": None, "payment_id": payment["id"], "order_id": order_id, "amount": 39900, "currency": "CNY",
        "return_id": return_id, "points": 120}


def test_a_discounted_order_is_charged_its_total_and_a_return_refunds_what_its_units_paid(client, db, cfg, keys):
    order_id, customer_id = str(uuid.uuid4()), str(uuid.uuid4())
    placed = OrderPlaced(order_id=order_id, customer_id=customer_id, subtotal=100000, promotion_discount=10000,
                         coupon_discount=5000, points_used=5200, points_discount=5200, delivery_fee=0, total=79800,
                         lines=[Line("sku-42", 2, 50000, discount=20200, paid=79800, points=5200)])
    for evt in (placed, StockReserved(order_id=order_id, lines=[Line("sku-42", 2)])):
        assert deliver(db, HANDLERS, envelope(evt, "order"))
    me = keys.headers(customer_id)
    payment = pay(client, cfg, order_id, me)
    assert payment["amount"] == 79800
    deliver(db, HANDLERS, received(order_id, 39900, points=2600))
    settle(db, cfg)
    (refunded,) = [e["data"] for e in outbox_events(db, order_id) if e["type"] == "RefundCompleted"]
    assert (refunded["amount"], refunded["points"]) == (39900, 2600)


def test_each_return_of_an_order_is_refunded(client, db, cfg, shop):
    order_id, me = shop.order(total=79800)
    payment = pay(client, cfg, order_id, me)
    deliver(db, HANDLERS, received(order_id, 39900))
    deliver(db, HANDLERS, received(order_id, 39900))
    assert client.get(f"/api/payments/{payment['id']}", headers=me).json["status"] == "refunded"
    assert [r.amount for r in refunds(db, order_id)] == [39900, 39900]


def test_a_return_is_refunded_no_more_than_is_left(client, db, cfg, shop, staff):
    order_id, me = shop.order(total=79800)
    payment = pay(client, cfg, order_id, me)
    res = client.post(f"/api/payments/{payment['id']}/refunds", json={"amount": 50000}, headers=staff)
    assert res.status_code == 201
    deliver(db, HANDLERS, received(order_id, 39900))
    after = client.get(f"/api/payments/{payment['id']}", headers=me).json
    assert (after["status"], after["refunded_amount"]) == ("refunded", 79800)
    assert [r.amount for r in refunds(db, order_id)] == [50000, 29800]
    assert deliver(db, HANDLERS, received(order_id, 100))  # nothing is left: nothing to refund, no error
    assert len(refunds(db, order_id)) == 2


def test_a_return_of_an_order_without_a_paid_payment_refunds_nothing(db, shop):
    order_id, _ = shop.order()
    assert deliver(db, HANDLERS, received(order_id, 100))
    assert deliver(db, HANDLERS, received(str(uuid.uuid4()), 100))
    assert refunds(db, order_id) == [] and outbox_events(db, order_id) == []


def at_once(db, envs) -> list[bool]:
    """Deliver the envelopes at the same moment, each on its own thread: what deliver said."""
    barrier = threading.Barrier(len(envs))
    handled: list[bool] = []

    def handle(env):
        barrier.wait()
        handled.append(deliver(db, HANDLERS, env))

    threads = [threading.Thread(target=handle, args=(env,)) for env in envs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return handled


def test_the_same_return_received_twice_at_once_is_refunded_once(client, db, cfg, shop):
    for _ in range(3):
        order_id, me = shop.order(total=79800)
        pay(client, cfg, order_id, me)
        return_id = str(uuid.uuid4())
        assert at_once(db, [received(order_id, 10000, return_id) for _ in range(3)]) == [True] * 3
        assert [(r.amount, r.return_id) for r in refunds(db, order_id)] == [(10000, return_id)]
        settle(db, cfg)
        assert [e["type"] for e in outbox_events(db, order_id)] == ["PaymentConfirmed", "RefundCompleted"]
