"""Staff adjust a customer's points with a reason; the tier follows."""
from mall_shared.testing import outbox_events


def adjust(client, headers, customer_id, points, reason="客服补偿"):
    return client.post(f"/api/crm/customers/{customer_id}/points", json={"points": points, "reason": reason},
                       headers=headers)


def test_staff_add_points_with_a_reason_and_the_tier_follows(client, db, register, staff):
    profile, headers, _ = register()
    res = adjust(client, staff, profile["id"], 1200)
    assert res.status_code == 201, res.json
    assert (res.json["points"], res.json["reason"]) == (1200, "客服补偿")
    card = client.get("/api/crm/me/membership", headers=headers).json
    assert (card["points"], card["tier"], card["tier_label"]) == (1200, "silver", "银卡")
    types = [e["type"] for e in outbox_events(db, profile["id"]) if e["type"] != "CustomerRegistered"]
    assert types == ["PointsAdjusted", "TierChanged", "MembershipChanged"]


def test_an_adjustment_cannot_take_the_balance_below_zero(client, register, staff):
    profile, _, _ = register()
    adjust(client, staff, profile["id"], 100)
    res = adjust(client, staff, profile["id"], -101)
    assert res.status_code == 409
    assert res.json["error"]["code"] == "insufficient_points"


def test_only_staff_adjust_points_and_only_for_an_existing_customer(client, keys, register, staff):
    profile, headers, _ = register()
    assert adjust(client, headers, profile["id"], 100).status_code == 403
    assert adjust(client, {}, profile["id"], 100).status_code == 401
    assert adjust(client, staff, keys.headers()["Authorization"][-36:], 100).status_code == 404
    res = adjust(client, staff, profile["id"], 0, reason="")
    assert res.status_code == 422
    assert set(res.json["error"]["details"]["fields"]) == {"points", "reason"}
