"""crm's rules on plain objects (no database, no broker): passwords and login throttling, points
and tiers at their edges, who may review what, and every move of a support ticket."""
from datetime import timedelta

import pytest

from crm.config import CrmConfig
from crm.models import (
    TICKET_STATUSES,
    TICKET_TRANSITIONS,
    TIER_LABELS,
    TIERS,
    IllegalTicketTransition,
    LoginThrottle,
    PurchaseRecord,
    Review,
    Ticket,
    TicketClosed,
    next_tier,
    password_problems,
    points_for,
    points_share,
    points_to_reverse,
    review_problem,
    tier_for,
)
from mall_shared.db import utcnow

THRESHOLDS = CrmConfig.load({}).tier_thresholds  # the defaults: 0, 1000, 5000, 20000


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


# ---- points and tiers ------------------------------------------------------------------------
def test_points_count_whole_yuan_before_the_rate_applies():
    assert points_for(100, 1) == 1
    assert points_for(79899, 2) == 1596  # 798 whole yuan × 2, the 0.99 yuan earns nothing
    assert points_for(0, 5) == 0


@pytest.mark.parametrize("threshold, tier", list(zip(THRESHOLDS, TIERS, strict=True)))
def test_a_tier_starts_exactly_at_its_threshold(threshold, tier):
    assert tier_for(threshold, THRESHOLDS) == tier
    if threshold:
        assert tier_for(threshold - 1, THRESHOLDS) == TIERS[TIERS.index(tier) - 1]


@pytest.mark.parametrize("points", [0, 1, 999, 1000, 4999, 5000, 19999])
def test_the_points_to_the_next_tier_are_exactly_what_reaches_it(points):
    following, missing = next_tier(points, THRESHOLDS)
    assert missing > 0
    assert tier_for(points + missing, THRESHOLDS) == following
    assert tier_for(points + missing - 1, THRESHOLDS) == tier_for(points, THRESHOLDS)


def test_every_tier_has_its_label():
    assert set(TIER_LABELS) == set(TIERS)
    assert TIER_LABELS["silver"] == "银卡"


@pytest.mark.parametrize("refunds", [[1], [3333, 3333, 3334], [1, 1, 9998], [5000, 5000], [2500] * 4, [7000]])
def test_refunds_in_any_split_take_back_exactly_the_points_earned_never_more(refunds):
    total = 10000  # fen, 100 points
    awarded, taken, refunded = points_for(total, 1), 0, 0
    for amount in refunds:
        refunded += amount
        step = points_to_reverse(awarded, total, refunded, taken, balance=10**6)
        assert step >= 0
        taken += step
        assert taken <= awarded
    assert taken == (awarded if refunded >= total else awarded * refunded // total)


def test_a_purchase_completed_stays_completed():
    record = PurchaseRecord(status="SHIPPED")
    assert record.move_to("COMPLETED") is True
    assert record.move_to("CANCELLED", "too late") is False
    assert record.move_to("UNKNOWN") is False
    assert (record.status, record.cancel_reason) == ("COMPLETED", None)


# ---- reviews ---------------------------------------------------------------------------------
def test_another_customers_order_is_not_found_whatever_its_status():
    # Ownership is checked first, so a stranger never learns whether the order completed.
    for status in ("SHIPPED", "COMPLETED", "CANCELLED"):
        record = PurchaseRecord(customer_id="owner", status=status, lines=[{"sku_id": "s42"}])
        assert review_problem(record, "stranger", "s42") == "order_not_found"


@pytest.mark.parametrize("status", ["PENDING", "PAID", "PROCESSING", "SHIPPED", "CANCELLED"])
def test_only_a_completed_order_may_be_reviewed(status):
    record = PurchaseRecord(customer_id="c1", status=status, lines=[{"sku_id": "s42"}])
    assert review_problem(record, "c1", "s42") == "order_not_completed"


def test_an_order_whose_lines_are_unknown_has_no_sku_to_review():
    assert review_problem(PurchaseRecord(customer_id="c1", status="COMPLETED", lines=None), "c1", "s42") \
        == "sku_not_in_order"


def test_a_review_is_editable_up_to_the_last_moment_of_its_window():
    days = CrmConfig.load({}).review_edit_days
    assert days == 7
    created = utcnow()
    review = Review(status="visible", created_at=created)
    assert review.editable(created, days)
    assert review.editable(created + timedelta(days=days), days)
    assert not review.editable(created + timedelta(days=days, seconds=1), days)


# ---- tickets ---------------------------------------------------------------------------------
def test_the_ticket_table_knows_only_ticket_states_and_nothing_leaves_closed():
    for (source, target), who in TICKET_TRANSITIONS.items():
        assert {source, target} <= set(TICKET_STATUSES) and who in ("staff", "customer")
    assert not [move for move in TICKET_TRANSITIONS if move[0] == "closed"]


@pytest.mark.parametrize("source", ["open", "pending_customer", "resolved"])
def test_the_customer_may_close_a_ticket_that_is_not_closed(source):
    ticket = Ticket(status=source)
    assert ticket.move_to("closed", staff=False) is True and ticket.status == "closed"


def test_the_customer_may_reopen_a_resolved_ticket_but_not_resolve_or_park_one():
    ticket = Ticket(status="resolved")
    assert ticket.move_to("open", staff=False) is True
    for target in ("resolved", "pending_customer"):
        with pytest.raises(IllegalTicketTransition):
            ticket.move_to(target, staff=False)
    assert ticket.status == "open"


@pytest.mark.parametrize("source, target", [(s, t) for (s, t), who in TICKET_TRANSITIONS.items() if who == "customer"])
def test_staff_may_make_every_move_a_customer_may(source, target):
    ticket = Ticket(status=source)
    assert ticket.move_to(target, staff=True) is True and ticket.status == target


@pytest.mark.parametrize("target", ["open", "pending_customer", "resolved", "escalated"])
def test_a_closed_ticket_moves_for_nobody(target):
    for staff in (True, False):
        ticket = Ticket(status="closed")
        with pytest.raises(IllegalTicketTransition):
            ticket.move_to(target, staff=staff)
    assert Ticket(status="closed").move_to("closed", staff=True) is False  # the same status is a no-op


def test_a_reply_to_a_resolved_ticket_reopens_it_only_when_the_customer_writes():
    ticket = Ticket(status="resolved")
    ticket.on_message(staff=True)
    assert ticket.status == "resolved"
    ticket.on_message(staff=False)
    assert ticket.status == "open"


def test_nobody_writes_to_a_closed_ticket():
    for staff in (True, False):
        with pytest.raises(TicketClosed):
            Ticket(status="closed").on_message(staff=staff)


def test_failed_logins_past_the_free_ones_wait_twice_as_long_each_time_up_to_a_cap():
    from datetime import UTC, datetime

    from crm.models import LoginThrottle

    now, throttle, waits = datetime(2026, 12, 2, tzinfo=UTC), LoginThrottle(login="k", failures=0), []
    for _ in range(16):
        throttle.record_failure(now, free_failures=5, max_backoff=900)
        waits.append(int((throttle.locked_until - now).total_seconds()) if throttle.locked_until else 0)
    assert waits == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]


@pytest.mark.parametrize(("used", "total", "refunded", "share"), [
    (333, 10000, 3000, 100),  # 99.9
    (333, 10000, 6000, 200),  # 199.8
    (333, 10000, 10000, 333),  # a full refund: all of them
    (300, 10000, 5000, 150),
    (1, 10000, 5000, 1),  # half rounds up
    (1, 10000, 4999, 0),
    (300, 10000, 12000, 300),  # never more than were used
    (0, 10000, 5000, 0),
    (300, 0, 0, 300),  # nothing to pay: any refund gives all back
])
def test_a_refund_gives_back_its_share_of_the_points_rounded_half_up(used, total, refunded, share):
    assert points_share(used, total, refunded) == share

