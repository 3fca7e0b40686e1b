"""The worker confirms receipt some time after dispatch for parcels nobody has signed off."""
from logistics.config import LogisticsConfig
from logistics.worker import periodic_jobs
from mall_shared.testing import outbox_events


def run_auto_confirm(db, after: float) -> None:
    ((_, job),) = periodic_jobs(LogisticsConfig(auto_confirm_after=after))
    with db.transaction() as session:
        job(session)


def track(client, staff, shipment, status) -> None:
    res = client.post(f"/api/logistics/shipments/{shipment['id']}/events", json={"status": status}, headers=staff)
    assert res.status_code == 201, res.json


def test_a_parcel_nobody_signed_off_is_confirmed_automatically_once_the_time_has_passed(client, staff, keys, ship,
                                                                                        db):
    shipment, customer = ship()
    track(client, staff, shipment, "in_transit")
    run_auto_confirm(db, after=LogisticsConfig().auto_confirm_after)  # the default: 10 days after dispatch
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


def test_parcels_in_exception_or_already_signed_off_are_left_alone(client, staff, keys, ship, db):
    lost, _ = ship()
    track(client, staff, lost, "exception")
    signed, customer = ship()
    res = client.post(f"/api/logistics/shipments/{signed['id']}/sign", headers=keys.headers(customer))
    assert res.status_code == 200
    run_auto_confirm(db, after=0)
    assert [e["type"] for e in outbox_events(db, lost["order_id"])] == ["Shipped", "ShipmentUpdated"]
    assert [e["type"] for e in outbox_events(db, signed["order_id"])] == ["Shipped", "Delivered"]


def test_the_setting_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("LOGISTICS_AUTO_CONFIRM_AFTER", "5")
    monkeypatch.setenv("LOGISTICS_CARRIER_KEYS", "sf=k1, zto = k2,bad")
    cfg = LogisticsConfig.load()
    assert cfg.auto_confirm_after == 5
    assert cfg.carrier_keys == {"sf": "k1", "zto": "k2"}
    monkeypatch.delenv("LOGISTICS_AUTO_CONFIRM_AFTER")
    assert LogisticsConfig.load().auto_confirm_after == 10 * 24 * 3600
