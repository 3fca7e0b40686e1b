"""The worker confirms receipt a while after the carrier delivered, for customers who did not sign."""
from logistics.config import LogisticsConfig
from logistics.worker import periodic_jobs
from mall_shared.testing import outbox_events


def run_auto_confirm(db, after: float) -> None:
    ((_, job),) = periodic_jobs(LogisticsConfig(auto_confirm_after=after))
    with db.transaction() as session:
        job(session)


def deliver_by_carrier(client, staff, shipment) -> None:
    res = client.post(f"/api/logistics/shipments/{shipment['id']}/events", json={"status": "delivered"}, headers=staff)
    assert res.status_code == 201, res.json


def test_a_delivered_parcel_is_confirmed_automatically_once_the_time_has_passed(client, staff, keys, ship, db):
    shipment, customer = ship()
    deliver_by_carrier(client, staff, shipment)
    run_auto_confirm(db, after=LogisticsConfig().auto_confirm_after)  # the default: 10 days
    assert [e["type"] for e in outbox_events(db, shipment["order_id"])] == ["Shipped", "ShipmentUpdated"]
    run_auto_confirm(db, after=0)
    run_auto_confirm(db, after=0)
    detail = client.get(f"/api/logistics/shipments/{shipment['id']}", headers=keys.headers(customer)).json
    assert (detail["status"], detail["signed_by"]) == ("signed", "auto")
    assert detail["events"][-1]["status"] == "signed"
    events = outbox_events(db, shipment["order_id"])
    assert [e["type"] for e in events] == ["Shipped", "ShipmentUpdated", "Delivered"]
    assert events[-1]["data"]["status"] == "signed"
    late = client.post(f"/api/logistics/shipments/{shipment['id']}/sign", headers=keys.headers(customer))
    assert late.status_code == 409 and late.json["error"]["code"] == "already_delivered"


def test_parcels_still_on_the_way_or_already_signed_are_left_alone(client, staff, keys, ship, db):
    moving, _ = ship()
    signed, customer = ship()
    deliver_by_carrier(client, staff, signed)
    res = client.post(f"/api/logistics/shipments/{signed['id']}/sign", headers=keys.headers(customer))
    assert res.status_code == 200
    run_auto_confirm(db, after=0)
    assert [e["type"] for e in outbox_events(db, moving["order_id"])] == ["Shipped"]
    assert [e["type"] for e in outbox_events(db, signed["order_id"])] == ["Shipped", "ShipmentUpdated", "Delivered"]


def test_the_setting_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("LOGISTICS_AUTO_CONFIRM_AFTER", "5")
    monkeypatch.setenv("LOGISTICS_CARRIER_KEYS", "sf=k1, zto = k2,bad")
    cfg = LogisticsConfig.load()
    assert cfg.auto_confirm_after == 5
    assert cfg.carrier_keys == {"sf": "k1", "zto": "k2"}
    monkeypatch.delenv("LOGISTICS_AUTO_CONFIRM_AFTER")
    assert LogisticsConfig.load().auto_confirm_after == 10 * 24 * 3600
