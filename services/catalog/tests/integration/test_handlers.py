"""The saga duties: OrderPlaced reserves all or nothing, cancel releases, completion sells.
Each event is delivered twice: the second delivery must change nothing."""
import uuid

import pytest

from catalog.handlers import HANDLERS
from mall_shared.consumer import deliver
from mall_shared.events import Line, OrderCancelled, OrderCompleted, OrderPlaced, envelope
from mall_shared.testing import outbox_events


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def product(client, staff):
    category = client.post("/api/catalog/categories", json={"name": unique("Shoes")}, headers=staff).json
    body = {"name": unique("Runner"), "category_id": category["id"],
            "skus": [{"code": unique("R41"), "attributes": {"size": "41"}, "price": 39900, "stock": 3},
                     {"code": unique("R42"), "attributes": {"size": "42"}, "price": 39900, "stock": 10}]}
    product = client.post("/api/catalog/products", json=body, headers=staff).json
    client.post(f"/api/catalog/products/{product['id']}/list", headers=staff)
    return product


def place(db, *lines, order_id=None):
    order_id = order_id or str(uuid.uuid4())
    env = envelope(OrderPlaced(order_id=order_id, customer_id="c1", lines=[Line(s, q, 39900) for s, q in lines],
                               total=0), "order")
    assert deliver(db, HANDLERS, env) is True
    assert deliver(db, HANDLERS, env) is False  # redelivery: nothing happens
    return order_id


def stock(client, sku_id):
    return client.get(f"/api/catalog/skus?ids={sku_id}").json[0]


def test_an_order_reserves_its_lines_once(client, db, product):
    s42 = product["skus"][1]["id"]
    order_id = place(db, (s42, 2))
    assert stock(client, s42)["stock"] == 8
    assert [e["type"] for e in outbox_events(db, order_id)] == ["StockReserved"]


def test_an_order_that_cannot_be_filled_reserves_nothing(client, db, product):
    s41, s42 = product["skus"][0]["id"], product["skus"][1]["id"]
    order_id = place(db, (s42, 1), (s41, 4))
    assert stock(client, s41)["stock"] == 3 and stock(client, s42)["stock"] == 10
    (rejected,) = outbox_events(db, order_id)
    assert rejected["type"] == "StockRejected"
    assert rejected["data"]["sku_ids"] == [s41]
    assert "4 requested, 3 available" in rejected["data"]["reason"]


def test_selling_the_last_unit_delists_the_sku_then_the_product(client, db, product):
    s41, s42 = product["skus"][0]["id"], product["skus"][1]["id"]
    first = place(db, (s41, 3))
    assert [e["type"] for e in outbox_events(db, first)] == ["StockDepleted", "StockReserved"]
    assert stock(client, s41)["status"] == "delisted"
    assert stock(client, s41)["product_status"] == "listed"
    second = place(db, (s42, 10))
    assert [e["type"] for e in outbox_events(db, second)] == ["StockDepleted", "ProductDelisted", "StockReserved"]
    assert stock(client, s42)["product_status"] == "delisted"
    third = place(db, (s41, 1))
    assert outbox_events(db, third)[0]["type"] == "StockRejected"


def test_cancelling_releases_and_relists_what_ran_out(client, db, product):
    s41 = product["skus"][0]["id"]
    order_id = place(db, (s41, 3))
    env = envelope(OrderCancelled(order_id=order_id, customer_id="c1", total=0, reason="customer"), "order")
    assert deliver(db, HANDLERS, env) and not deliver(db, HANDLERS, env)
    assert stock(client, s41)["stock"] == 3 and stock(client, s41)["status"] == "listed"
    types = [e["type"] for e in outbox_events(db, order_id)]
    assert types[-2:] == ["StockReplenished", "StockReleased"]


def test_completing_turns_reserved_into_sold(client, db, product):
    s42 = product["skus"][1]["id"]
    order_id = place(db, (s42, 2))
    env = envelope(OrderCompleted(order_id=order_id, customer_id="c1", total=0), "order")
    assert deliver(db, HANDLERS, env) and not deliver(db, HANDLERS, env)
    sku = stock(client, s42)
    assert (sku["on_hand"], sku["reserved"], sku["sold"], sku["stock"]) == (10, 0, 2, 8)


def test_an_order_cancelled_before_it_was_placed_here_reserves_nothing(client, db, product):
    s42 = product["skus"][1]["id"]
    order_id = str(uuid.uuid4())
    cancelled = envelope(OrderCancelled(order_id=order_id, customer_id="c1", total=0, reason="customer"), "order")
    assert deliver(db, HANDLERS, cancelled)
    placed = envelope(OrderPlaced(order_id=order_id, customer_id="c1", lines=[Line(s42, 2, 39900)], total=0), "order")
    assert deliver(db, HANDLERS, placed)
    assert stock(client, s42)["stock"] == 10
    assert outbox_events(db, order_id) == []
