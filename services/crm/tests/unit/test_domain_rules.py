"""Issue 6's crm rules not covered by test_rules.py, on plain objects (no database, no broker):
points and tiers at their edges, who may review what, and every move of a support ticket."""
from datetime import timedelta

import pytest

from crm.config import CrmConfig
from crm.models import (
    TICKET_STATUSES,
    TICKET_TRANSITIONS,
    TIER_LABELS,
    TIERS,
    IllegalTicketTransition,
    PurchaseRecord,
    Review,
    Ticket,
    TicketClosed,
    next_tier,
    points_for,
    points_to_reverse,
    review_problem,
    tier_for,
)
from mall_shared.db import utcnow

THRESHOLDS = CrmConfig.load({}).tier_thresholds


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
