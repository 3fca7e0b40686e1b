"""order's rules on plain objects: the state machine, totals, history. No database, no broker."""
import pytest

from order.config import OrderConfig
from order.models import CANCELLED, MAIN_LINE, STATUSES, TRANSITIONS, IllegalTransition, Order
from order.pricing import Coupon, PriceLine, Rules, price


def order_at(status: str) -> Order:
    return Order(status=status, customer_id="c", lines=[], history=[])


def test_the_happy_path_is_allowed_one_step_at_a_time():
    order = order_at("PENDING")
    for status in MAIN_LINE[1:]:
        order.transition(status, None, "test")
    assert order.status == "COMPLETED"
    assert [(h.previous_status, h.status) for h in order.history] == list(zip(MAIN_LINE, MAIN_LINE[1:], strict=False))


@pytest.mark.parametrize("status", ["PENDING", "AWAITING_PAYMENT", "PAID"])
def test_an_order_can_be_cancelled_until_staff_process_it(status):
    order = order_at(status)
    order.transition(CANCELLED, "changed my mind", "customer:c")
    assert order.status == CANCELLED and order.cancel_reason == "changed my mind"


@pytest.mark.parametrize("status", ["PROCESSING", "SHIPPED", "COMPLETED", "CANCELLED"])
def test_an_order_cannot_be_cancelled_once_processing_shipped_completed_or_cancelled(status):
    order = order_at(status)
    with pytest.raises(IllegalTransition) as err:
        order.transition(CANCELLED, None, "staff:s")
    assert err.value.code == "illegal_transition" and err.value.status == 409
    assert order.status == status and order.history == [] and order.cancel_reason is None


def test_no_step_may_be_skipped_or_taken_backwards():
    for status in STATUSES:
        allowed = TRANSITIONS[status]
        for target in STATUSES:
            order = order_at(status)
            if target in allowed:
                order.transition(target, None, "test")
            else:
                with pytest.raises(IllegalTransition):
                    order.transition(target, None, "test")
                assert order.status == status
    assert TRANSITIONS["PENDING"] == {"AWAITING_PAYMENT", "CANCELLED"}


def test_an_order_keeps_the_pricing_steps_breakdown_and_each_lines_share():
    order = order_at("PENDING")
    breakdown = price([PriceLine("s42", 2, 39900), PriceLine("s41", 3, 100)], Rules(), Coupon("amount", 801),
                      points=100, delivery_fee=1000)
    for line in breakdown.lines:
        order.add_line(line)
    order.price(breakdown)
    assert [(ln.position, ln.line_total, ln.discount, ln.paid) for ln in order.lines] == [
        (0, 79800, 898, 78902), (1, 300, 3, 297)]
    assert (order.subtotal, order.coupon_discount, order.points_discount, order.delivery_fee, order.total) == (
        80100, 801, 100, 1000, 80199)


def test_an_order_spending_points_awaits_payment_only_once_stock_and_points_are_held():
    order = order_at("PENDING")
    order.stock_reserved, order.points_held, order.points_used = True, False, 100
    assert not order.holds_complete
    order.points_held = True
    assert order.holds_complete
    order.stock_reserved, order.points_used = False, 0
    assert not order.holds_complete


def test_a_note_changes_no_status_and_is_recorded_once_per_reference():
    order = order_at("AWAITING_PAYMENT")
    assert order.note("payment_failed: declined", "payment", ref="p1") is not None
    assert order.note("payment_failed: declined", "payment", ref="p1") is None
    assert order.status == "AWAITING_PAYMENT"
    assert [(h.kind, h.status) for h in order.history] == [("note", "AWAITING_PAYMENT")]


def test_an_order_knows_the_steps_to_a_later_status_and_whether_it_is_already_past_one():
    order = order_at("PENDING")
    assert order.path_to("PAID") == ["AWAITING_PAYMENT", "PAID"]
    assert order_at("PROCESSING").is_at_or_past("PAID")
    assert not order_at("PAID").is_at_or_past("PROCESSING")
    assert order_at(CANCELLED).path_to("PAID") == [] and not order_at(CANCELLED).is_at_or_past("PAID")


def test_the_payment_timeout_and_check_interval_come_from_the_environment(monkeypatch):
    for name in ("ORDER_PAYMENT_TIMEOUT", "ORDER_TIMEOUT_CHECK_INTERVAL"):
        monkeypatch.delenv(name, raising=False)
    assert (OrderConfig.load().payment_timeout, OrderConfig.load().timeout_check_interval) == (1800.0, 5.0)
    monkeypatch.setenv("ORDER_PAYMENT_TIMEOUT", "2.5")
    monkeypatch.setenv("ORDER_TIMEOUT_CHECK_INTERVAL", "0.2")
    monkeypatch.setenv("CATALOG_URL", "http://catalog:8001/")
    monkeypatch.setenv("CRM_URL", "http://crm:8004")
    cfg = OrderConfig.load()
    assert (cfg.payment_timeout, cfg.timeout_check_interval, cfg.catalog_url, cfg.crm_url) == (
        2.5, 0.2, "http://catalog:8001", "http://crm:8004")
