"""The customer's own profile and address book; one customer never sees another's data."""
import uuid

from mall_shared.testing import outbox_events

ADDRESS = {"name": "李雷", "phone": "13800138000", "province": "浙江省", "city": "杭州市", "district": "西湖区",
           "detail": "文三路 100 号", "postal_code": "310000"}


def test_a_customer_changes_name_and_mobile(client, register):
    _, headers, _ = register("Alice")
    number = "139" + str(uuid.uuid4().int)[:8]
    res = client.patch("/api/crm/me", json={"name": "Alice Li", "mobile": number}, headers=headers)
    assert res.status_code == 200, res.json
    assert (res.json["name"], res.json["mobile"]) == ("Alice Li", number)
    assert client.get("/api/crm/me", headers=headers).json["mobile"] == number


def test_an_email_taken_by_another_account_cannot_be_used(client, register):
    bob, _, _ = register("Bob")
    _, alice, _ = register("Alice")
    res = client.patch("/api/crm/me", json={"email": bob["email"]}, headers=alice)
    assert res.status_code == 409
    assert res.json["error"]["code"] == "account_exists"


def test_the_role_cannot_be_changed_through_the_profile(client, register):
    _, headers, _ = register()
    res = client.patch("/api/crm/me", json={"role": "admin"}, headers=headers)
    assert res.status_code == 422


def test_the_first_address_is_the_default_and_a_new_default_replaces_it(client, register):
    _, headers, _ = register()
    first = client.post("/api/crm/me/addresses", json=ADDRESS, headers=headers)
    assert first.status_code == 201, first.json
    assert first.json["is_default"] is True
    second = client.post("/api/crm/me/addresses", json={**ADDRESS, "detail": "公司", "is_default": True},
                         headers=headers).json
    book = client.get("/api/crm/me/addresses", headers=headers).json
    assert [(a["id"], a["is_default"]) for a in book] == [(second["id"], True), (first.json["id"], False)]
    client.patch(f"/api/crm/me/addresses/{first.json['id']}", json={"is_default": True}, headers=headers)
    book = client.get("/api/crm/me/addresses", headers=headers).json
    assert [a["id"] for a in book if a["is_default"]] == [first.json["id"]]


def test_deleting_the_default_address_makes_another_one_default(client, register):
    _, headers, _ = register()
    first = client.post("/api/crm/me/addresses", json=ADDRESS, headers=headers).json
    second = client.post("/api/crm/me/addresses", json={**ADDRESS, "detail": "公司"}, headers=headers).json
    assert client.delete(f"/api/crm/me/addresses/{first['id']}", headers=headers).status_code == 204
    (left,) = client.get("/api/crm/me/addresses", headers=headers).json
    assert (left["id"], left["is_default"]) == (second["id"], True)


def test_a_bad_address_names_the_field(client, register):
    _, headers, _ = register()
    res = client.post("/api/crm/me/addresses", json={**ADDRESS, "postal_code": "abc"}, headers=headers)
    assert res.status_code == 422
    assert "postal_code" in res.json["error"]["details"]["fields"]
    assert client.get("/api/crm/me/addresses", headers=headers).json == []


def test_one_customer_never_sees_or_changes_anothers_addresses(client, register):
    _, alice, _ = register("Alice")
    _, bob, _ = register("Bob")
    address = client.post("/api/crm/me/addresses", json=ADDRESS, headers=alice).json
    path = f"/api/crm/me/addresses/{address['id']}"
    assert client.get("/api/crm/me/addresses", headers=bob).json == []
    assert client.get(path, headers=bob).status_code == 404
    assert client.patch(path, json={"detail": "mine now"}, headers=bob).status_code == 404
    assert client.delete(path, headers=bob).status_code == 404
    assert client.get(path, headers=alice).json["detail"] == ADDRESS["detail"]


def test_my_data_needs_a_token(client):
    for path in ("/api/crm/me", "/api/crm/me/addresses", "/api/crm/me/orders", "/api/crm/me/membership"):
        assert client.get(path).status_code == 401, path


def test_an_address_needs_a_mobile_the_courier_can_reach(client, register):
    _, headers, _ = register()
    for phone in ("0571-88886666", "12345"):
        res = client.post("/api/crm/me/addresses", json={**ADDRESS, "phone": phone}, headers=headers)
        assert res.status_code == 422 and "phone" in res.json["error"]["details"]["fields"], res.json
    saved = client.post("/api/crm/me/addresses", json=ADDRESS, headers=headers).json
    res = client.patch(f"/api/crm/me/addresses/{saved['id']}", json={"phone": "0571-88886666"}, headers=headers)
    assert res.status_code == 422
    assert client.get("/api/crm/me/addresses", headers=headers).json == [saved]


def test_every_change_to_the_address_book_tells_order_with_a_growing_version(client, register, db):
    _, headers, _ = register()
    address = client.post("/api/crm/me/addresses", json=ADDRESS, headers=headers).json
    client.patch(f"/api/crm/me/addresses/{address['id']}", json={"detail": "文二路 8 号"}, headers=headers)
    client.delete(f"/api/crm/me/addresses/{address['id']}", headers=headers)
    facts = [(e["type"], e["data"]) for e in outbox_events(db) if e["type"].startswith("Address")
             and e["data"]["address_id"] == address["id"]]
    assert [(t, d["version"]) for t, d in facts] == [("AddressSaved", 1), ("AddressSaved", 2), ("AddressDeleted", 3)]
    assert facts[1][1]["detail"] == "文二路 8 号" and facts[1][1]["phone"] == ADDRESS["phone"]
