"""Membership use cases: points earned on completed orders, reversed on refunds, adjusted by
staff; the tier follows the points earned both ways (TierChanged), not what is spent on orders
(redemption.py). No Flask, no commit."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mall_shared.api import Conflict
from mall_shared.db import locked_row, new_id, utcnow
from mall_shared.events import MembershipChanged, PointsAdjusted, PointsAwarded, TierChanged
from mall_shared.outbox import emit

from .config import CrmConfig
from .models import TIER_LABELS, Membership, PointsEntry, next_tier, points_for, points_to_reverse, tier_for

LEDGER_SHOWN = 20


class NegativeBalance(Conflict):
    code, message = "insufficient_points", "The adjustment would take the balance below zero"


def lock_member(session: Session, customer_id: str) -> Membership:
    """The member's row (created at the first tier if new), locked: changes to one ledger happen
    one at a time."""
    return locked_row(session, Membership, customer_id=customer_id, tier="regular")


def _sum(session: Session, column, *where) -> int:
    # int(): PostgreSQL sums a bigint column as numeric (a Decimal).
    return int(session.scalar(select(func.coalesce(func.sum(column), 0)).where(*where)))


def balance(session: Session, customer_id: str) -> int:
    """The spendable points: earned − spent − held."""
    return _sum(session, PointsEntry.points, PointsEntry.customer_id == customer_id)


def held(session: Session, customer_id: str) -> int:
    """The points set aside for unpaid orders."""
    return _sum(session, PointsEntry.held, PointsEntry.customer_id == customer_id)


def earned(session: Session, customer_id: str) -> int:
    """The points earned (less what refunds and staff took back): the tier follows them."""
    return _sum(session, PointsEntry.points, PointsEntry.customer_id == customer_id, PointsEntry.kind == "earn")


def _has(session: Session, key: str) -> bool:
    return session.scalar(select(PointsEntry.id).where(PointsEntry.key == key)) is not None


def book(session: Session, member: Membership, entry: PointsEntry, config: CrmConfig,
         fact: Callable[[int], object] | None = None) -> int:
    """Write one entry into the locked member's ledger and announce it: `fact(new balance)`, the
    tier that follows the points earned (TierChanged), and for order's copy every change of the
    spendable balance or the tier (MembershipChanged, the one place it is emitted). Returns
    the new spendable balance."""
    session.add(entry)
    session.flush()
    correlation = entry.order_id or member.customer_id
    new_balance = balance(session, member.customer_id)
    if fact is not None:
        emit(session, fact(new_balance), correlation=correlation)
    tier = tier_for(earned(session, member.customer_id), config.tier_thresholds)
    if tier != member.tier:
        emit(session, TierChanged(customer_id=member.customer_id, old_tier=member.tier, new_tier=tier),
             correlation=correlation)
    if entry.points or tier != member.tier:
        member.tier, member.version = tier, (member.version or 0) + 1
        emit(session, MembershipChanged(customer_id=member.customer_id, tier=tier, balance=new_balance,
                                        version=member.version), correlation=correlation)
    member.updated_at = utcnow()
    return new_balance


def award_order_points(session: Session, customer_id: str, order_id: str, total: int,
                       config: CrmConfig) -> PointsEntry | None:
    """Points for a completed order, once per order (PointsAwarded, maybe TierChanged)."""
    member = lock_member(session, customer_id)
    key = f"award:{order_id}"
    points = points_for(total, config.points_per_yuan)
    if points <= 0 or _has(session, key):
        return None
    entry = PointsEntry(customer_id=customer_id, key=key, order_id=order_id, points=points,
                        reason="order_completed", amount=total)
    book(session, member, entry, config, lambda new_balance: PointsAwarded(
        customer_id=customer_id, order_id=order_id, points=points, balance=new_balance))
    return entry


def reverse_refund_points(session: Session, order_id: str, refund_id: str, refunded_so_far: int,
                          config: CrmConfig) -> PointsEntry | None:
    """A refund takes back the refunded share of the order's points, once per refund, never
    below a zero balance (PointsAdjusted, maybe TierChanged)."""
    award = session.scalar(select(PointsEntry).where(PointsEntry.key == f"award:{order_id}"))
    key = f"refund:{refund_id}"
    if award is None:
        return None  # the order earned nothing (not completed): nothing to take back
    member = lock_member(session, award.customer_id)
    if _has(session, key):
        return None
    reversed_so_far = -_sum(session, PointsEntry.points, PointsEntry.order_id == order_id,
                            PointsEntry.key.like("refund:%"))
    current = balance(session, award.customer_id)
    points = points_to_reverse(award.points, award.amount or 0, refunded_so_far, reversed_so_far, current)
    if points <= 0:
        return None
    entry = PointsEntry(customer_id=award.customer_id, key=key, order_id=order_id, points=-points,
                        reason="refund", amount=refunded_so_far)
    book(session, member, entry, config, lambda new_balance: PointsAdjusted(
        customer_id=award.customer_id, points=-points, balance=new_balance, reason="refund", order_id=order_id))
    return entry


def adjust_points(session: Session, customer_id: str, points: int, reason: str, by: str,
                  config: CrmConfig) -> PointsEntry:
    """Staff add or remove points with a reason; the balance never goes below zero."""
    member = lock_member(session, customer_id)
    current = balance(session, customer_id)
    if current + points < 0:
        raise NegativeBalance(details={"balance": current})
    entry = PointsEntry(customer_id=customer_id, key=f"adjust:{new_id()}", points=points, reason=reason, by=by)
    book(session, member, entry, config, lambda new_balance: PointsAdjusted(
        customer_id=customer_id, points=points, balance=new_balance, reason=reason))
    return entry


def membership_summary(session: Session, customer_id: str, config: CrmConfig) -> dict:
    """Spendable balance, points held for unpaid orders, tier, what the next tier needs (in
    points earned), and the latest ledger entries."""
    spendable, points_earned = balance(session, customer_id), earned(session, customer_id)
    tier = tier_for(points_earned, config.tier_thresholds)
    following, missing = next_tier(points_earned, config.tier_thresholds)
    ledger = session.scalars(select(PointsEntry).where(PointsEntry.customer_id == customer_id)
                             .order_by(PointsEntry.at.desc(), PointsEntry.id).limit(LEDGER_SHOWN)).all()
    member = session.get(Membership, customer_id)
    return {"points": spendable, "balance": spendable, "held": held(session, customer_id), "earned": points_earned,
            "tier": tier, "tier_label": TIER_LABELS[tier], "next_tier": following, "points_to_next": missing,
            "version": member.version if member else 0, "ledger": ledger}
