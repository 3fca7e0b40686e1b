"""Issue 4's proof, through the gateway on real processes: every payment method's success and
failure, forged, tampered and replayed notifications, refunds, cancellation before and after
payment, the unpaid timeout and an illegal transition."""
import pytest
import requests

from scenarios import new_customer, new_product, paid_order


@pytest.fixture(scope="module")
def shop(platform, demo, admin, sku):
    """One customer placing order after order for one SKU (100 in stock at 100 yuan)."""
    return {"admin": admin, "customer": new_customer(platform, demo, "Payer"), "sku": sku}


def awaiting(demo, shop):
    c = shop["customer"]
    order = demo.place_order(c, shop["sku"]["id"], 1)
    demo.wait_for("AWAITING_PAYMENT", demo.order_status(c, order["id"], "AWAITING_PAYMENT"))
    return order


@pytest.mark.parametrize("method", ["alipay", "wechat_pay"])
def test_a_failed_provider_payment_leaves_the_order_payable_and_a_success_pays_it(platform, demo, shop, method):
    c = shop["customer"]
    order = awaiting(demo, shop)
    failed = c.post("/api/payments", {"order_id": order["id"], "method": method}, expect=201)
    c.post(f"/api/payments/{failed['id']}/sandbox", {"outcome": "failure"})
    demo.wait_for("payment failed", lambda: c.get(f"/api/payments/{failed['id']}")["status"] == "failed")
    assert c.get(f"/api/orders/{order['id']}")["status"] == "AWAITING_PAYMENT"
    paid = c.post("/api/payments", {"order_id": order["id"], "method": method}, expect=201)
    c.post(f"/api/payments/{paid['id']}/sandbox", {"outcome": "success"})
    demo.wait_for("PAID", demo.order_status(c, order["id"], "PAID"))


def test_a_forged_alipay_notification_is_refused_and_changes_nothing(platform, demo, shop):
    c = shop["customer"]
    order = awaiting(demo, shop)
    payment = c.post("/api/payments", {"order_id": order["id"], "method": "alipay"}, expect=201)
    forged = {"out_trade_no": payment["id"], "trade_status": "TRADE_SUCCESS", "total_amount": "0.01",
              "trade_no": "2026FORGED", "sign_type": "RSA2", "sign": "Zm9yZ2Vk"}
    res = requests.post(platform.gateway + "/api/payments/notify/alipay", data=forged, timeout=10)
    assert res.status_code == 400 and res.text == "failure"
    assert c.get(f"/api/payments/{payment['id']}")["status"] != "succeeded"
    assert c.get(f"/api/orders/{order['id']}")["status"] == "AWAITING_PAYMENT"


def test_processing_an_unpaid_order_is_an_illegal_transition(platform, demo, shop):
    order = awaiting(demo, shop)
    err = shop["admin"].post(f"/api/orders/{order['id']}/process", expect=409)
    assert err["error"]["code"] == "illegal_transition"
    assert shop["customer"].get(f"/api/orders/{order['id']}")["status"] == "AWAITING_PAYMENT"


def card(c, number):
    return c.post("/api/payments/cards", {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
                  expect=201)


def test_a_declined_card_leaves_the_order_payable_and_the_test_card_pays_it(platform, demo, shop):
    c = shop["customer"]
    order = awaiting(demo, shop)
    declined = card(c, "4000000000000002")
    assert declined["last4"] == "0002" and "number" not in declined
    p1 = c.post("/api/payments", {"order_id": order["id"], "method": "card", "card_token": declined["id"]},
                expect=201)
    assert p1["status"] == "failed"  # a card is charged at once: declined
    assert c.get(f"/api/orders/{order['id']}")["status"] == "AWAITING_PAYMENT"
    good = card(c, "4242424242424242")
    p2 = c.post("/api/payments", {"order_id": order["id"], "method": "card", "card_token": good["id"]}, expect=201)
    demo.wait_for("card paid", lambda: c.get(f"/api/payments/{p2['id']}")["status"] == "succeeded")
    demo.wait_for("PAID", demo.order_status(c, order["id"], "PAID"))


def test_staff_refund_part_of_a_payment_but_never_more_than_is_left(platform, demo, shop):
    c, admin = shop["customer"], shop["admin"]
    order = paid_order(demo, c, [(shop["sku"]["id"], 1)])
    payment = f"/api/payments/{order['payment_id']}"
    admin.post(f"{payment}/refunds", {"amount": 3000}, expect=201)
    demo.wait_for("partially refunded", lambda: (x := c.get(payment))["status"]
                  == "partially_refunded" and x["refunded_amount"] == 3000)
    err = admin.post(f"{payment}/refunds", {"amount": order["total"] - 3000 + 1}, expect=409)
    assert err["error"]["code"] == "refund_exceeds_paid"
    assert c.get(payment)["refunded_amount"] == 3000


def stock(shop):
    admin = shop["admin"]
    sku = shop["sku"]
    product = admin.get(f"/api/catalog/products/{sku['product_id']}") if "product_id" in sku else None
    return next(s for s in product["skus"] if s["id"] == sku["id"])["stock"]


def test_cancel_before_payment_releases_the_stock(platform, demo, shop):
    c = shop["customer"]
    before = stock(shop)
    order = awaiting(demo, shop)
    demo.wait_for("reserved", lambda: stock(shop) == before - 1)
    c.post(f"/api/orders/{order['id']}/cancel", {"reason": "changed my mind"})
    demo.wait_for("CANCELLED", demo.order_status(c, order["id"], "CANCELLED"))
    demo.wait_for("stock released", lambda: stock(shop) == before)


def test_cancel_after_payment_refunds_it(platform, demo, shop):
    c = shop["customer"]
    order = paid_order(demo, c, [(shop["sku"]["id"], 1)])
    c.post(f"/api/orders/{order['id']}/cancel", {"reason": "changed my mind"})
    demo.wait_for("refunded", lambda: c.get(f"/api/payments/{order['payment_id']}")["status"] == "refunded")
    demo.wait_for("CANCELLED", demo.order_status(c, order["id"], "CANCELLED"))
    demo.wait_for("refund in the order", lambda: c.get(f"/api/orders/{order['id']}")["refunded"] == order["total"])
    demo.wait_for("crm", lambda: next((h for h in c.get("/api/crm/me/orders")["items"]
                                       if h["order_id"] == order["id"] and h["status"] == "CANCELLED"
                                       and h["refunded"] == order["total"]), None))


@pytest.fixture
def alipay_cfg(platform, monkeypatch):
    from payment.config import PaymentConfig

    for name, value in platform.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MALL_DATA_DIR", str(platform.workdir / "data"))
    return PaymentConfig.load()


def test_a_tampered_amount_is_refused_and_a_replayed_notification_changes_nothing(platform, demo, shop, alipay_cfg):
    from payment import sandbox

    c = shop["customer"]
    order = awaiting(demo, shop)
    p = c.post("/api/payments", {"order_id": order["id"], "method": "alipay"}, expect=201)
    genuine = sandbox.notification(alipay_cfg, p["id"], p["amount"], "success")
    notify = platform.gateway + "/api/payments/notify/alipay"
    tampered = {**genuine, "total_amount": "0.01"}
    res = requests.post(notify, data=tampered, timeout=10)
    assert res.status_code == 400 and res.text == "failure"
    assert c.get(f"/api/payments/{p['id']}")["status"] != "succeeded"
    assert c.get(f"/api/orders/{order['id']}")["status"] == "AWAITING_PAYMENT"
    res = requests.post(notify, data=genuine, timeout=10)
    assert res.status_code == 200 and res.text == "success", res.text
    demo.wait_for("PAID", demo.order_status(c, order["id"], "PAID"))
    res = requests.post(notify, data=genuine, timeout=10)
    assert res.status_code == 200 and res.text == "success"  # acknowledged, so Alipay stops retrying
    # Another order pays and reaches PAID after the replay: the replay had its chance to act by then.
    paid_order(demo, c, [(shop["sku"]["id"], 1)])
    history = [h["status"] for h in c.get(f"/api/orders/{order['id']}")["history"]]
    assert history.count("PAID") == 1
    assert c.get(f"/api/payments/{p['id']}")["status"] == "succeeded"


@pytest.fixture(scope="module")
def quick_timeout(tmp_path_factory):
    from harness import running

    with running(tmp_path_factory.mktemp("timeout"), extra_env={
            "ORDER_PAYMENT_TIMEOUT": "3", "ORDER_TIMEOUT_CHECK_INTERVAL": "0.5", "MALL_DB_POOL_SIZE": "2"}) as p:
        yield p


def test_an_order_unpaid_past_the_timeout_is_cancelled_and_its_stock_released(quick_timeout, demo):
    p = quick_timeout
    admin = demo.login(p.gateway, *p.admin)
    product = new_product(p, demo, admin, stock=5)
    sku = product["skus"][0]
    c = new_customer(p, demo, "Slow")
    order = demo.place_order(c, sku["id"], 2)
    demo.wait_for("AWAITING_PAYMENT", demo.order_status(c, order["id"], "AWAITING_PAYMENT"))
    cancelled = demo.wait_for("CANCELLED", demo.order_status(c, order["id"], "CANCELLED"), timeout=20)
    assert cancelled["cancel_reason"] == "payment_timeout", cancelled
    assert cancelled["history"][-1]["status"] == "CANCELLED"
    demo.wait_for("stock released", lambda: admin.get(f"/api/catalog/products/{product['id']}")["skus"][0]["stock"]
                  == 5)
