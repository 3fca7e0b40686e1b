"""Issue 6's shipment rules not covered by test_models.py, on plain objects (no database, no broker):
the seeded carriers' tracking-number formats, the shipment state machine's edges, who may be signed
off automatically, and the settings and keys the sign-off and the webhook depend on."""
import importlib.util
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import logistics
from logistics import worker
from logistics.carriers import carrier_key, sign, signature_valid
from logistics.config import LogisticsConfig
from logistics.models import AUTO_CONFIRMABLE, IN_TRANSIT, STATUSES, Carrier, IllegalTransition, Shipment
from mall_shared.api import Conflict

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=5)


def _seeded_carriers() -> dict[str, Carrier]:
    """The carriers every environment starts with, as the first migration seeds them."""
    path = Path(logistics.__file__).parent / "migrations" / "versions" / "0001_initial_schema.py"
    spec = importlib.util.spec_from_file_location("logistics_seed", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {cid: Carrier(id=cid, name=name, tracking_pattern=pattern, tracking_url_template=url)
            for cid, name, pattern, url in module.CARRIERS}


SEEDED = _seeded_carriers()
SAMPLES = {"sf": "SF1234567890123", "zto": "73100012345678", "jd": "JDVA12345678901", "ems": "EA123456789CN"}


def test_the_four_carriers_are_seeded_and_each_takes_its_own_numbers_with_a_tracking_link():
    assert set(SEEDED) == set(SAMPLES)
    for cid, number in SAMPLES.items():
        assert SEEDED[cid].accepts(number), cid
        assert number in SEEDED[cid].tracking_url(number) and SEEDED[cid].tracking_url(number).startswith("https://")
        assert SEEDED[cid].tracking_url(None) is None


@pytest.mark.parametrize("cid, number", [
    ("sf", SAMPLES["zto"]), ("sf", SAMPLES["jd"]), ("zto", SAMPLES["sf"]), ("jd", SAMPLES["sf"]),
    ("ems", SAMPLES["jd"]), ("sf", " SF1234567890123"), ("sf", "SF1234567890123\n"), ("zto", "7310 0012 3456"),
    ("sf", ""),
])
def test_a_seeded_carrier_refuses_another_carriers_number_or_one_with_spaces(cid, number):
    assert not SEEDED[cid].accepts(number)


def shipment(status: str = "shipped") -> Shipment:
    return Shipment(status=status)


def test_shipping_records_the_carrier_number_and_time():
    s = shipment("awaiting_dispatch")
    s.ship(SEEDED["sf"], SAMPLES["sf"], NOW)
    assert (s.status, s.carrier_id, s.tracking_number, s.shipped_at) == ("shipped", "sf", SAMPLES["sf"], NOW)


def test_a_picked_up_scan_comes_only_before_the_parcel_moves_on():
    s = shipment()
    assert s.track("in_transit", NOW)
    assert s.track("picked_up", NOW) is False
    assert s.status == "in_transit"


def test_a_parcel_in_exception_can_get_moving_again():
    s = shipment()
    for status in ("in_transit", "exception", "in_transit", "out_for_delivery", "exception", "out_for_delivery"):
        assert s.track(status, NOW), status
    assert s.status == "out_for_delivery"


@pytest.mark.parametrize("status", ["signed", "shipped", "cancelled", "awaiting_dispatch", "lost", ""])
def test_a_tracking_update_cannot_sign_ship_or_cancel(status):
    # Signing off goes through sign() only, so it is always recorded with who signed.
    s = shipment()
    assert s.track(status, NOW) is False
    assert (s.status, s.signed_at) == ("shipped", None)


def test_after_delivered_only_the_sign_off_is_left_and_a_repeat_keeps_the_first_time():
    s = shipment()
    assert s.track("delivered", NOW)
    for status in ("delivered", *IN_TRANSIT):
        assert s.track(status, LATER) is False, status
    assert (s.status, s.delivered_at) == ("delivered", NOW)
    s.sign("carrier", LATER)
    assert (s.status, s.signed_by, s.signed_at) == ("signed", "carrier", LATER)


@pytest.mark.parametrize("status", ["shipped", *IN_TRANSIT])
def test_receipt_can_be_confirmed_before_the_carrier_reports_delivered(status):
    s = shipment(status)
    s.sign("customer", NOW)
    assert (s.status, s.signed_by, s.signed_at, s.delivered_at) == ("signed", "customer", NOW, None)


def test_a_cancelled_shipment_is_never_shipped_tracked_or_signed():
    s = shipment("cancelled")
    with pytest.raises(IllegalTransition):
        s.ship(SEEDED["sf"], SAMPLES["sf"], NOW)
    assert s.track("in_transit", NOW) is False
    with pytest.raises(Conflict) as err:
        s.sign("customer", NOW)
    assert err.value.code == "shipment_cancelled" and s.status == "cancelled"


def test_an_illegal_step_is_a_409_illegal_transition_naming_both_states():
    with pytest.raises(IllegalTransition) as err:
        shipment("signed").move_to("in_transit")
    assert (err.value.status, err.value.code) == (409, "illegal_transition")
    assert err.value.details == {"status": "signed", "requested": "in_transit"}


def test_auto_confirm_takes_parcels_still_on_the_way_but_not_one_in_exception():
    # delivered is absent too: the carrier's report signs the parcel off at once.
    assert set(AUTO_CONFIRMABLE) == {"shipped", *IN_TRANSIT} - {"exception"}
    assert set(AUTO_CONFIRMABLE) <= set(STATUSES)
    for status in AUTO_CONFIRMABLE:
        assert shipment(status).can_become("signed"), status


def test_auto_confirm_waits_ten_days_by_default_and_both_settings_come_from_the_environment(monkeypatch):
    assert (LogisticsConfig().auto_confirm_after, LogisticsConfig().auto_confirm_interval) == (10 * 24 * 3600, 60)
    monkeypatch.setenv("LOGISTICS_AUTO_CONFIRM_AFTER", "4")
    monkeypatch.setenv("LOGISTICS_AUTO_CONFIRM_INTERVAL", "0.5")
    cfg = LogisticsConfig.load()
    assert (cfg.auto_confirm_after, cfg.auto_confirm_interval) == (4, 0.5)


def test_the_worker_runs_auto_confirm_every_interval_with_the_configured_delay(monkeypatch):
    calls = []
    monkeypatch.setattr(worker.services, "auto_confirm_receipts", lambda session, after: calls.append((session, after)))
    ((interval, job),) = worker.periodic_jobs(LogisticsConfig(auto_confirm_after=4, auto_confirm_interval=0.5))
    job("session")
    assert (interval, calls) == (0.5, [("session", 4)])


def test_a_configured_carrier_key_wins_over_the_sandbox_key(tmp_path):
    cfg = LogisticsConfig(sandbox=True, keys_dir=tmp_path, carrier_keys={"sf": "configured"})
    assert carrier_key(cfg, "sf") == "configured"
    assert not (tmp_path / "carrier_sf.key").exists()


def test_the_sandbox_makes_one_private_dev_key_per_carrier_and_keeps_it(tmp_path):
    cfg = LogisticsConfig(sandbox=True, keys_dir=tmp_path / "keys")
    key = carrier_key(cfg, "zto")
    assert key and carrier_key(cfg, "zto") == key != carrier_key(cfg, "jd")
    assert stat.S_IMODE((tmp_path / "keys" / "carrier_zto.key").stat().st_mode) == 0o600


def test_outside_the_sandbox_a_carrier_without_a_key_has_every_push_refused(tmp_path):
    cfg = LogisticsConfig(sandbox=False, keys_dir=tmp_path)
    assert carrier_key(cfg, "zto") is None
    body = b'{"status": "delivered"}'
    assert not signature_valid(carrier_key(cfg, "zto"), body, sign("", body))
