"""Checkout input rules, on the schemas alone."""
import pytest
from marshmallow import ValidationError

from order.schemas import OrderListArgs, PlaceOrderSchema

ADDRESS = {"name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
           "district": "西湖区", "detail": "文三路 100 号"}


def load(**changes):
    body = {"items": [{"sku_id": "a", "quantity": 1}], "shipping_address": ADDRESS,
            "delivery_method_id": "standard", **changes}
    return PlaceOrderSchema().load(body)


def test_lines_of_one_sku_are_merged_in_the_order_first_seen():
    data = load(items=[{"sku_id": "a", "quantity": 1}, {"sku_id": "b", "quantity": 2}, {"sku_id": "a", "quantity": 3}])
    assert data["items"] == [{"sku_id": "a", "quantity": 4}, {"sku_id": "b", "quantity": 2}]


def test_merged_lines_may_not_exceed_99_of_one_sku():
    with pytest.raises(ValidationError) as err:
        load(items=[{"sku_id": "a", "quantity": 50}, {"sku_id": "a", "quantity": 50}])
    assert "items" in err.value.messages


@pytest.mark.parametrize("phone", ["13800138000", "+8613800138000", "138 0013 8000", "+86 138-0013-8000"])
def test_mainland_mobile_numbers_are_accepted(phone):
    assert load(shipping_address={**ADDRESS, "phone": phone})["shipping_address"]["phone"] == "13800138000"


@pytest.mark.parametrize("phone", ["12800138000", "1380013800", "010-12345678", "abc"])
def test_other_phone_numbers_are_refused(phone):
    with pytest.raises(ValidationError) as err:
        load(shipping_address={**ADDRESS, "phone": phone})
    assert "phone" in err.value.messages["shipping_address"]


def test_the_postal_code_is_optional():
    assert load()["shipping_address"]["postal_code"] is None


def test_a_date_filter_means_whole_days():
    args = OrderListArgs().load({"created_from": "2026-11-25", "created_to": "2026-11-25"})
    assert (args["created_to"] - args["created_from"]).days == 1
    with pytest.raises(ValidationError) as err:
        OrderListArgs().load({"created_from": "2026-11-26", "created_to": "2026-11-24"})
    assert "created_to" in err.value.messages


def test_a_saved_address_may_stand_in_for_the_shipping_address_but_not_both_or_neither():
    body = {"items": [{"sku_id": "a", "quantity": 1}], "delivery_method_id": "standard"}
    assert PlaceOrderSchema().load({**body, "address_id": "addr-1"})["address_id"] == "addr-1"
    for wrong in ({}, {"address_id": "addr-1", "shipping_address": ADDRESS}):
        with pytest.raises(ValidationError) as err:
            PlaceOrderSchema().load({**body, **wrong})
        assert set(err.value.messages) == {"shipping_address", "address_id"}
