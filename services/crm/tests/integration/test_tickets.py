"""Customer service tickets: a thread between a customer and staff; customers see only their own."""
import uuid

from crm.handlers import HANDLERS
from mall_shared.consumer import deliver
from mall_shared.events import Line, OrderPlaced, envelope


def open_ticket(client, headers, **extra):
    body = {"subject": "鞋码不合适", "category": "return", "message": "42 码偏小，可以换吗？", **extra}
    res = client.post("/api/crm/tickets", json=body, headers=headers)
    assert res.status_code == 201, res.json
    return res.json


def test_a_ticket_thread_between_customer_and_staff(client, register, staff):
    _, alice, _ = register("Alice")
    ticket = open_ticket(client, alice)
    assert (ticket["status"], len(ticket["messages"])) == ("open", 1)
    path = f"/api/crm/tickets/{ticket['id']}"
    reply = client.post(f"{path}/messages", json={"body": "请提供订单照片"}, headers=staff).json
    assert reply["status"] == "pending_customer"
    again = client.post(f"{path}/messages", json={"body": "已上传"}, headers=alice).json
    assert again["status"] == "open"
    assert [m["author_role"] for m in again["messages"]] == ["customer", "staff", "customer"]
    assert client.post(f"{path}/status", json={"status": "resolved"}, headers=staff).json["status"] == "resolved"
    assert client.post(f"{path}/status", json={"status": "closed"}, headers=alice).json["status"] == "closed"
    res = client.post(f"{path}/messages", json={"body": "还有问题"}, headers=alice)
    assert res.status_code == 409
    assert res.json["error"]["code"] == "ticket_closed"


def test_a_customer_cannot_resolve_their_own_ticket(client, register):
    _, alice, _ = register()
    ticket = open_ticket(client, alice)
    res = client.post(f"/api/crm/tickets/{ticket['id']}/status", json={"status": "resolved"}, headers=alice)
    assert res.status_code == 409
    assert res.json["error"]["code"] == "illegal_ticket_transition"


def test_a_customer_sees_only_their_own_tickets(client, register):
    _, alice, _ = register("Alice")
    _, bob, _ = register("Bob")
    ticket = open_ticket(client, alice)
    assert client.get("/api/crm/tickets", headers=bob).json["items"] == []
    path = f"/api/crm/tickets/{ticket['id']}"
    assert client.get(path, headers=bob).status_code == 404
    assert client.post(f"{path}/messages", json={"body": "hi"}, headers=bob).status_code == 404
    assert [t["id"] for t in client.get("/api/crm/tickets", headers=alice).json["items"]] == [ticket["id"]]


def test_staff_see_a_queue_by_status_and_assignee_oldest_first(client, register, admin, staff):
    _, alice, _ = register()
    first, second = open_ticket(client, alice), open_ticket(client, alice)
    me = client.get("/api/auth/me", headers=admin).json
    assigned = client.post(f"/api/crm/tickets/{second['id']}/assign", json={}, headers=admin).json
    assert assigned["assignee_id"] == me["id"]
    mine = client.get("/api/crm/tickets", query_string={"assigned": "me", "per_page": 100}, headers=admin).json
    assert second["id"] in [t["id"] for t in mine["items"]] and first["id"] not in [t["id"] for t in mine["items"]]
    queue = client.get("/api/crm/tickets", query_string={"status": "open", "per_page": 100}, headers=staff).json
    ids = [t["id"] for t in queue["items"]]
    assert ids.index(first["id"]) < ids.index(second["id"])
    assert all(t["status"] == "open" for t in queue["items"])


def test_a_ticket_is_assigned_to_staff_only_and_only_by_staff(client, register, admin):
    customer, alice, _ = register()
    ticket = open_ticket(client, alice)
    path = f"/api/crm/tickets/{ticket['id']}/assign"
    assert client.post(path, json={}, headers=alice).status_code == 403
    res = client.post(path, json={"assignee_id": customer["id"]}, headers=admin)
    assert res.status_code == 400
    assert res.json["error"]["code"] == "assignee_not_staff"


def test_a_ticket_about_an_order_must_be_about_one_of_mine(client, db, register):
    profile, alice, _ = register("Alice")
    _, bob, _ = register("Bob")
    order_id = str(uuid.uuid4())
    deliver(db, HANDLERS, envelope(OrderPlaced(order_id=order_id, customer_id=profile["id"],
                                               lines=[Line("s42", 1, 100)], total=100), "order"))
    assert open_ticket(client, alice, order_id=order_id)["order_id"] == order_id
    res = client.post("/api/crm/tickets", json={"subject": "x", "category": "order", "message": "y",
                                                "order_id": order_id}, headers=bob)
    assert res.status_code == 404
    assert res.json["error"]["code"] == "order_not_found"


def test_bad_ticket_input_names_the_field(client, register):
    _, alice, _ = register()
    res = client.post("/api/crm/tickets", json={"subject": "", "category": "complaint", "message": "m"}, headers=alice)
    assert res.status_code == 422
    assert set(res.json["error"]["details"]["fields"]) == {"subject", "category"}
