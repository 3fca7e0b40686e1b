"""Card payments: tokenize, then pay with the token; the sandbox acquirer's test cards decide."""
import logging

import pytest
from sqlalchemy import text

from mall_shared.testing import outbox_events

APPROVED, DECLINED = "4242424242424242", "4000000000000002"


def tokenize(client, headers, number=APPROVED):
    return client.post("/api/payments/cards", json={"number": number, "exp_month": 12, "exp_year": 2099,
                                                    "cvc": "123"}, headers=headers)


def pay(client, order_id, headers, token):
    return client.post("/api/payments", json={"order_id": order_id, "method": "card", "card_token": token},
                       headers=headers)


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def test_an_approved_card_pays_the_order_at_once(client, db, shop, logs):
    order_id, me = shop.order(total=79800)
    token = tokenize(client, me, "4242 4242 4242 4242")
    assert token.status_code == 201, token.json
    assert {k: token.json[k] for k in ("brand", "last4")} == {"brand": "visa", "last4": "4242"}
    res = pay(client, order_id, me, token.json["id"])
    assert res.status_code == 201, res.json
    assert (res.json["status"], res.json["amount"], res.json["card_last4"]) == ("succeeded", 79800, "4242")
    assert [e["type"] for e in outbox_events(db, order_id)] == ["PaymentConfirmed"]
    assert APPROVED not in logs.text


def test_a_declined_card_fails_the_payment(client, db, shop):
    order_id, me = shop.order()
    res = pay(client, order_id, me, tokenize(client, me, DECLINED).json["id"])
    assert res.json["status"] == "failed" and res.json["failure_reason"] == "card declined"
    (failed,) = outbox_events(db, order_id)
    assert failed["type"] == "PaymentFailed" and failed["data"]["method"] == "card"


def test_the_card_number_is_never_stored(client, db, shop):
    order_id, me = shop.order()
    pay(client, order_id, me, tokenize(client, me).json["id"])
    with db.engine.connect() as conn:
        for table in ("card_tokens", "payments", "notifications", "outbox"):
            dump = str(conn.execute(text(f"SELECT * FROM {table}")).all())
            assert APPROVED not in dump, table


def test_a_wrong_number_is_refused_naming_the_field(client, keys):
    res = tokenize(client, keys.headers(), "4242424242424241")
    assert res.status_code == 422 and list(res.json["error"]["details"]["fields"]) == ["number"]
    assert "4242424242424241" not in res.get_data(as_text=True)


def test_someone_elses_card_token_is_not_found(client, shop, keys):
    order_id, me = shop.order()
    token = tokenize(client, keys.headers()).json["id"]
    res = pay(client, order_id, me, token)
    assert res.status_code == 404 and res.json["error"]["code"] == "card_token_not_found"


def test_a_card_payment_needs_a_token(client, shop):
    order_id, me = shop.order()
    res = client.post("/api/payments", json={"order_id": order_id, "method": "card"}, headers=me)
    assert res.status_code == 422 and "card_token" in res.json["error"]["details"]["fields"]


def test_a_card_payment_can_be_refunded_by_staff(client, db, shop, staff):
    order_id, me = shop.order(total=10000)
    payment = pay(client, order_id, me, tokenize(client, me).json["id"]).json
    res = client.post(f"/api/payments/{payment['id']}/refunds", json={"amount": 2500}, headers=staff)
    assert res.status_code == 201
    assert client.get(f"/api/payments/{payment['id']}", headers=me).json["status"] == "partially_refunded"
