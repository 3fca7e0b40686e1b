"""WeChat Pay through the API: the prepay, its notifications (signed headers, encrypted
resource) built in-process by the sandbox's server side, the sandbox endpoint and refunds."""
import json

import pytest

from mall_shared.testing import outbox_events
from payment import sandbox


@pytest.fixture
def pending(client, shop):
    order_id, me = shop.order(total=79800)
    res = client.post("/api/payments", json={"order_id": order_id, "method": "wechat_pay"}, headers=me)
    assert res.status_code == 201, res.json
    return res.json, me


def notify(client, headers, body):
    return client.post("/api/payments/notify/wechat_pay", data=body, headers=headers)


def status(client, payment, me):
    return client.get(f"/api/payments/{payment['id']}", headers=me).json["status"]


def test_a_wechat_payment_comes_with_its_prepay_id(pending):
    payment, _me = pending
    assert payment["status"] == "pending" and payment["amount"] == 79800
    assert payment["pay_params"]["prepay_id"].startswith("wx") and payment["pay_params"]["sign"]


def test_a_genuine_notification_confirms_the_payment_once(client, db, cfg, pending):
    payment, me = pending
    headers, body = sandbox.wechat_notification(cfg, payment["id"], 79800, "success")
    for _ in range(2):  # the second is a replay
        res = notify(client, headers, body)
        assert res.status_code == 204
    assert status(client, payment, me) == "succeeded"
    assert [e["type"] for e in outbox_events(db, payment["order_id"])] == ["PaymentConfirmed"]


def test_a_payerror_notification_fails_the_payment(client, db, cfg, pending):
    payment, me = pending
    assert notify(client, *sandbox.wechat_notification(cfg, payment["id"], 79800, "failure")).status_code == 204
    assert status(client, payment, me) == "failed"
    assert outbox_events(db, payment["order_id"])[0]["data"]["reason"] == "wechat pay trade payerror"


def test_a_forged_signature_is_rejected_as_wechat_expects(client, db, cfg, pending):
    payment, me = pending
    headers, body = sandbox.wechat_notification(cfg, payment["id"], 79800, "success")
    other, _ = sandbox.wechat_notification(cfg, payment["id"], 79800, "success")
    res = notify(client, {**headers, "Wechatpay-Signature": other["Wechatpay-Signature"]}, body)
    assert res.status_code == 400 and res.json["code"] == "FAIL"
    assert status(client, payment, me) == "pending" and outbox_events(db, payment["order_id"]) == []


def test_a_tampered_resource_is_rejected_even_when_re_signed(client, db, cfg, pending):
    payment, me = pending
    _headers, body = sandbox.wechat_notification(cfg, payment["id"], 79800, "success")
    envelope = json.loads(body)
    envelope["resource"]["ciphertext"] = envelope["resource"]["ciphertext"][:-8] + "AAAAAAA="
    tampered = json.dumps(envelope)
    assert notify(client, sandbox._wechat_signed(cfg, tampered), tampered).status_code == 400
    assert status(client, payment, me) == "pending"


def test_a_genuine_notification_for_a_different_amount_is_rejected(client, cfg, pending):
    payment, me = pending
    assert notify(client, *sandbox.wechat_notification(cfg, payment["id"], 1, "success")).status_code == 400
    assert status(client, payment, me) == "pending"


def test_the_sandbox_endpoint_plays_wechat_pay(client, db, pending, provider_http):
    payment, me = pending
    res = client.post(f"/api/payments/{payment['id']}/sandbox", json={"outcome": "success"}, headers=me)
    assert res.json["provider_answer"]["status_code"] == 204
    assert res.json["payment"]["status"] == "succeeded"
    assert provider_http.sent[0].headers["Wechatpay-Serial"] == "SANDBOX-PLATFORM-1"


def test_a_paid_wechat_payment_is_refunded_when_the_order_is_cancelled(client, db, cfg, pending, staff):
    from mall_shared.consumer import deliver
    from mall_shared.events import OrderCancelled, envelope
    from payment.handlers import HANDLERS
    from payment.refunds import settle_pending_refunds

    payment, me = pending
    notify(client, *sandbox.wechat_notification(cfg, payment["id"], 79800, "success"))
    assert client.post(f"/api/payments/{payment['id']}/refunds", json={"amount": 100}, headers=staff).status_code == 201
    evt = OrderCancelled(order_id=payment["order_id"], customer_id="c", total=79800, reason="customer")
    assert deliver(db, HANDLERS, envelope(evt, "order")) is True
    settle_pending_refunds(db, cfg)
    assert status(client, payment, me) == "refunded"
    refunds = [e["data"]["amount"] for e in outbox_events(db, payment["order_id"]) if e["type"] == "RefundCompleted"]
    assert refunds == [100, 79700]
