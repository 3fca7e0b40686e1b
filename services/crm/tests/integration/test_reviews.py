"""Reviews: only for a SKU the customer received in a completed order, one per order line."""
import uuid

import pytest

from crm.handlers import HANDLERS
from mall_shared.consumer import deliver
from mall_shared.events import Line, OrderCompleted, OrderPlaced, envelope
from mall_shared.testing import outbox_events


@pytest.fixture
def bought(client, db, register):
    """A customer with an order of SKU s42 (and s41), placed but not yet completed."""
    profile, headers, _ = register()
    order_id, sku = str(uuid.uuid4()), f"s42-{uuid.uuid4().hex[:6]}"
    deliver(db, HANDLERS, envelope(OrderPlaced(order_id=order_id, customer_id=profile["id"], total=79800,
                                               lines=[Line(sku, 2, 39900)]), "order"))
    return profile, headers, order_id, sku


def complete(db, profile, order_id):
    deliver(db, HANDLERS, envelope(OrderCompleted(order_id=order_id, customer_id=profile["id"], total=79800), "order"))


def review(client, headers, order_id, sku, rating=5, text="很舒服"):
    return client.post("/api/crm/reviews", json={"order_id": order_id, "sku_id": sku, "rating": rating, "text": text},
                       headers=headers)


def test_a_review_is_refused_before_completion_and_accepted_after(client, db, bought):
    profile, headers, order_id, sku = bought
    early = review(client, headers, order_id, sku)
    assert early.status_code == 409
    assert early.json["error"]["code"] == "order_not_completed"
    complete(db, profile, order_id)
    res = review(client, headers, order_id, sku)
    assert res.status_code == 201, res.json
    assert (res.json["rating"], res.json["status"]) == (5, "visible")
    posted = [e for e in outbox_events(db, order_id) if e["type"] == "ReviewPosted"]
    assert [e["data"] for e in posted] == [{"review_id": res.json["id"], "sku_id": sku, "rating": 5,
                                            "customer_id": profile["id"], "order_id": order_id,
                                            "at": posted[0]["data"]["at"]}]
    assert posted[0]["data"]["at"].endswith("Z")
    listed = client.get("/api/crm/reviews", query_string={"sku_id": sku}).json
    assert [r["id"] for r in listed["items"]] == [res.json["id"]]


def test_one_review_per_order_line_and_only_for_its_skus(client, db, bought):
    profile, headers, order_id, sku = bought
    complete(db, profile, order_id)
    assert review(client, headers, order_id, sku).status_code == 201
    twice = review(client, headers, order_id, sku)
    assert (twice.status_code, twice.json["error"]["code"]) == (409, "review_exists")
    other = review(client, headers, order_id, "some-other-sku")
    assert (other.status_code, other.json["error"]["code"]) == (409, "sku_not_in_order")


def test_nobody_reviews_another_customers_order(client, db, bought, register):
    profile, _, order_id, sku = bought
    complete(db, profile, order_id)
    _, bob, _ = register("Bob")
    res = review(client, bob, order_id, sku)
    assert (res.status_code, res.json["error"]["code"]) == (404, "order_not_found")


def test_the_author_edits_a_review_and_nobody_else_can(client, db, bought, register):
    profile, headers, order_id, sku = bought
    complete(db, profile, order_id)
    created = review(client, headers, order_id, sku).json
    res = client.patch(f"/api/crm/reviews/{created['id']}", json={"rating": 4}, headers=headers)
    assert res.status_code == 200 and res.json["rating"] == 4
    assert [e["data"]["rating"] for e in outbox_events(db, order_id) if e["type"] == "ReviewPosted"] == [5, 4]
    _, bob, _ = register("Bob")
    assert client.patch(f"/api/crm/reviews/{created['id']}", json={"rating": 1}, headers=bob).status_code == 404


def test_only_staff_hide_a_review(client, db, bought):
    profile, headers, order_id, sku = bought
    complete(db, profile, order_id)
    created = review(client, headers, order_id, sku).json
    path = f"/api/crm/reviews/{created['id']}/hide"
    assert client.post(path, json={"reason": "广告"}, headers=headers).status_code == 403
    assert client.post(path, json={"reason": "广告"}).status_code == 401


def test_hiding_emits_review_hidden_once(client, db, bought, staff):
    profile, headers, order_id, sku = bought
    complete(db, profile, order_id)
    created = review(client, headers, order_id, sku).json
    path = f"/api/crm/reviews/{created['id']}/hide"
    for _ in range(2):
        res = client.post(path, json={"reason": "广告"}, headers=staff)
        assert res.status_code == 200 and res.json["status"] == "hidden"
    assert [e["type"] for e in outbox_events(db, order_id) if e["type"].startswith("Review")] == [
        "ReviewPosted", "ReviewHidden"]
    assert client.get("/api/crm/reviews", query_string={"sku_id": sku}).json["items"] == []
    assert client.get(f"/api/crm/reviews/{created['id']}").status_code == 404
    assert client.patch(f"/api/crm/reviews/{created['id']}", json={"rating": 5}, headers=headers).status_code == 403


def test_a_rating_outside_1_to_5_is_refused(client, db, bought):
    profile, headers, order_id, sku = bought
    complete(db, profile, order_id)
    res = review(client, headers, order_id, sku, rating=6)
    assert res.status_code == 422 and "rating" in res.json["error"]["details"]["fields"]


def test_shoppers_see_reviews_without_who_wrote_them_or_which_order(client, db, bought, keys, staff):
    profile, me, order_id, sku = bought
    complete(db, profile, order_id)
    posted = review(client, me, order_id, sku).json
    public = {"id", "sku_id", "rating", "text", "status", "created_at", "updated_at"}
    (listed,) = client.get("/api/crm/reviews", query_string={"sku_id": sku}).json["items"]
    assert set(listed) == public
    assert set(client.get(f"/api/crm/reviews/{posted['id']}", headers=keys.headers()).json) == public
    assert client.get(f"/api/crm/reviews/{posted['id']}", headers=me).json["order_id"] == order_id
    assert client.get(f"/api/crm/reviews/{posted['id']}", headers=staff).json["customer_id"] == profile["id"]
