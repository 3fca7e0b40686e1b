"""When a provider is not configured or refuses, the caller gets a 503 in the error format and
nothing is recorded; never a 500."""
import dataclasses
import json
from pathlib import Path

import pytest

from mall_shared.consumer import deliver
from mall_shared.events import OrderCancelled, envelope
from mall_shared.testing import outbox_events
from payment import refunds, sandbox
from payment.handlers import HANDLERS
from payment.refunds import settle_pending_refunds


@pytest.fixture
def unconfigured(app, cfg, monkeypatch):
    missing = Path("/nonexistent/key.pem")
    bare = dataclasses.replace(cfg, sandbox=False, alipay_app_private_key_file=missing,
                               alipay_public_key_file=missing, wechat_merchant_private_key_file=missing,
                               wechat_platform_public_key_file=missing)
    monkeypatch.setitem(app.extensions, "payment_config", bare)
    return bare


@pytest.mark.parametrize("method", ["alipay", "wechat_pay"])
def test_a_provider_without_keys_is_unavailable_not_an_error(client, db, shop, unconfigured, method):
    order_id, me = shop.order()
    res = client.post("/api/payments", json={"order_id": order_id, "method": method}, headers=me)
    assert res.status_code == 503 and res.json["error"]["code"] == f"{method}_unavailable"
    assert client.get(f"/api/payments?order_id={order_id}", headers=me).json["total"] == 0


def test_without_keys_every_notification_is_rejected(client, shop, unconfigured, cfg):
    params = sandbox.notification(cfg, "p", 1, "success")
    assert client.post("/api/payments/notify/alipay", data=params).status_code == 400
    headers, body = sandbox.wechat_notification(cfg, "p", 1, "success")
    assert client.post("/api/payments/notify/wechat_pay", data=body, headers=headers).status_code == 400


@pytest.fixture
def paid(client, cfg, shop):
    order_id, me = shop.order(total=79800)
    payment = client.post("/api/payments", json={"order_id": order_id, "method": "alipay"}, headers=me).json
    client.post("/api/payments/notify/alipay", data=sandbox.notification(cfg, payment["id"], 79800, "success"))
    return payment, me


@pytest.fixture
def refusing(monkeypatch):
    monkeypatch.setattr(sandbox, "alipay_refund", lambda *_a: {"code": "40004", "msg": "Business Failed",
                                                                "sub_msg": "TRADE_NOT_ALLOW_REFUND"})


def test_a_refused_refund_is_a_503_and_fails_giving_its_amount_back(client, db, paid, staff, refusing):
    payment, me = paid
    res = client.post(f"/api/payments/{payment['id']}/refunds", json={"amount": 100}, headers=staff)
    assert res.status_code == 503 and res.json["error"]["code"] == "alipay_unavailable"
    after = client.get(f"/api/payments/{payment['id']}", headers=me).json
    assert (after["status"], after["refunded_amount"]) == ("succeeded", 0)
    assert [r["status"] for r in client.get(f"/api/payments/{payment['id']}/refunds", headers=staff).json] == [
        "failed"]
    assert [e["type"] for e in outbox_events(db, payment["order_id"])] == ["PaymentConfirmed"]


def test_a_cancellation_whose_refund_fails_is_retried_not_lost(client, db, cfg, paid, refusing, monkeypatch):
    payment, me = paid
    env = envelope(OrderCancelled(order_id=payment["order_id"], customer_id="c", total=79800, reason="x"), "order")
    assert deliver(db, HANDLERS, env) is True  # recorded; the provider is asked after the commit
    assert settle_pending_refunds(db, cfg) == 0  # refused: it stays pending
    assert [e["type"] for e in outbox_events(db, payment["order_id"])] == ["PaymentConfirmed"]
    monkeypatch.undo()  # the provider is back: the next round refunds
    assert settle_pending_refunds(db, cfg) == 1
    assert client.get(f"/api/payments/{payment['id']}", headers=me).json["status"] == "refunded"
    assert [e["type"] for e in outbox_events(db, payment["order_id"])] == ["PaymentConfirmed", "RefundCompleted"]


def test_a_crash_between_the_providers_refund_and_the_commit_refunds_once(client, db, cfg, paid, monkeypatch):
    payment, me = paid
    deliver(db, HANDLERS, envelope(OrderCancelled(order_id=payment["order_id"], customer_id="c", total=79800,
                                                  reason="x"), "order"))

    def crash(*_a, **_kw):
        raise SystemExit("killed after the provider refunded, before the commit")

    with monkeypatch.context() as m:
        m.setattr(refunds, "emit", crash)
        with pytest.raises(SystemExit):
            settle_pending_refunds(db, cfg)
    assert settle_pending_refunds(db, cfg) == 1  # the restarted worker asks again…
    asked = [e for e in map(json.loads, sandbox.refund_ledger().read_text().splitlines())
             if e["trade"] == payment["id"]]
    assert len({e["request_no"] for e in asked}) == 1  # …with the same out_request_no: the money moved once
    assert [(e["amount"], e["moved"]) for e in asked] == [(79800, True), (79800, False)]
    assert [e["type"] for e in outbox_events(db, payment["order_id"])] == ["PaymentConfirmed", "RefundCompleted"]
    assert client.get(f"/api/payments/{payment['id']}", headers=me).json["refunded_amount"] == 79800
