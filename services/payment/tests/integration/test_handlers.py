"""The saga duties: OrderPlaced and StockReserved make an order payable, OrderCancelled makes
it unpayable and refunds what was paid. Each event is delivered twice; the second changes nothing."""
import uuid

from mall_shared.consumer import deliver
from mall_shared.events import Line, OrderCancelled, OrderPlaced, StockReserved, envelope
from mall_shared.testing import outbox_events
from payment import sandbox
from payment.handlers import HANDLERS
from payment.refunds import settle_pending_refunds


def twice(db, evt):
    env = envelope(evt, "order")
    assert deliver(db, HANDLERS, env) is True
    assert deliver(db, HANDLERS, env) is False


def cancel(db, order_id, reason="customer cancelled"):
    twice(db, OrderCancelled(order_id=order_id, customer_id="c", total=79800, reason=reason))


def settle(db, cfg):
    """What the worker does each second: ask the provider for the refunds recorded, and settle."""
    settle_pending_refunds(db, cfg)
    settle_pending_refunds(db, cfg)  # again: nothing more happens


def pay(client, cfg, order_id, headers, outcome="success"):
    payment = client.post("/api/payments", json={"order_id": order_id, "method": "alipay"}, headers=headers).json
    assert client.post("/api/payments/notify/alipay",
                       data=sandbox.notification(cfg, payment["id"], payment["amount"], outcome)).status_code == 200
    return payment


def test_events_in_any_order_make_the_order_payable(client, db, keys):
    order_id, customer = str(uuid.uuid4()), str(uuid.uuid4())
    twice(db, StockReserved(order_id=order_id, lines=[Line("s", 1)]))
    twice(db, OrderPlaced(order_id=order_id, customer_id=customer, lines=[Line("s", 1, 500)], total=500))
    res = client.post("/api/payments", json={"order_id": order_id, "method": "alipay"},
                      headers=keys.headers(customer))
    assert res.status_code == 201 and res.json["amount"] == 500


def test_a_cancelled_order_is_no_longer_payable(client, db, shop):
    order_id, me = shop.order()
    cancel(db, order_id)
    res = client.post("/api/payments", json={"order_id": order_id, "method": "alipay"}, headers=me)
    assert res.json["error"]["code"] == "order_not_payable"
    assert outbox_events(db, order_id) == []


def test_a_paid_order_is_no_longer_payable(client, db, cfg, shop):
    order_id, me = shop.order()
    pay(client, cfg, order_id, me)
    res = client.post("/api/payments", json={"order_id": order_id, "method": "alipay"}, headers=me)
    assert res.status_code == 409


def test_cancelling_a_paid_order_refunds_it_in_full_once(client, db, cfg, shop, staff):
    order_id, me = shop.order(total=79800)
    payment = pay(client, cfg, order_id, me)
    cancel(db, order_id)
    cancel(db, order_id, reason="cancelled again by staff")  # a different event, the same meaning
    settle(db, cfg)
    assert client.get(f"/api/payments/{payment['id']}", headers=me).json["status"] == "refunded"
    events = outbox_events(db, order_id)
    assert [e["type"] for e in events] == ["PaymentConfirmed", "RefundCompleted"]
    assert events[1]["data"]["amount"] == 79800 and events[1]["data"]["payment_id"] == payment["id"]
    (refund,) = client.get(f"/api/payments/{payment['id']}/refunds", headers=staff).json
    assert refund["amount"] == 79800 and refund["reason"].startswith("order cancelled")


def test_a_payment_confirmed_after_the_order_was_cancelled_is_refunded(client, db, cfg, shop):
    order_id, me = shop.order(total=79800)
    payment = client.post("/api/payments", json={"order_id": order_id, "method": "alipay"}, headers=me).json
    cancel(db, order_id)
    params = sandbox.notification(cfg, payment["id"], 79800, "success")
    assert client.post("/api/payments/notify/alipay", data=params).get_data(as_text=True) == "success"
    settle(db, cfg)
    assert client.get(f"/api/payments/{payment['id']}", headers=me).json["status"] == "refunded"
    assert [e["type"] for e in outbox_events(db, order_id)] == ["PaymentConfirmed", "RefundCompleted"]


def test_cancelling_after_a_failed_payment_refunds_nothing(client, db, cfg, shop):
    order_id, me = shop.order()
    pay(client, cfg, order_id, me, outcome="failure")
    cancel(db, order_id)
    assert [e["type"] for e in outbox_events(db, order_id)] == ["PaymentFailed"]


def test_an_order_past_32_bits_of_fen_is_payable_and_refundable(client, db, cfg, shop):
    big = 3_000_000_000  # 30 million yuan: more than a 32-bit column holds
    order_id, me = shop.order(total=big)
    payment = pay(client, cfg, order_id, me)
    assert payment["amount"] == big
    twice(db, OrderCancelled(order_id=order_id, customer_id="c", total=big, reason="changed my mind"))
    settle(db, cfg)
    assert [e["data"]["amount"] for e in outbox_events(db, order_id) if e["type"] == "RefundCompleted"] == [big]
