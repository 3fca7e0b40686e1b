"""catalog's HTTP API against real PostgreSQL (through Flask's test client)."""
import uuid

import pytest

from mall_shared.testing import outbox_events


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def category(client, staff):
    res = client.post("/api/catalog/categories", json={"name": unique("Shoes")}, headers=staff)
    assert res.status_code == 201, res.json
    return res.json


def new_product(client, staff, category, stocks=(3, 10), price=39900):
    body = {"name": unique("Runner"), "category_id": category["id"],
            "skus": [{"code": unique(f"RUN-{41 + i}"), "attributes": {"size": str(41 + i)}, "price": price, "stock": s}
                     for i, s in enumerate(stocks)]}
    res = client.post("/api/catalog/products", json=body, headers=staff)
    assert res.status_code == 201, res.json
    return res.json


def test_staff_create_a_draft_product_with_its_skus(client, staff, category):
    product = new_product(client, staff, category)
    assert product["status"] == "draft"
    assert [s["stock"] for s in product["skus"]] == [3, 10]
    assert {s["price"] for s in product["skus"]} == {39900}


def test_customers_cannot_create_products(client, keys, category):
    res = client.post("/api/catalog/products", json={}, headers=keys.headers())
    assert res.status_code == 403
    assert res.json["error"]["code"] == "forbidden"


def test_anonymous_callers_cannot_create_categories(client):
    res = client.post("/api/catalog/categories", json={"name": "x"})
    assert res.status_code == 401
    assert res.json["error"]["code"] == "unauthorized"


def test_a_forged_token_is_refused(client):
    res = client.post("/api/catalog/categories", json={"name": "x"}, headers={"Authorization": "Bearer abc.def.ghi"})
    assert res.status_code == 401
    assert res.json["error"]["code"] == "invalid_token"


@pytest.mark.parametrize("change, field", [
    ({"price": 0}, "skus"),
    ({"stock": -1}, "skus"),
    ({"name": "x" * 201}, "name"),
])
def test_bad_product_input_is_refused_naming_the_field(client, staff, category, change, field):
    sku = {"code": unique("C"), "price": 100, "stock": 1}
    body = {"name": "Shoe", "category_id": category["id"], "skus": [sku]}
    if "name" in change:
        body.update(change)
    else:
        sku.update(change)
    res = client.post("/api/catalog/products", json=body, headers=staff)
    assert res.status_code == 422
    assert res.json["error"]["code"] == "validation_error"
    assert field in res.json["error"]["details"]["fields"]


def test_an_unknown_category_is_refused_and_nothing_is_written(client, staff):
    code = unique("C")
    body = {"name": "Shoe", "category_id": "nope", "skus": [{"code": code, "price": 100, "stock": 1}]}
    res = client.post("/api/catalog/products", json=body, headers=staff)
    assert res.status_code == 404
    assert res.json["error"]["code"] == "category_not_found"
    assert client.get(f"/api/catalog/products?q={code}").json["total"] == 0


def test_listing_makes_a_product_visible_to_customers_and_emits_product_listed(client, staff, category, db):
    product = new_product(client, staff, category)
    assert client.get(f"/api/catalog/products?q={product['name']}").json["total"] == 0
    res = client.post(f"/api/catalog/products/{product['id']}/list", headers=staff)
    assert res.status_code == 200 and res.json["status"] == "listed"
    found = client.get(f"/api/catalog/products?q={product['name']}").json
    assert found["total"] == 1 and found["items"][0]["id"] == product["id"]
    listed = [e for e in outbox_events(db) if e["type"] == "ProductListed" and e["data"]["product_id"] == product["id"]]
    assert len(listed) == 1 and listed[0]["source"] == "mall/catalog"


def test_a_product_without_stock_cannot_be_listed(client, staff, category):
    product = new_product(client, staff, category, stocks=(0,))
    res = client.post(f"/api/catalog/products/{product['id']}/list", headers=staff)
    assert res.status_code == 409
    assert res.json["error"]["code"] == "no_sellable_sku"


def test_search_filters_by_price_and_paginates(client, staff, category):
    cheap = new_product(client, staff, category, price=1000)
    dear = new_product(client, staff, category, price=90000)
    for p in (cheap, dear):
        client.post(f"/api/catalog/products/{p['id']}/list", headers=staff)
    res = client.get(f"/api/catalog/products?category_id={category['id']}&max_price=5000&per_page=1").json
    assert res["total"] == 1 and res["per_page"] == 1 and res["page"] == 1
    assert res["items"][0]["id"] == cheap["id"]


def test_search_finds_products_by_a_sizes_and_a_colours_sku_on_sale(client, staff, category):
    shoe = new_product(client, staff, category, stocks=(3, 10))  # sizes 41 and 42
    client.post(f"/api/catalog/products/{shoe['id']}/list", headers=staff)
    client.post(f"/api/catalog/products/{shoe['id']}/skus", headers=staff, json={
        "code": unique("RUN-RED"), "attributes": {"size": "43", "color": "red"}, "price": 100, "stock": 1})
    found = lambda query: [p["id"] for p in client.get(  # noqa: E731
        f"/api/catalog/products?category_id={category['id']}&{query}").json["items"]]
    assert found("size=42") == [shoe["id"]] and found("size=42&color=red") == []
    assert found("size=43&color=red") == [shoe["id"]] and found("size=44") == [] and found("color=blue") == []


def test_a_drafts_detail_is_hidden_from_customers(client, staff, category):
    product = new_product(client, staff, category)
    assert client.get(f"/api/catalog/products/{product['id']}").status_code == 404
    assert client.get(f"/api/catalog/products/{product['id']}", headers=staff).status_code == 200


def test_receiving_stock_is_recorded_as_a_movement_and_published_with_the_new_level(client, staff, category, db):
    product = new_product(client, staff, category, stocks=(2,))
    sku = product["skus"][0]
    res = client.post(f"/api/catalog/skus/{sku['id']}/stock", json={"quantity": 5}, headers=staff)
    assert res.status_code == 200 and res.json["stock"] == 7
    moves = client.get(f"/api/catalog/skus/{sku['id']}/movements", headers=staff).json
    assert [(m["kind"], m["quantity"]) for m in moves["items"]] == [("received", 5), ("received", 2)]
    adjusted = [e["data"] for e in outbox_events(db) if e["type"] == "StockAdjusted"
                and e["data"]["sku_id"] == sku["id"]]
    assert adjusted == [{"sku_id": sku["id"], "product_id": product["id"], "kind": "received", "quantity": 5,
                         "stock": 7}]


def test_stock_cannot_be_adjusted_below_zero(client, staff, category):
    sku = new_product(client, staff, category, stocks=(2,))["skus"][0]
    res = client.post(f"/api/catalog/skus/{sku['id']}/stock",
                      json={"kind": "adjust", "quantity": -3, "reason": "breakage"}, headers=staff)
    assert res.status_code == 409 and res.json["error"]["code"] == "insufficient_stock"
    assert client.get(f"/api/catalog/skus?ids={sku['id']}", headers=staff).json[0]["stock"] == 2


def test_unknown_routes_answer_in_the_error_format(client):
    res = client.get("/api/catalog/nothing-here")
    assert res.status_code == 404 and res.json["error"]["code"] == "not_found"


def test_health_and_openapi(client):
    assert client.get("/healthz").json["status"] == "ok"
    spec = client.get("/openapi.json").json
    assert "/api/catalog/products" in spec["paths"]


def test_categories_form_a_tree_that_search_follows(client, staff):
    top = client.post("/api/catalog/categories", json={"name": unique("Shoes")}, headers=staff).json
    sub = client.post("/api/catalog/categories", json={"name": "Running", "parent_id": top["id"]}, headers=staff).json
    product = new_product(client, staff, sub)
    client.post(f"/api/catalog/products/{product['id']}/list", headers=staff)
    found = client.get(f"/api/catalog/products?category_id={top['id']}").json
    assert [p["id"] for p in found["items"]] == [product["id"]]


def test_a_category_cannot_move_under_its_own_descendant(client, staff):
    top = client.post("/api/catalog/categories", json={"name": unique("A")}, headers=staff).json
    sub = client.post("/api/catalog/categories", json={"name": "B", "parent_id": top["id"]}, headers=staff).json
    res = client.patch(f"/api/catalog/categories/{top['id']}", json={"parent_id": sub["id"]}, headers=staff)
    assert res.status_code == 409 and res.json["error"]["code"] == "category_cycle"
    renamed = client.patch(f"/api/catalog/categories/{sub['id']}", json={"name": "C"}, headers=staff)
    assert renamed.status_code == 200 and renamed.json["name"] == "C"


def test_only_an_empty_category_can_be_deleted(client, staff, category):
    new_product(client, staff, category)
    res = client.delete(f"/api/catalog/categories/{category['id']}", headers=staff)
    assert res.status_code == 409 and res.json["error"]["code"] == "category_not_empty"
    empty = client.post("/api/catalog/categories", json={"name": unique("Empty")}, headers=staff).json
    assert client.delete(f"/api/catalog/categories/{empty['id']}", headers=staff).status_code == 204
    assert client.get(f"/api/catalog/categories/{empty['id']}").status_code == 404


def test_staff_edit_products_and_prices(client, staff, category):
    product = new_product(client, staff, category)
    res = client.patch(f"/api/catalog/products/{product['id']}", json={"description": "New"}, headers=staff)
    assert res.status_code == 200 and res.json["description"] == "New"
    sku = product["skus"][0]
    res = client.patch(f"/api/catalog/skus/{sku['id']}", json={"price": 29900}, headers=staff)
    assert res.status_code == 200 and res.json["price"] == 29900
    res = client.patch(f"/api/catalog/skus/{sku['id']}", json={"price": 0}, headers=staff)
    assert res.status_code == 422 and "price" in res.json["error"]["details"]["fields"]


def test_a_sku_can_be_added_to_a_product(client, staff, category):
    product = new_product(client, staff, category, stocks=(1,))
    res = client.post(f"/api/catalog/products/{product['id']}/skus",
                      json={"code": unique("R43"), "attributes": {"size": "43"}, "price": 39900, "stock": 4},
                      headers=staff)
    assert res.status_code == 201 and res.json["stock"] == 4
    detail = client.get(f"/api/catalog/products/{product['id']}", headers=staff).json
    assert len(detail["skus"]) == 2


def test_a_long_result_says_its_total_is_a_lower_bound(client, staff, category, monkeypatch):
    import mall_shared.api

    for _ in range(3):
        p = new_product(client, staff, category)
        client.post(f"/api/catalog/products/{p['id']}/list", headers=staff)
    exact = client.get(f"/api/catalog/products?category_id={category['id']}").json
    assert (exact["total"], exact["total_exact"]) == (3, True)
    monkeypatch.setattr(mall_shared.api, "COUNT_LIMIT", 2)
    capped = client.get(f"/api/catalog/products?category_id={category['id']}").json
    assert (capped["total"], capped["total_exact"], len(capped["items"])) == (2, False, 3)


def test_price_filters_and_sorting_use_the_lowest_sku_price(client, staff, category):
    cheap = new_product(client, staff, category, price=1000)
    dear = new_product(client, staff, category, price=90000)
    for p in (cheap, dear):
        client.post(f"/api/catalog/products/{p['id']}/list", headers=staff)
    order = client.get(f"/api/catalog/products?category_id={category['id']}&sort=price_desc").json["items"]
    assert [p["id"] for p in order] == [dear["id"], cheap["id"]]
    client.patch(f"/api/catalog/skus/{dear['skus'][0]['id']}", json={"price": 500}, headers=staff)
    order = client.get(f"/api/catalog/products?category_id={category['id']}&sort=price_asc").json["items"]
    assert order[0]["id"] == dear["id"]
    found = client.get(f"/api/catalog/products?category_id={category['id']}&max_price=600").json["items"]
    assert [p["id"] for p in found] == [dear["id"]]


def test_a_draft_products_skus_and_their_stock_are_for_staff_only(client, staff, keys, category):
    draft = new_product(client, staff, category)
    ids = ",".join(s["id"] for s in draft["skus"])
    assert client.get(f"/api/catalog/skus?ids={ids}").json == []
    assert client.get(f"/api/catalog/skus?ids={ids}", headers=keys.headers()).json == []
    assert sorted(s["stock"] for s in client.get(f"/api/catalog/skus?ids={ids}", headers=staff).json) == [3, 10]
    assert client.post(f"/api/catalog/products/{draft['id']}/list", headers=staff).status_code == 200
    assert sorted(s["stock"] for s in client.get(f"/api/catalog/skus?ids={ids}").json) == [3, 10]


def test_product_page_views_are_published_in_one_batch_per_period_not_one_event_per_view(app, client, staff,
                                                                                          keys, category):
    product, other = new_product(client, staff, category), new_product(client, staff, category)
    for pid in (product["id"], other["id"]):
        assert client.post(f"/api/catalog/products/{pid}/list", headers=staff).status_code == 200
    listed = [e for e in outbox_events(app.extensions["mall_db"]) if e["type"] == "ProductListed"
              and e["data"]["product_id"] == product["id"]]
    assert listed[-1]["data"]["category_id"] == category["id"]
    assert listed[-1]["data"]["sku_ids"] == [s["id"] for s in product["skus"]]
    counter = app.extensions["catalog_views"]
    counter.flush()
    for _ in range(3):
        assert client.get(f"/api/catalog/products/{product['id']}", headers=keys.headers()).status_code == 200
    client.get(f"/api/catalog/products/{other['id']}")
    client.get(f"/api/catalog/products/{other['id']}", headers=staff)  # staff at work: not a shopper's view
    before = len(outbox_events(app.extensions["mall_db"]))
    counter.flush()
    new = outbox_events(app.extensions["mall_db"])[before:]
    assert [e["type"] for e in new] == ["ProductViewed"]
    views = {v["product_id"]: v["count"] for v in new[0]["data"]["views"]}
    assert views == {product["id"]: 3, other["id"]: 1}
    assert new[0]["data"]["period_start"] < new[0]["data"]["period_end"]


def sku_changes(db, sku_id: str) -> list[dict]:
    return [e["data"] for e in outbox_events(db) if e["type"] == "SkuChanged" and e["data"]["sku_id"] == sku_id]


def test_every_change_a_buyer_sees_publishes_the_skus_whole_state_with_a_growing_version(client, staff, category, db):
    product = new_product(client, staff, category)
    sku_id = product["skus"][0]["id"]
    (created,) = sku_changes(db, sku_id)
    assert created | {"product_status": "draft", "status": "listed", "sold_out": False, "version": 1} == created
    client.post(f"/api/catalog/products/{product['id']}/list", headers=staff)
    client.patch(f"/api/catalog/skus/{sku_id}", json={"price": 29900}, headers=staff)
    client.patch(f"/api/catalog/products/{product['id']}", json={"name": "Renamed"}, headers=staff)
    client.patch(f"/api/catalog/products/{product['id']}", json={"description": "not shown at checkout"},
                 headers=staff)
    changes = sku_changes(db, sku_id)
    assert [c["version"] for c in changes] == [1, 2, 3, 4]
    assert changes[1]["product_status"] == "listed"
    assert changes[2]["price"] == 29900
    assert changes[3]["product_name"] == "Renamed" and changes[3]["price"] == 29900
    assert client.get(f"/api/catalog/skus?ids={sku_id}").json[0]["version"] == 4
