"""The saga duties: OrderPlaced reserves all or nothing, cancel releases, completion sells, a
received return restocks; and the rating summary from crm's review events.
Each event is delivered twice: the second delivery must change nothing."""
import uuid

import pytest
from sqlalchemy import select

from catalog.handlers import HANDLERS
from catalog.models import Sku
from mall_shared.consumer import deliver, handle_batch
from mall_shared.events import (
    Line,
    OrderCancelled,
    OrderCompleted,
    OrderPlaced,
    ReturnReceived,
    ReviewHidden,
    ReviewPosted,
    envelope,
    parse,
)
from mall_shared.testing import outbox_events, race


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


def types(events: list[dict]) -> list[str]:
    """The saga's events, without the SkuChanged snapshots that any change of a SKU adds."""
    return [e["type"] for e in events if e["type"] != "SkuChanged"]


def stock(client, sku_id):
    return client.get(f"/api/catalog/skus?ids={sku_id}").json[0]


def test_an_order_reserves_its_lines_once(client, db, product):
    s42 = product["skus"][1]["id"]
    order_id = place(db, (s42, 2))
    assert stock(client, s42)["stock"] == 8
    assert types(outbox_events(db, order_id)) == ["StockReserved"]
    reserved = [e for e in outbox_events(db, order_id) if e["type"] == "StockReserved"][0]
    assert reserved["data"]["stock"] == {s42: 8}


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
    assert types(outbox_events(db, first)) == ["StockDepleted", "StockReserved"]
    (sold_out,) = [e["data"] for e in outbox_events(db, first) if e["type"] == "SkuChanged"]
    assert sold_out | {"sku_id": s41, "status": "delisted", "product_status": "listed", "sold_out": True} == sold_out
    assert stock(client, s41)["status"] == "delisted"
    assert stock(client, s41)["product_status"] == "listed"
    second = place(db, (s42, 10))
    assert types(outbox_events(db, second)) == ["StockDepleted", "ProductDelisted", "StockReserved"]
    # s42 ran out and the product went off sale: both SKUs' buyers see it, s41 in a newer version
    changed = {e["data"]["sku_id"]: e["data"] for e in outbox_events(db, second) if e["type"] == "SkuChanged"}
    assert {d["product_status"] for d in changed.values()} == {"delisted"} and set(changed) == {s41, s42}
    assert changed[s41]["version"] > sold_out["version"]
    assert stock(client, s42)["product_status"] == "delisted"
    third = place(db, (s41, 1))
    assert outbox_events(db, third)[0]["type"] == "StockRejected"


def test_cancelling_releases_and_relists_what_ran_out(client, db, product):
    s41 = product["skus"][0]["id"]
    order_id = place(db, (s41, 3))
    env = envelope(OrderCancelled(order_id=order_id, customer_id="c1", total=0, reason="customer"), "order")
    assert deliver(db, HANDLERS, env) and not deliver(db, HANDLERS, env)
    assert stock(client, s41)["stock"] == 3 and stock(client, s41)["status"] == "listed"
    types = [e["type"] for e in outbox_events(db, order_id) if e["type"] != "SkuChanged"]
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


@pytest.mark.parametrize("parked", ["OrderPlaced", "OrderCancelled"])
def test_an_order_placed_and_cancelled_at_once_by_two_workers_holds_no_stock(client, db, product, parked):
    """Worker 1's batch handles one of an order's two events, then another order's event that the
    test parks before the commit (by holding that order's SKU); worker 2 handles the other event of
    the order meanwhile. Whichever came first, nothing stays reserved."""
    s41, s42 = product["skus"][0]["id"], product["skus"][1]["id"]
    other, order_id = place(db, (s42, 1)), str(uuid.uuid4())
    events = {"OrderPlaced": OrderPlaced(order_id=order_id, customer_id="c1", lines=[Line(s41, 2, 39900)], total=0),
              "OrderCancelled": OrderCancelled(order_id=order_id, customer_id="c1", total=0, reason="customer")}
    first, (_, second) = events.pop(parked), events.popitem()
    batch = [parse(envelope(first, "order")), parse(envelope(OrderCompleted(order_id=other, customer_id="c1",
                                                                           total=0), "order"))]
    assert race(db, lambda: handle_batch(db, HANDLERS, batch), lambda: deliver(db, HANDLERS, envelope(second, "order")),
                parked_at=select(Sku).where(Sku.id == s42).with_for_update()) == (2, True)
    sku = stock(client, s41)
    assert (sku["stock"], sku["reserved"]) == (3, 0)


def returned(db, order_id, *lines, return_id=None):
    fact = ReturnReceived(return_id=return_id or str(uuid.uuid4()), order_id=order_id, customer_id="c1",
                          status="received", lines=[Line(s, q, 39900) for s, q in lines],
                          amount=39900 * sum(q for _, q in lines), at="2026-11-25T10:00:00Z")
    env = envelope(fact, "logistics")
    assert deliver(db, HANDLERS, env) and not deliver(db, HANDLERS, env)
    return fact


def sold(db, *lines):
    order_id = place(db, *lines)
    assert deliver(db, HANDLERS, envelope(OrderCompleted(order_id=order_id, customer_id="c1", total=0), "order"))
    return order_id


def test_a_received_return_puts_the_units_back_on_sale_once(client, db, product, staff):
    s41 = product["skus"][0]["id"]
    order_id = sold(db, (s41, 3))  # the last 3: the SKU is delisted
    assert stock(client, s41)["status"] == "delisted"
    fact = returned(db, order_id, (s41, 2))
    sku = stock(client, s41)
    assert (sku["on_hand"], sku["reserved"], sku["sold"], sku["stock"]) == (3, 0, 1, 2)
    assert sku["status"] == "listed"  # back on sale by itself
    # The same return told again (a new event id) changes nothing.
    deliver(db, HANDLERS, envelope(fact, "logistics"))
    assert stock(client, s41)["stock"] == 2
    moves = client.get(f"/api/catalog/skus/{s41}/movements", headers=staff).json["items"]
    assert [(m["kind"], m["quantity"]) for m in moves if m["kind"] == "returned"] == [("returned", 2)]


def test_a_return_never_gives_back_more_than_the_order_sold(client, db, product):
    s41, s42 = product["skus"][0]["id"], product["skus"][1]["id"]
    order_id = sold(db, (s42, 2))
    returned(db, order_id, (s42, 1))
    returned(db, order_id, (s42, 5), (s41, 1))  # only 1 more of s42 was sold by it; s41 not at all
    assert stock(client, s42)["sold"] == 0 and stock(client, s42)["stock"] == 10
    assert stock(client, s41)["stock"] == 3


def test_a_return_of_a_sale_not_known_here_yet_is_retried(db, product):
    s42 = product["skus"][1]["id"]
    order_id = place(db, (s42, 1))  # OrderCompleted has not arrived
    with pytest.raises(RuntimeError):
        deliver(db, HANDLERS, envelope(ReturnReceived(
            return_id="r1", order_id=order_id, customer_id="c1", status="received", lines=[Line(s42, 1, 39900)],
            amount=39900, at="2026-11-25T10:00:00Z"), "logistics"))


def review(db, cls, review_id, sku_id, rating, at):
    env = envelope(cls(review_id=review_id, sku_id=sku_id, rating=rating, customer_id="c1", at=at), "crm")
    deliver(db, HANDLERS, env)


def test_the_rating_summary_follows_posts_edits_and_hides(client, db, product):
    s41, s42 = product["skus"][0]["id"], product["skus"][1]["id"]
    rating = lambda: client.get(f"/api/catalog/products/{product['id']}").json["rating"]  # noqa: E731
    assert rating() == {"count": 0, "average": None}
    review(db, ReviewPosted, "a", s41, 5, "2026-11-25T10:00:00Z")
    review(db, ReviewPosted, "b", s42, 4, "2026-11-25T10:00:01Z")
    review(db, ReviewPosted, "c", s42, 4, "2026-11-25T10:00:02Z")
    assert rating() == {"count": 3, "average": 4.33}
    review(db, ReviewPosted, "b", s42, 1, "2026-11-25T11:00:00Z")  # edited
    review(db, ReviewPosted, "b", s42, 4, "2026-11-25T10:00:01Z")  # the original, arriving late
    assert rating() == {"count": 3, "average": 3.33}
    review(db, ReviewHidden, "a", s41, 5, "2026-11-25T12:00:00Z")
    review(db, ReviewHidden, "a", s41, 5, "2026-11-25T12:00:00Z")
    assert rating() == {"count": 2, "average": 2.5}
    review(db, ReviewHidden, "d", s41, 3, "2026-11-25T12:00:00Z")  # hidden before its post arrived
    review(db, ReviewPosted, "d", s41, 3, "2026-11-25T11:59:00Z")
    review(db, ReviewPosted, "e", "no-such-sku", 5, "2026-11-25T12:00:00Z")  # ignored
    assert rating() == {"count": 2, "average": 2.5}


def test_an_order_placed_at_a_price_catalog_no_longer_asks_is_refused(client, db, product, staff):
    """order prices from its copy of catalog's prices: if a change had not reached it, the order
    is refused with price_changed (the customer places it again at the new price)."""
    s42 = product["skus"][1]["id"]
    client.patch(f"/api/catalog/skus/{s42}", json={"price": 45900}, headers=staff)
    order_id = place(db, (s42, 1))  # placed at 39900
    (rejected,) = [e for e in outbox_events(db, order_id) if e["type"] != "SkuChanged"]
    assert rejected["type"] == "StockRejected" and rejected["data"]["sku_ids"] == [s42]
    assert rejected["data"]["reason"].startswith("price_changed: ")
    assert "ordered at 39900, the price is now 45900" in rejected["data"]["reason"]
    assert stock(client, s42)["stock"] == 10  # nothing held
