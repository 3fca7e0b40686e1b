"""Membership use cases: points earned on completed orders, reversed on refunds, adjusted by
staff; the tier follows the balance both ways (TierChanged). No Flask, no commit."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mall_shared.api import Conflict
from mall_shared.db import new_id, utcnow
from mall_shared.events import PointsAdjusted, PointsAwarded, TierChanged
from mall_shared.outbox import emit

from .config import CrmConfig
from .models import TIER_LABELS, Membership, PointsEntry, next_tier, points_for, points_to_reverse, tier_for

LEDGER_SHOWN = 20


class NegativeBalance(Conflict):
    code, message = "insufficient_points", "The adjustment would take the balance below zero"


def _member(session: Session, customer_id: str) -> Membership:
    """The member's row, locked: changes to one ledger happen one at a time."""
    member = session.get(Membership, customer_id, with_for_update=True)
    if member is None:
        try:
            with session.begin_nested():
                session.add(Membership(customer_id=customer_id, tier="regular"))
        except IntegrityError:
            pass  # created by a concurrent handler; lock theirs
        member = session.get(Membership, customer_id, with_for_update=True, populate_existing=True)
    return member


def balance(session: Session, customer_id: str) -> int:
    # int(): PostgreSQL sums a bigint column as numeric (a Decimal).
    return int(session.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0))
                              .where(PointsEntry.customer_id == customer_id)))


def _has(session: Session, key: str) -> bool:
    return session.scalar(select(PointsEntry.id).where(PointsEntry.key == key)) is not None


def _retier(session: Session, member: Membership, points: int, config: CrmConfig, correlation: str) -> None:
    new = tier_for(points, config.tier_thresholds)
    if new != member.tier:
        emit(session, TierChanged(customer_id=member.customer_id, old_tier=member.tier, new_tier=new),
             correlation=correlation)
        member.tier = new
    member.updated_at = utcnow()


def award_order_points(session: Session, customer_id: str, order_id: str, total: int,
                       config: CrmConfig) -> PointsEntry | None:
    """Points for a completed order, once per order (PointsAwarded, maybe TierChanged)."""
    member = _member(session, customer_id)
    key = f"award:{order_id}"
    points = points_for(total, config.points_per_yuan)
    if points <= 0 or _has(session, key):
        return None
    entry = PointsEntry(customer_id=customer_id, key=key, order_id=order_id, points=points,
                        reason="order_completed", amount=total)
    session.add(entry)
    session.flush()
    new_balance = balance(session, customer_id)
    emit(session, PointsAwarded(customer_id=customer_id, order_id=order_id, points=points, balance=new_balance))
    _retier(session, member, new_balance, config, order_id)
    return entry


def reverse_refund_points(session: Session, order_id: str, refund_id: str, refunded_so_far: int,
                          config: CrmConfig) -> PointsEntry | None:
    """A refund takes back the refunded share of the order's points, once per refund, never
    below a zero balance (PointsAdjusted, maybe TierChanged)."""
    award = session.scalar(select(PointsEntry).where(PointsEntry.key == f"award:{order_id}"))
    key = f"refund:{refund_id}"
    if award is None:
        return None  # the order earned nothing (not completed): nothing to take back
    member = _member(session, award.customer_id)
    if _has(session, key):
        return None
    reversed_so_far = -int(session.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
        PointsEntry.order_id == order_id, PointsEntry.key.like("refund:%"))))
    current = balance(session, award.customer_id)
    points = points_to_reverse(award.points, award.amount or 0, refunded_so_far, reversed_so_far, current)
    if points <= 0:
        return None
    entry = PointsEntry(customer_id=award.customer_id, key=key, order_id=order_id, points=-points,
                        reason="refund", amount=refunded_so_far)
    session.add(entry)
    session.flush()
    emit(session, PointsAdjusted(customer_id=award.customer_id, points=-points, balance=current - points,
                                 reason="refund", order_id=order_id), correlation=order_id)
    _retier(session, member, current - points, config, order_id)
    return entry


def adjust_points(session: Session, customer_id: str, points: int, reason: str, by: str,
                  config: CrmConfig) -> PointsEntry:
    """Staff add or remove points with a reason; the balance never goes below zero."""
    member = _member(session, customer_id)
    current = balance(session, customer_id)
    if current + points < 0:
        raise NegativeBalance(details={"balance": current})
    entry = PointsEntry(customer_id=customer_id, key=f"adjust:{new_id()}", points=points, reason=reason, by=by)
    session.add(entry)
    session.flush()
    emit(session, PointsAdjusted(customer_id=customer_id, points=points, balance=current + points, reason=reason),
         correlation=customer_id)
    _retier(session, member, current + points, config, customer_id)
    return entry


def membership_summary(session: Session, customer_id: str, config: CrmConfig) -> dict:
    """Balance, tier, what the next tier needs, and the latest ledger entries."""
    points = balance(session, customer_id)
    tier = tier_for(points, config.tier_thresholds)
    following, missing = next_tier(points, config.tier_thresholds)
    ledger = session.scalars(select(PointsEntry).where(PointsEntry.customer_id == customer_id)
                             .order_by(PointsEntry.at.desc(), PointsEntry.id).limit(LEDGER_SHOWN)).all()
    return {"points": points, "tier": tier, "tier_label": TIER_LABELS[tier], "next_tier": following,
            "points_to_next": missing, "ledger": ledger}
