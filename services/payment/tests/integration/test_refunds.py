"""Refunds by staff: full and partial, never more than was paid less what was refunded."""
import pytest

from mall_shared.testing import outbox_events
from payment import sandbox


@pytest.fixture
def paid(client, cfg, shop):
    order_id, me = shop.order(total=79800)
    payment = client.post("/api/payments", json={"order_id": order_id, "method": "alipay"}, headers=me).json
    client.post("/api/payments/notify/alipay", data=sandbox.notification(cfg, payment["id"], 79800, "success"))
    return payment, me


def refund(client, payment_id, amount, headers):
    return client.post(f"/api/payments/{payment_id}/refunds", json={"amount": amount, "reason": "damaged"},
                       headers=headers)


def test_partial_refunds_then_the_rest(client, db, paid, staff):
    payment, me = paid
    first = refund(client, payment["id"], 30000, staff)
    assert first.status_code == 201, first.json
    assert client.get(f"/api/payments/{payment['id']}", headers=me).json["status"] == "partially_refunded"
    assert refund(client, payment["id"], 49800, staff).status_code == 201
    after = client.get(f"/api/payments/{payment['id']}", headers=me).json
    assert (after["status"], after["refunded_amount"]) == ("refunded", 79800)
    refunds = [e for e in outbox_events(db, payment["order_id"]) if e["type"] == "RefundCompleted"]
    assert [e["data"]["amount"] for e in refunds] == [30000, 49800]
    assert len(client.get(f"/api/payments/{payment['id']}/refunds", headers=staff).json) == 2


def test_a_refund_never_exceeds_what_is_left(client, db, paid, staff):
    payment, _me = paid
    refund(client, payment["id"], 79000, staff)
    res = refund(client, payment["id"], 801, staff)
    assert res.status_code == 409 and res.json["error"]["code"] == "refund_exceeds_paid"
    assert res.json["error"]["details"] == {"refundable": 800}
    assert len([e for e in outbox_events(db, payment["order_id"]) if e["type"] == "RefundCompleted"]) == 1


def test_an_unpaid_payment_cannot_be_refunded(client, shop, staff):
    order_id, me = shop.order()
    payment = client.post("/api/payments", json={"order_id": order_id, "method": "alipay"}, headers=me).json
    assert refund(client, payment["id"], 1, staff).status_code == 409


def test_customers_cannot_refund_and_amounts_are_validated(client, paid, staff):
    payment, me = paid
    assert refund(client, payment["id"], 100, me).status_code == 403
    assert refund(client, payment["id"], 0, staff).status_code == 422
    assert client.get(f"/api/payments/{payment['id']}/refunds", headers=me).status_code == 403
