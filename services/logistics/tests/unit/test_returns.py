"""The rules of returns (售后), on plain objects: the transition table, the window, the quantities."""
from datetime import UTC, datetime, timedelta

import pytest

from logistics.config import LogisticsConfig
from logistics.models import (
    RETURN_TRANSITIONS,
    IllegalTransition,
    InvalidField,
    OrderRecord,
    Return,
    ReturnExceedsPurchase,
    line_paid,
    returned_share,
)
from mall_shared.api import Conflict

COMPLETED = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
WEEK = 7 * 24 * 3600
LINES = [{"sku_id": "shoe-42", "quantity": 2, "unit_price": 39900}, {"sku_id": "sock", "quantity": 3,
                                                                    "unit_price": 1500}]


def order(status="COMPLETED", completed_at=COMPLETED) -> OrderRecord:
    return OrderRecord(order_id="o1", customer_id="c1", status=status, lines=LINES, completed_at=completed_at)


def test_the_window_is_seven_days_by_default():
    assert LogisticsConfig().return_window == WEEK == 604800


@pytest.mark.parametrize("now", [COMPLETED, COMPLETED + timedelta(days=3), COMPLETED + timedelta(seconds=WEEK)])
def test_a_completed_order_is_returnable_within_the_window(now):
    order().check_returnable(now, WEEK)


def test_past_the_window_a_return_is_refused():
    with pytest.raises(Conflict) as err:
        order().check_returnable(COMPLETED + timedelta(seconds=WEEK + 1), WEEK)
    assert err.value.code == "return_window_closed"
    with pytest.raises(Conflict) as err:  # completed before logistics kept the time: no window known
        order(completed_at=None).check_returnable(COMPLETED, WEEK)
    assert err.value.code == "return_window_closed"


@pytest.mark.parametrize("status", ["PENDING", "PAID", "PROCESSING", "SHIPPED", "CANCELLED"])
def test_only_a_completed_order_is_returnable(status):
    with pytest.raises(Conflict) as err:
        order(status).check_returnable(COMPLETED, WEEK)
    assert (err.value.status, err.value.code) == (409, "order_not_completed")


def test_a_return_takes_the_prices_the_order_was_placed_at():
    lines = order().return_lines({"shoe-42": 1, "sock": 3}, {})
    assert lines == [{"sku_id": "shoe-42", "quantity": 1, "unit_price": 39900, "paid": 39900, "points": 0},
                     {"sku_id": "sock", "quantity": 3, "unit_price": 1500, "paid": 4500, "points": 0}]


def test_no_more_than_bought_less_what_other_returns_hold():
    assert order().return_lines({"shoe-42": 1}, {"shoe-42": (1, 39900, 0)}) == [
        {"sku_id": "shoe-42", "quantity": 1, "unit_price": 39900, "paid": 39900, "points": 0}]
    for wanted, taken in (({"shoe-42": 3}, {}), ({"shoe-42": 2}, {"shoe-42": (1, 39900, 0)}),
                          ({"sock": 1}, {"sock": (3, 4500, 0)})):
        with pytest.raises(ReturnExceedsPurchase) as err:
            order().return_lines(wanted, taken)
        assert (err.value.status, err.value.code) == (422, "return_exceeds_purchase")
    with pytest.raises(ReturnExceedsPurchase) as err:
        order().return_lines({"shoe-42": 1, "sock": 2}, {"sock": (2, 3000, 0)})
    assert err.value.details == {"returnable": {"shoe-42": 2, "sock": 1}}


DISCOUNTED = [{"sku_id": "shoe-42", "quantity": 3, "unit_price": 39900, "discount": 9701, "paid": 109999,
               "points": 1001}]


def test_a_return_gives_back_the_returned_units_share_of_what_the_line_paid_and_its_points():
    shop = OrderRecord(order_id="o1", customer_id="c1", status="COMPLETED", lines=DISCOUNTED)
    (line,) = shop.return_lines({"shoe-42": 1}, {})
    assert (line["paid"], line["points"]) == (36666, 333)  # 109999 / 3 and 1001 / 3, rounded down


@pytest.mark.parametrize("parts", [(1, 1, 1), (1, 2), (2, 1), (3,)])
def test_returning_every_unit_over_several_returns_gives_back_exactly_the_line(parts):
    shop, taken = OrderRecord(order_id="o1", customer_id="c1", status="COMPLETED", lines=DISCOUNTED), {}
    for quantity in parts:
        (line,) = shop.return_lines({"shoe-42": quantity}, taken)
        units, paid, points = taken.get("shoe-42", (0, 0, 0))
        taken["shoe-42"] = (units + quantity, paid + line["paid"], points + line["points"])
    assert taken == {"shoe-42": (3, 109999, 1001)}


def test_a_line_placed_without_its_paid_share_pays_back_the_unit_price_and_no_points():
    assert (line_paid({"unit_price": 1500, "quantity": 3}), line_paid({"unit_price": 1500, "quantity": 3,
                                                                       "paid": 4000})) == (4500, 4000)
    assert returned_share(4000, 3, 1, 0) == 1333 and returned_share(4000, 3, 3, 1333) == 2667


def test_a_sku_not_in_the_order_is_a_validation_error_naming_lines():
    with pytest.raises(InvalidField) as err:
        order().return_lines({"hat": 1, "shoe-42": 1}, {})
    assert (err.value.status, err.value.code, list(err.value.details["fields"])) == (422, "validation_error",
                                                                                     ["lines"])


def test_the_transition_table():
    assert RETURN_TRANSITIONS == {"requested": {"approved", "refused"}, "approved": {"shipped"},
                                  "shipped": {"received"}, "received": {"refunded"}, "refused": set(),
                                  "refunded": set()}


def test_a_return_walks_its_path_once():
    ret = Return(status="requested")
    for status in ("approved", "shipped", "received", "refunded"):
        ret.move_to(status)
        assert ret.status == status


@pytest.mark.parametrize("status, step", [
    ("requested", "shipped"), ("requested", "received"), ("approved", "approved"), ("approved", "refused"),
    ("shipped", "refunded"), ("refused", "approved"), ("received", "shipped"), ("refunded", "received"),
])
def test_an_illegal_step_is_a_conflict_and_changes_nothing(status, step):
    ret = Return(status=status)
    with pytest.raises(IllegalTransition) as err:
        ret.move_to(step)
    assert (err.value.status, err.value.code, ret.status) == (409, "illegal_transition", status)
