"""Points spent on orders, as one step of the order saga: held when the order is placed
(PointsHeld, or PointsRejected), spent when it is paid, given back (PointsReturned) when it is
cancelled — all that are not back yet — or refunded: a return's own points, else the refunded
share of the total.

Every handler of an order's events first locks the order's purchase record (created by whichever
of its events arrives first), so one order's steps take turns whatever order its events arrive
in and however many workers handle them; `settle_points` then moves the order's points to where
the facts recorded so far say they belong. Ledger entries are keyed by their meaning (hold:,
spend:, return:…), and the record says how far the order got, so a repeated event changes
nothing. No Flask, no commit."""
from __future__ import annotations

from sqlalchemy.orm import Session

from mall_shared.events import PointsHeld, PointsRejected, PointsReturned
from mall_shared.outbox import emit

from . import membership, services
from .config import CrmConfig
from .models import STATUS_RANK, Account, PointsEntry, PurchaseRecord, PurchaseRefund, points_share


def settle_points(session: Session, record: PurchaseRecord, config: CrmConfig) -> None:
    """Hold, spend or give back the points of the order (its record locked) as its status and
    refunds now say; nothing for an order without points or before its OrderPlaced."""
    if record.points_used <= 0:
        return
    cancelled = record.status == "CANCELLED"
    if record.points_state is None:
        if cancelled:  # cancelled before crm saw it placed: never hold
            record.points_state = "void"
            return
        _hold(session, record, config)
    if record.points_state == "held" and not cancelled and STATUS_RANK[record.status] >= STATUS_RANK["PAID"]:
        _spend(session, record, config)
    if record.points_state == "spent":
        refunds = services.refunds_of(session, record.order_id)
        refunded = sum(refund.amount for refund in refunds if refund.points_returned is not None)
        for refund in refunds:
            if refund.points_returned is None:
                refunded += refund.amount
                _refund(session, record, refund, refunded, config)
    if cancelled and record.points_state in ("held", "spent"):  # a paid order cancelled is refunded in full
        _give_back(session, record, record.points_used - record.points_returned, f"return:cancel:{record.order_id}",
                   "order_cancelled", config)
        record.points_state = "returned"


def _hold(session: Session, record: PurchaseRecord, config: CrmConfig) -> None:
    points, customer_id = record.points_used, record.customer_id
    if session.get(Account, customer_id) is None:
        return _reject(session, record, "unknown_customer")
    member = membership.lock_member(session, customer_id)
    if membership.balance(session, customer_id) < points:
        return _reject(session, record, "insufficient_points")
    entry = PointsEntry(customer_id=customer_id, key=f"hold:{record.order_id}", order_id=record.order_id,
                        kind="hold", points=-points, held=points, reason="order_placed", amount=record.total)
    membership.book(session, member, entry, config, lambda balance: PointsHeld(
        order_id=record.order_id, customer_id=customer_id, points=points, balance=balance))
    record.points_state = "held"


def _reject(session: Session, record: PurchaseRecord, reason: str) -> None:
    emit(session, PointsRejected(order_id=record.order_id, customer_id=record.customer_id,
                                 points=record.points_used, reason=reason))
    record.points_state = "rejected"


def _spend(session: Session, record: PurchaseRecord, config: CrmConfig) -> None:
    """The order is paid: what it holds is spent (the spendable balance does not change)."""
    member = membership.lock_member(session, record.customer_id)
    entry = PointsEntry(customer_id=record.customer_id, key=f"spend:{record.order_id}", order_id=record.order_id,
                        kind="spend", points=0, held=-record.points_used, reason="order_paid", amount=record.total)
    membership.book(session, member, entry, config)
    record.points_state = "spent"


def _refund(session: Session, record: PurchaseRecord, refund: PurchaseRefund, refunded: int,
            config: CrmConfig) -> None:
    """A refund of the paid order gives back a return's own points, else the share of the total
    `refunded` so far less what is back already (cumulative: a full refund gives back all)."""
    if refund.return_id is not None:
        points = refund.points or 0
    else:
        points = points_share(record.points_used, record.total, refunded) - record.points_returned
    refund.points_returned = _give_back(session, record, points, f"return:refund:{refund.refund_id}", "refund",
                                        config, refund.refund_id)


def _give_back(session: Session, record: PurchaseRecord, points: int, key: str, reason: str, config: CrmConfig,
               refund_id: str | None = None) -> int:
    """Give back up to `points` of the order's, never more than it took less what is back
    already; from the hold if it is not spent yet. Returns how many."""
    points = max(0, min(points, record.points_used - record.points_returned))
    if points == 0:
        return 0
    member = membership.lock_member(session, record.customer_id)
    from_hold = record.points_state == "held"
    entry = PointsEntry(customer_id=record.customer_id, key=key, order_id=record.order_id, kind="return",
                        points=points, held=-points if from_hold else 0, reason=reason, amount=record.total)
    membership.book(session, member, entry, config, lambda balance: PointsReturned(
        order_id=record.order_id, customer_id=record.customer_id, points=points, balance=balance, reason=reason,
        refund_id=refund_id))
    record.points_returned += points
    return points
