"""crm's rules on plain objects: no database, no broker."""
from datetime import timedelta

import pytest

from crm.models import (
    IllegalTicketTransition,
    LoginThrottle,
    PurchaseRecord,
    Review,
    Ticket,
    TicketClosed,
    next_tier,
    password_problems,
    points_for,
    points_to_reverse,
    review_problem,
    tier_for,
)
from mall_shared.db import utcnow

THRESHOLDS = (0, 1000, 5000, 20000)


def test_a_password_needs_8_to_128_characters_with_letters_and_digits():
    assert password_problems("secret123") == []
    assert password_problems("s3cret") == ["must be 8 to 128 characters long"]
    assert password_problems("a1" * 65) == ["must be 8 to 128 characters long"]
    assert password_problems("onlyletters") == ["must contain both letters and digits"]
    assert password_problems("1234567890") == ["must contain both letters and digits"]


def test_points_are_earned_per_whole_yuan_of_the_total():
    assert points_for(79800, 1) == 798
    assert points_for(79899, 1) == 798  # 0.99 yuan earns nothing
    assert points_for(99, 1) == 0
    assert points_for(10000, 3) == 300
    assert points_for(-500, 1) == 0


def test_the_tier_follows_the_thresholds():
    assert tier_for(0, THRESHOLDS) == "regular"
    assert tier_for(999, THRESHOLDS) == "regular"
    assert tier_for(1000, THRESHOLDS) == "silver"
    assert tier_for(5000, THRESHOLDS) == "gold"
    assert tier_for(10**6, THRESHOLDS) == "diamond"


def test_the_next_tier_says_how_many_points_are_missing_and_none_at_the_top():
    assert next_tier(0, THRESHOLDS) == ("silver", 1000)
    assert next_tier(4999, THRESHOLDS) == ("gold", 1)
    assert next_tier(20000, THRESHOLDS) == (None, None)


def test_a_refund_reverses_its_share_of_the_points():
    # 798 points from 79800 fen; half refunded takes back 399, the rest the remaining 399.
    assert points_to_reverse(798, 79800, 39900, 0, balance=10_000) == 399
    assert points_to_reverse(798, 79800, 79800, 399, balance=10_000) == 399
    assert points_to_reverse(798, 79800, 79800, 798, balance=10_000) == 0


def test_a_reversal_never_takes_the_balance_below_zero_nor_more_than_was_earned():
    assert points_to_reverse(798, 79800, 79800, 0, balance=100) == 100
    assert points_to_reverse(798, 79800, 10**9, 0, balance=10_000) == 798
    assert points_to_reverse(0, 79800, 79800, 0, balance=10_000) == 0


def test_a_purchase_status_only_moves_forward_and_a_final_one_stays():
    record = PurchaseRecord(status="PENDING")
    assert record.move_to("PAID") is True
    assert record.move_to("AWAITING_PAYMENT") is False  # a late, older event
    assert record.status == "PAID"
    assert record.move_to("CANCELLED", "customer") is True
    assert record.move_to("COMPLETED") is False
    assert (record.status, record.cancel_reason) == ("CANCELLED", "customer")


def test_failed_logins_lock_after_the_limit_and_the_lock_expires():
    now = utcnow()
    throttle = LoginThrottle(login="email:a@b.c", failures=0)
    for _ in range(4):
        throttle.record_failure(now, 5, 900)
    assert not throttle.is_locked(now)
    throttle.record_failure(now, 5, 900)
    assert throttle.is_locked(now)
    assert not throttle.is_locked(now + timedelta(seconds=901))


def test_a_staff_reply_waits_for_the_customer_and_a_customer_reply_reopens():
    ticket = Ticket(status="open")
    ticket.on_message(staff=True)
    assert ticket.status == "pending_customer"
    ticket.on_message(staff=False)
    assert ticket.status == "open"


def test_a_ticket_goes_open_to_resolved_to_closed_and_a_closed_one_takes_no_messages():
    ticket = Ticket(status="open")
    assert ticket.move_to("resolved", staff=True) is True
    assert ticket.move_to("resolved", staff=True) is False
    assert ticket.move_to("closed", staff=False) is True
    with pytest.raises(TicketClosed):
        ticket.on_message(staff=False)
    with pytest.raises(IllegalTicketTransition):
        ticket.move_to("open", staff=True)


def test_only_staff_resolve_a_ticket():
    with pytest.raises(IllegalTicketTransition) as err:
        Ticket(status="open").move_to("resolved", staff=False)
    assert "by the customer" in err.value.message


def test_a_review_needs_a_completed_order_of_ones_own_with_that_sku():
    record = PurchaseRecord(customer_id="c1", status="SHIPPED", lines=[{"sku_id": "s42", "quantity": 2}])
    assert review_problem(record, "c1", "s42") == "order_not_completed"
    record.status = "COMPLETED"
    assert review_problem(record, "c1", "s42") is None
    assert review_problem(record, "c1", "s41") == "sku_not_in_order"
    assert review_problem(record, "c2", "s42") == "order_not_found"
    assert review_problem(None, "c1", "s42") == "order_not_found"


def test_a_review_is_editable_for_a_while_and_not_once_hidden():
    now = utcnow()
    review = Review(status="visible", created_at=now - timedelta(days=6))
    assert review.editable(now, 7)
    assert not review.editable(now + timedelta(days=2), 7)
    review.status = "hidden"
    assert not review.editable(now, 7)
