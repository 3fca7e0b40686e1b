"""Alipay's asynchronous notifications, built and signed in-process by the sandbox's signer and
posted form-encoded to the notify endpoint, as Alipay does."""
import pytest
from sqlalchemy import func, select

from mall_shared.testing import outbox_events
from payment import sandbox
from payment.models import Notification


@pytest.fixture
def pending(client, shop):
    order_id, me = shop.order(total=79800)
    payment = client.post("/api/payments", json={"order_id": order_id, "method": "alipay"}, headers=me).json
    return payment, me


def notify(client, params):
    return client.post("/api/payments/notify/alipay", data=params)


def notes(db, payment_id):
    with db.transaction() as session:
        return session.scalars(select(Notification).where(Notification.payment_id == payment_id)
                               .order_by(Notification.received_at)).all()


def test_a_genuine_success_notification_confirms_the_payment(client, db, cfg, pending):
    payment, me = pending
    res = notify(client, sandbox.notification(cfg, payment["id"], 79800, "success"))
    assert (res.status_code, res.get_data(as_text=True)) == (200, "success")
    assert client.get(f"/api/payments/{payment['id']}", headers=me).json["status"] == "succeeded"
    (confirmed,) = outbox_events(db, payment["order_id"])
    assert confirmed["type"] == "PaymentConfirmed"
    assert confirmed["data"] == {"payment_id": payment["id"], "order_id": payment["order_id"], "method": "alipay",
                                 "amount": 79800, "currency": "CNY"}
    (note,) = notes(db, payment["id"])
    assert note.verified and note.outcome == "succeeded" and note.raw["trade_status"] == "TRADE_SUCCESS"


def test_a_closed_trade_fails_the_payment(client, db, cfg, pending):
    payment, me = pending
    res = notify(client, sandbox.notification(cfg, payment["id"], 79800, "failure"))
    assert res.get_data(as_text=True) == "success"
    assert client.get(f"/api/payments/{payment['id']}", headers=me).json["status"] == "failed"
    (failed,) = outbox_events(db, payment["order_id"])
    assert failed["type"] == "PaymentFailed" and failed["data"]["reason"] == "trade closed by alipay"


def test_a_forged_notification_is_rejected_logged_not_stored_and_changes_nothing(client, db, cfg, pending, caplog):
    payment, me = pending
    params = sandbox.notification(cfg, payment["id"], 79800, "success")
    params["sign"] = sandbox.notification(cfg, "someone-else", 79800, "success")["sign"]
    res = notify(client, params)
    assert (res.status_code, res.get_data(as_text=True)) == (400, "failure")
    assert client.get(f"/api/payments/{payment['id']}", headers=me).json["status"] == "pending"
    assert outbox_events(db, payment["order_id"]) == []
    assert notes(db, payment["id"]) == []  # logged, never stored: anyone can post here
    assert "invalid signature" in caplog.text


def test_a_tampered_amount_is_rejected(client, db, cfg, pending):
    payment, me = pending
    params = {**sandbox.notification(cfg, payment["id"], 79800, "success"), "total_amount": "0.01"}
    assert notify(client, params).status_code == 400
    assert client.get(f"/api/payments/{payment['id']}", headers=me).json["status"] == "pending"
    assert outbox_events(db, payment["order_id"]) == []


def test_a_genuinely_signed_notification_for_a_different_amount_is_rejected(client, db, cfg, pending):
    payment, me = pending
    assert notify(client, sandbox.notification(cfg, payment["id"], 1, "success")).status_code == 400
    assert notes(db, payment["id"])[0].outcome == "rejected: total_amount 1 does not match 79800"
    assert client.get(f"/api/payments/{payment['id']}", headers=me).json["status"] == "pending"


def test_another_apps_notification_is_rejected(client, db, cfg, pending):
    payment, _me = pending
    other = sandbox.sign(cfg, {**sandbox.notification(cfg, payment["id"], 79800, "success"), "app_id": "2021999"})
    assert notify(client, other).status_code == 400
    assert notes(db, payment["id"])[0].outcome == "rejected: foreign app_id"


def test_a_notification_for_an_unknown_trade_is_rejected(client, cfg):
    assert notify(client, sandbox.notification(cfg, "no-such-payment", 100, "success")).status_code == 400


def test_a_notification_without_a_signature_is_rejected(client):
    assert notify(client, {"out_trade_no": "x", "trade_status": "TRADE_SUCCESS"}).status_code == 400


def test_a_replayed_notification_is_answered_and_changes_nothing(client, db, cfg, pending):
    payment, me = pending
    params = sandbox.notification(cfg, payment["id"], 79800, "success")
    for _ in range(3):
        assert notify(client, params).get_data(as_text=True) == "success"
    assert [e["type"] for e in outbox_events(db, payment["order_id"])] == ["PaymentConfirmed"]
    assert [n.outcome for n in notes(db, payment["id"])] == [
        "succeeded", "duplicate: payment already succeeded", "duplicate: payment already succeeded"]
    # A late "closed" after the success does not undo it either.
    assert notify(client, sandbox.notification(cfg, payment["id"], 79800, "failure")).status_code == 200
    assert client.get(f"/api/payments/{payment['id']}", headers=me).json["status"] == "succeeded"


def test_a_notification_needs_no_bearer_token_and_ignores_one(client, cfg, pending, keys):
    payment, _me = pending
    params = sandbox.notification(cfg, payment["id"], 79800, "success")
    res = client.post("/api/payments/notify/alipay", data=params, headers={"Authorization": "Bearer forged"})
    assert res.status_code == 200


def test_a_notification_paying_another_seller_is_rejected(client, db, cfg, pending):
    payment, me = pending
    other = sandbox.sign(cfg, {**sandbox.notification(cfg, payment["id"], 79800, "success"), "seller_id": "2088999"})
    assert notify(client, other).status_code == 400
    assert notes(db, payment["id"])[0].outcome == "rejected: foreign seller_id"
    assert client.get(f"/api/payments/{payment['id']}", headers=me).json["status"] == "pending"


def test_a_flood_of_unsigned_bodies_stores_nothing(client, db):
    def stored() -> int:
        with db.transaction() as session:
            return session.scalar(select(func.count()).select_from(Notification))

    before = stored()
    for i in range(20):
        body = {"out_trade_no": f"x{i}", "trade_status": "TRADE_SUCCESS", "filler": "x" * 200_000}
        assert notify(client, body).status_code == 400
    assert client.post("/api/payments/notify/wechat_pay", data="y" * 200_000).status_code == 400
    assert stored() == before
