"""The sandbox provider endpoint. Its notification really goes through `requests.post` (form
encoding, timeouts); the `provider_http` fixture routes PAYMENT_URL to the Flask test client
through a requests transport adapter. The real HTTP hop is proven by the end-to-end test."""
import pytest
import requests

from mall_shared.testing import outbox_events
from payment import config as payment_config


@pytest.fixture
def pending(client, shop):
    order_id, me = shop.order(total=79800)
    payment = client.post("/api/payments", json={"order_id": order_id, "method": "alipay"}, headers=me).json
    return payment, me


def test_the_sandbox_pays_through_a_signed_notification_over_http(client, db, cfg, pending, provider_http):
    payment, me = pending
    res = client.post(f"/api/payments/{payment['id']}/sandbox", json={"outcome": "success"}, headers=me)
    assert res.status_code == 200, res.json
    assert res.json["provider_answer"] == {"status_code": 200, "body": "success"}
    assert res.json["payment"]["status"] == "succeeded"
    (sent,) = provider_http.sent
    assert sent.url == f"{cfg.url}/api/payments/notify/alipay"
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "sign=" in sent.body and "trade_status=TRADE_SUCCESS" in sent.body
    assert [e["type"] for e in outbox_events(db, payment["order_id"])] == ["PaymentConfirmed"]


def test_the_sandbox_can_make_a_payment_fail(client, db, pending, provider_http, staff):
    payment, _me = pending
    res = client.post(f"/api/payments/{payment['id']}/sandbox", json={"outcome": "failure"}, headers=staff)
    assert res.json["payment"]["status"] == "failed"
    assert [e["type"] for e in outbox_events(db, payment["order_id"])] == ["PaymentFailed"]


def test_only_the_owner_or_staff_may_drive_the_sandbox(client, pending, keys, provider_http):
    payment, _me = pending
    url = f"/api/payments/{payment['id']}/sandbox"
    assert client.post(url, json={"outcome": "success"}, headers=keys.headers()).status_code == 404
    assert client.post(url, json={"outcome": "success"}).status_code == 401
    assert client.post(url, json={"outcome": "maybe"}, headers=_me).status_code == 422
    assert provider_http.sent == []


def test_an_unreachable_notify_endpoint_is_a_503_not_a_hang(client, pending, monkeypatch):
    payment, me = pending

    def refuse(*_args, **_kwargs):
        raise requests.ConnectionError("connection refused")

    monkeypatch.setattr(requests, "post", refuse)
    res = client.post(f"/api/payments/{payment['id']}/sandbox", json={"outcome": "success"}, headers=me)
    assert res.status_code == 503 and res.json["error"]["code"] == "payment_unavailable"


def test_without_mall_sandbox_the_sandbox_does_not_exist(client, app, pending, monkeypatch):
    payment, me = pending
    monkeypatch.setenv("MALL_SANDBOX", "0")
    monkeypatch.setitem(app.extensions, "payment_config", payment_config.PaymentConfig.load())
    res = client.post(f"/api/payments/{payment['id']}/sandbox", json={"outcome": "success"}, headers=me)
    assert res.status_code == 404 and res.json["error"]["code"] == "sandbox_disabled"
