"""logistics' rules, on plain objects: no database, no broker."""
from datetime import UTC, datetime

import pytest

from logistics.carriers import sign, signature_valid
from logistics.models import TRANSITIONS, Carrier, DeliveryMethod, IllegalTransition, Shipment, order_status_advances
from mall_shared.api import Conflict

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

# The seeded formats (migrations/versions/0001_initial_schema.py).
FORMATS = {"sf": r"SF\d{12,13}", "zto": r"\d{12,14}", "jd": r"JD[A-Z0-9]{11,13}",
           "ems": r"[A-Z]{2}\d{9}[A-Z]{2}|\d{13}"}


def carrier(cid: str) -> Carrier:
    return Carrier(id=cid, name=cid.upper(), tracking_pattern=FORMATS[cid],
                   tracking_url_template="https://track.example/{tracking_number}")


@pytest.mark.parametrize("cid, number", [
    ("sf", "SF123456789012"), ("sf", "SF1234567890123"),
    ("zto", "123456789012"), ("zto", "73100012345678"),
    ("jd", "JDVA12345678901"), ("jd", "JD0123456789A"),
    ("ems", "EA123456789CN"), ("ems", "1234567890123"),
])
def test_a_carrier_accepts_tracking_numbers_of_its_format(cid, number):
    assert carrier(cid).accepts(number)


@pytest.mark.parametrize("cid, number", [
    ("sf", "SF12345678901"), ("sf", "sf123456789012"), ("sf", "SF123456789012X"), ("sf", "123456789012"),
    ("zto", "12345678901"), ("zto", "123456789012345"), ("zto", "12345678901A"),
    ("jd", "JD12345"), ("jd", "JDva12345678901"),
    ("ems", "E123456789CN"), ("ems", "EA123456789C"), ("ems", "EA123456789CN1234567890123"),
])
def test_a_carrier_refuses_numbers_of_another_format(cid, number):
    assert not carrier(cid).accepts(number)


def test_the_tracking_url_carries_the_number():
    assert carrier("sf").tracking_url("SF123456789012") == "https://track.example/SF123456789012"


def test_a_delivery_method_without_regions_serves_everywhere():
    assert DeliveryMethod(regions=None).serves("西藏自治区")
    same_day = DeliveryMethod(regions=["上海市"])
    assert same_day.serves("上海市") and not same_day.serves("西藏自治区")


def shipped() -> Shipment:
    shipment = Shipment(status="awaiting_dispatch")
    shipment.ship(carrier("sf"), "SF123456789012", NOW)
    return shipment


def test_a_shipment_goes_from_dispatch_through_transit_to_signed():
    shipment = shipped()
    for status in ("picked_up", "in_transit", "in_transit", "out_for_delivery", "delivered"):
        assert shipment.track(status, NOW) is True
        assert shipment.status == status
    assert shipment.delivered_at == NOW
    shipment.sign("customer", NOW)
    assert (shipment.status, shipment.signed_by) == ("signed", "customer")


def test_a_second_delivered_report_is_refused_quietly():
    shipment = shipped()
    assert shipment.track("delivered", NOW) is True
    assert shipment.track("delivered", NOW) is False
    assert shipment.track("in_transit", NOW) is False
    assert shipment.status == "delivered"


def test_receipt_is_confirmed_only_once():
    shipment = shipped()
    shipment.sign("customer", NOW)
    with pytest.raises(Conflict) as err:
        shipment.sign("auto", NOW)
    assert err.value.code == "already_delivered"
    assert shipment.track("delivered", NOW) is False
    assert shipment.signed_by == "customer"


def test_a_shipment_not_yet_shipped_cannot_be_signed_or_tracked():
    shipment = Shipment(status="awaiting_dispatch")
    assert shipment.track("in_transit", NOW) is False
    with pytest.raises(Conflict) as err:
        shipment.sign("customer", NOW)
    assert err.value.code == "not_shipped"


def test_only_a_shipment_awaiting_dispatch_can_be_cancelled():
    waiting = Shipment(status="awaiting_dispatch")
    assert waiting.cancel() is True and waiting.status == "cancelled"
    assert waiting.cancel() is False
    moving = shipped()
    assert moving.cancel() is False and moving.status == "shipped"


def test_a_shipment_is_shipped_once():
    shipment = shipped()
    with pytest.raises(IllegalTransition):
        shipment.ship(carrier("sf"), "SF123456789013", NOW)


def test_every_state_in_the_table_leads_only_to_known_states():
    for targets in TRANSITIONS.values():
        assert targets <= set(TRANSITIONS)
    assert TRANSITIONS["signed"] == TRANSITIONS["cancelled"] == set()


def test_order_statuses_never_move_back():
    assert order_status_advances(None, "PAID")
    assert order_status_advances("PAID", "PROCESSING")
    assert not order_status_advances("PROCESSING", "PAID")
    assert not order_status_advances("CANCELLED", "PROCESSING")
    assert not order_status_advances("PAID", "PAID")


def test_a_signature_is_the_hex_hmac_sha256_of_the_raw_body():
    body = b'{"tracking_number": "SF123456789012"}'
    signature = sign("secret", body)
    assert len(signature) == 64
    assert signature_valid("secret", body, signature)
    assert signature_valid("secret", body, signature.upper())
    assert not signature_valid("other", body, signature)
    assert not signature_valid("secret", body + b" ", signature)
    assert not signature_valid("secret", body, None)
    assert not signature_valid(None, body, signature)
    assert not signature_valid("secret", body, "签名ü")
