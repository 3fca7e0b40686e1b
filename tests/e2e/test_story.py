"""The walking skeleton's story, through the gateway, on real processes, PostgreSQL and RabbitMQ,
watched by an outside subscriber on the bus."""
from collections import Counter

from mall_shared.events import CONTENT_TYPE, parse
from mall_shared.testing import eventually


def test_one_order_goes_from_sign_up_to_completed_and_the_last_size_41_sells_out(platform, subscriber, demo):
    out = demo.run_story(platform.gateway, *platform.admin, say=lambda *_: None)

    order, payment, shipment = out["order"], out["payment"], out["shipment"]
    assert order["total"] == 2 * 39900 + order["delivery_fee"]
    assert out["membership"]["points"] >= order["total"] // 100
    assert out["refused"]["error"]["code"] == "sku_unavailable"
    assert "sold out" in out["refused"]["error"]["message"]

    final = out["customers"]["alice"].get(f"/api/orders/{order['id']}")
    assert [h["status"] for h in final["history"]] == [
        "PENDING", "AWAITING_PAYMENT", "PAID", "PROCESSING", "SHIPPED", "COMPLETED"]

    # An outside subscriber saw each fact of the order's chain once, in a CloudEvents envelope.
    def chain_complete():
        events = [(p, e) for p, e in subscriber.drain() if e["correlationid"] == order["id"]]
        types = Counter(e["type"] for _, e in events)
        return types["PointsAwarded"] == 1 and events
    events = eventually(chain_complete, timeout=20)
    types = Counter(e["type"] for _, e in events)
    for once in ("OrderPlaced", "StockReserved", "PaymentConfirmed", "Shipped", "Delivered", "OrderCompleted",
                 "PointsAwarded"):
        assert types[once] == 1, (once, types)
    assert types["OrderStatusChanged"] == 5  # AWAITING_PAYMENT, PAID, PROCESSING, SHIPPED, COMPLETED
    for props, env in events:
        assert props.content_type == CONTENT_TYPE
        parse(env)  # a valid envelope whose data matches the event's schema
        assert env["source"].startswith("mall/")
    assert len({env["id"] for _, env in subscriber.seen}) == len(subscriber.seen)  # no event id twice
    by_type = {env["type"]: env for _, env in events}
    assert by_type["PaymentConfirmed"]["data"]["payment_id"] == payment["id"]
    assert by_type["Shipped"]["data"]["shipment_id"] == shipment["id"]

    # The second customer's order emptied size 41: StockDepleted reached the bus.
    depleted = [e for _, e in subscriber.drain() if e["type"] == "StockDepleted"
                and e["data"]["sku_id"] == out["refused"]["error"]["details"]["sku_ids"][0]]
    assert len(depleted) == 1 and depleted[0]["correlationid"] == out["second"]["id"]


def test_the_gateway_answers_for_every_service_and_refuses_a_forged_token(platform):
    import requests

    ready = requests.get(platform.gateway + "/readyz", timeout=5).json()
    assert set(ready["services"]) == {"catalog", "order", "payment", "crm", "logistics", "reports"}
    res = requests.get(platform.gateway + "/api/orders", headers={"Authorization": "Bearer forged"}, timeout=5)
    assert res.status_code == 401 and res.json()["error"]["code"] == "invalid_token"
    res = requests.post(platform.gateway + "/api/orders", json={"items": "nope"}, timeout=5)
    assert res.status_code == 401  # no token: the order service refuses before reading the body
