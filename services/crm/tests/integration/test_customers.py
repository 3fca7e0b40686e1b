"""The staff view of one customer: profile, orders, points and tickets on one call."""
import uuid

from crm.handlers import HANDLERS
from mall_shared.consumer import deliver
from mall_shared.events import Line, OrderCompleted, OrderPlaced, envelope


def test_staff_see_a_customers_profile_orders_points_and_tickets(client, db, register, staff):
    profile, headers, _ = register("Alice")
    order_id = str(uuid.uuid4())
    deliver(db, HANDLERS, envelope(OrderPlaced(order_id=order_id, customer_id=profile["id"], total=79800,
                                               lines=[Line("s42", 2, 39900)]), "order"))
    deliver(db, HANDLERS, envelope(OrderCompleted(order_id=order_id, customer_id=profile["id"], total=79800), "order"))
    ticket = {"subject": "发票", "category": "order", "message": "需要发票"}
    assert client.post("/api/crm/tickets", json=ticket, headers=headers).status_code == 201
    res = client.get(f"/api/crm/customers/{profile['id']}", headers=staff)
    assert res.status_code == 200, res.json
    view = res.json
    assert view["profile"]["email"] == profile["email"]
    assert [(o["order_id"], o["status"]) for o in view["orders"]] == [(order_id, "COMPLETED")]
    assert view["membership"]["points"] == 798
    assert [t["subject"] for t in view["tickets"]] == ["发票"] and view["tickets_total"] == 1


def test_customers_cannot_see_the_staff_view(client, register):
    profile, headers, _ = register()
    assert client.get(f"/api/crm/customers/{profile['id']}", headers=headers).status_code == 403


def test_an_unknown_customer_is_not_found(client, staff):
    res = client.get(f"/api/crm/customers/{uuid.uuid4()}", headers=staff)
    assert (res.status_code, res.json["error"]["code"]) == (404, "account_not_found")


def test_staff_find_customers_by_part_of_their_name_email_or_mobile(client, register, staff):
    run = uuid.uuid4().hex[:6]
    alice, _, _ = register(f"Alice{run}")
    bob, _, _ = register(f"Bob{run}", mobile=f"139{uuid.uuid4().int % 10**8:08d}")
    found = lambda q: [c["id"] for c in client.get("/api/crm/customers", query_string={"q": q},  # noqa: E731
                                                    headers=staff).json["items"]]
    assert found(run) == [bob["id"], alice["id"]]  # newest first
    assert found(f"alice{run}") == [alice["id"]] and found(bob["mobile"][3:]) == [bob["id"]]
    assert found(f"{run}%") == [] and found(f"{run}_") == []  # wildcards are plain text
    assert client.get("/api/crm/customers", headers=staff).json["total"] >= 2


def test_customers_cannot_list_customers(client, register):
    _, headers, _ = register()
    assert client.get("/api/crm/customers", headers=headers).status_code == 403
