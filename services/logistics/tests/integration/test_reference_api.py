"""Carriers and delivery methods: seeded by the migration, public to read, staff to manage."""
import uuid

from mall_shared.testing import outbox_events


def slug() -> str:
    return "t" + uuid.uuid4().hex[:8]


def test_the_four_carriers_are_seeded(client):
    res = client.get("/api/logistics/carriers")
    assert res.status_code == 200
    by_id = {c["id"]: c for c in res.json}
    assert {"sf", "zto", "jd", "ems"} <= set(by_id)
    assert by_id["sf"]["name"] == "顺丰速运 SF Express"
    assert by_id["ems"]["tracking_pattern"] == r"[A-Z]{2}\d{9}[A-Z]{2}|\d{13}"
    assert "{tracking_number}" in by_id["jd"]["tracking_url_template"]


def test_the_four_delivery_methods_are_seeded_with_their_fees(client):
    methods = {m["id"]: m for m in client.get("/api/logistics/delivery-methods").json}
    assert {k: methods[k]["fee"] for k in ("standard", "express", "same_day", "pickup")} == {
        "standard": 1000, "express": 2000, "same_day": 3500, "pickup": 0}
    assert (methods["standard"]["est_days_min"], methods["standard"]["est_days_max"]) == (3, 5)
    assert methods["standard"]["regions"] is None


def test_checkout_reads_one_method_with_its_fee_without_a_token(client):
    res = client.get("/api/logistics/delivery-methods/express")
    assert res.status_code == 200
    assert {k: res.json[k] for k in ("id", "fee", "currency", "active")} == {
        "id": "express", "fee": 2000, "currency": "CNY", "active": True}
    assert res.json["name"]
    missing = client.get("/api/logistics/delivery-methods/teleport")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "delivery_method_not_found"


def test_methods_can_be_listed_for_a_province(client):
    tibet = {m["id"] for m in client.get("/api/logistics/delivery-methods?province=西藏自治区").json}
    shanghai = {m["id"] for m in client.get("/api/logistics/delivery-methods?province=上海市").json}
    assert "same_day" not in tibet and "same_day" in shanghai


def test_staff_add_and_change_a_delivery_method_and_an_inactive_one_leaves_the_list(client, staff):
    mid = slug()
    body = {"id": mid, "name": "冷链 Cold chain", "fee": 4500, "est_days_min": 1, "est_days_max": 3,
            "regions": ["上海市"]}
    assert client.post("/api/logistics/delivery-methods", json=body, headers=staff).status_code == 201
    assert client.post("/api/logistics/delivery-methods", json=body, headers=staff).status_code == 409
    res = client.patch(f"/api/logistics/delivery-methods/{mid}", json={"fee": 5000, "active": False}, headers=staff)
    assert res.status_code == 200 and (res.json["fee"], res.json["active"]) == (5000, False)
    assert mid not in {m["id"] for m in client.get("/api/logistics/delivery-methods").json}
    assert client.get(f"/api/logistics/delivery-methods/{mid}").json["active"] is False
    listed = client.get("/api/logistics/delivery-methods?include_inactive=true", headers=staff).json
    assert mid in {m["id"] for m in listed}


def test_customers_cannot_manage_methods_or_carriers(client, keys):
    customer = keys.headers()
    assert client.post("/api/logistics/delivery-methods", json={}, headers=customer).status_code == 403
    assert client.patch("/api/logistics/carriers/sf", json={"active": False}, headers=customer).status_code == 403
    assert client.post("/api/logistics/carriers", json={}).status_code == 401


def test_bad_method_input_is_refused_naming_the_field(client, staff):
    cases = [({"fee": -1}, "fee"), ({"id": "Bad Slug"}, "id"), ({"est_days_min": 5, "est_days_max": 2}, "est_days_max"),
             ({"regions": []}, "regions"), ({"name": "x" * 101}, "name")]
    for change, field in cases:
        body = {"id": slug(), "name": "M", "fee": 100, "est_days_min": 1, "est_days_max": 2, **change}
        res = client.post("/api/logistics/delivery-methods", json=body, headers=staff)
        assert res.status_code == 422, (change, res.json)
        assert field in res.json["error"]["details"]["fields"]
    res = client.patch("/api/logistics/delivery-methods/standard", json={"est_days_min": 9}, headers=staff)
    assert res.status_code == 422 and "est_days_max" in res.json["error"]["details"]["fields"]


def test_staff_add_a_carrier_whose_format_is_then_enforced(client, staff):
    cid = slug()
    body = {"id": cid, "name": "圆通速递 YTO", "tracking_pattern": r"YT\d{13}",
            "tracking_url_template": "https://www.yto.net.cn/track?n={tracking_number}"}
    assert client.post("/api/logistics/carriers", json=body, headers=staff).status_code == 201
    res = client.patch(f"/api/logistics/carriers/{cid}", json={"tracking_pattern": "(["}, headers=staff)
    assert res.status_code == 422 and "tracking_pattern" in res.json["error"]["details"]["fields"]
    res = client.patch(f"/api/logistics/carriers/{cid}", json={"tracking_url_template": "https://x"}, headers=staff)
    assert res.status_code == 422 and "tracking_url_template" in res.json["error"]["details"]["fields"]
    res = client.patch(f"/api/logistics/carriers/{cid}", json={"active": False}, headers=staff)
    assert res.status_code == 200 and res.json["active"] is False
    assert cid not in {c["id"] for c in client.get("/api/logistics/carriers").json}
    assert client.patch("/api/logistics/carriers/nope", json={"active": False}, headers=staff).status_code == 404


def test_the_openapi_document_describes_the_public_paths(client):
    paths = client.get("/openapi.json").json["paths"]
    for path in ("/api/logistics/carriers", "/api/logistics/delivery-methods/{method_id}",
                 "/api/logistics/shipments", "/api/logistics/orders/{order_id}/tracking",
                 "/api/logistics/shipments/{shipment_id}/sign", "/api/logistics/notify/{carrier_id}"):
        assert path in paths, path


def test_every_change_of_a_method_tells_order_its_whole_state_with_a_growing_version(client, staff, db):
    mid = slug()
    body = {"id": mid, "name": "冷链 Cold chain", "fee": 4500, "est_days_min": 1, "est_days_max": 3,
            "regions": ["上海市"]}
    client.post("/api/logistics/delivery-methods", json=body, headers=staff)
    client.patch(f"/api/logistics/delivery-methods/{mid}", json={"fee": 5000, "active": False}, headers=staff)
    changes = [e["data"] for e in outbox_events(db) if e["type"] == "DeliveryMethodChanged"
               and e["data"]["delivery_method_id"] == mid]
    assert [(c["version"], c["fee"], c["active"], c["regions"]) for c in changes] == [
        (1, 4500, True, ["上海市"]), (2, 5000, False, ["上海市"])]
    assert client.get(f"/api/logistics/delivery-methods/{mid}").json["version"] == 2
