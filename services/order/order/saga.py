"""The saga's steps as order takes them when other services' facts arrive, and the unpaid
timeout. Same conventions as services.py.

Events may arrive late, twice (with different ids), or out of order between services (a
PaymentConfirmed before the StockReserved it implies). None of that raises: a step already
taken is skipped, a step that a later fact implies is taken on its behalf, and anything else
is noted in the order's history and left alone.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mall_shared.db import utcnow

from .config import config
from .models import AWAITING_PAYMENT, CANCELLED, PENDING, SHIPPED, UNPAID, Order
from .services import SYSTEM, Actor, change_status, lock_order

log = logging.getLogger(__name__)

TIMEOUT_BATCH = 100


def _locked(session: Session, order_id: str, what: str) -> Order | None:
    order = lock_order(session, order_id, whole=False)
    if order is None:
        # Not one of ours (or a foreign test event): nothing to change, and retrying cannot help.
        log.warning("%s for unknown order %s ignored", what, order_id)
    return order


def advance_order(session: Session, order_id: str, target: str, reason: str, actor: Actor,
                  implied: dict[str, str] | None = None, ref: str | None = None) -> Order | None:
    """Move an order forward to `target` because of a fact from another service.

    `implied` names the intermediate statuses this fact proves were reached (with the reason to
    record for each): only those may be passed through on the way."""
    order = _locked(session, order_id, reason)
    if order is None or order.is_at_or_past(target):
        return order
    path = order.path_to(target)
    if not path or any(status not in (implied or {}) for status in path[:-1]):
        log.warning("order %s is %s: %s not applied", order.id, order.status, reason)
        order.note(f"{reason} while {order.status}: not applied", actor.name, ref=f"{target}:{ref or reason}")
        return order
    for status in path:
        change_status(session, order, status, reason if status == target else implied[status], actor, ref=ref)
    return order


def hold_confirmed(session: Session, order_id: str, hold: str, actor: Actor) -> Order | None:
    """catalog reserved the stock (`hold` "stock_reserved") or crm held the points ("points_held"):
    once both are held (the points only when the order spends some), in either order, it awaits
    payment, with the last hold as the reason."""
    order = _locked(session, order_id, hold)
    if order is None:
        return None
    setattr(order, hold, True)
    if not order.holds_complete:
        return order
    return advance_order(session, order_id, AWAITING_PAYMENT, hold, actor)


def reject_order(session: Session, order_id: str, reason: str, actor: Actor = Actor("catalog"),
                 what: str = "stock_rejected") -> Order | None:
    """catalog could not reserve the stock, or crm the points: the order is cancelled with the
    reason (which releases the rest of what it held). Once it is past PENDING (paid on the way)
    it is cancelled only while it still may be; after that the refusal is noted."""
    order = _locked(session, order_id, what)
    if order is None or order.status == CANCELLED:
        return order
    if order.status != PENDING and (what == "stock_rejected" or not order.can_become(CANCELLED)):
        order.note(f"{what} while {order.status}: {reason}"[:500], actor.name, ref=what)
        return order
    change_status(session, order, CANCELLED, reason[:500], actor)
    return order


def note_payment_failed(session: Session, order_id: str, payment_id: str, reason: str) -> Order | None:
    """A failed payment changes nothing: the customer may try again until the timeout."""
    order = _locked(session, order_id, "PaymentFailed")
    if order is not None:
        order.note(f"payment_failed: {reason}"[:500], "payment", ref=f"payment_failed:{payment_id}")
    return order


def note_refund(session: Session, order_id: str, refund_id: str, amount: int, currency: str) -> Order | None:
    """A refund completed (after a paid order was cancelled, or by staff): shown on the order."""
    order = _locked(session, order_id, "RefundCompleted")
    if order is not None and order.note(f"refund_completed: {amount} {currency} minor units (refund {refund_id})",
                                        "payment", ref=f"refund:{refund_id}"):
        order.refunded += amount
    return order


def confirm_payment(session: Session, order_id: str, payment_id: str, method: str, amount: int) -> Order | None:
    """Paid. payment only takes money for a reserved order, so PENDING here means StockReserved
    is still on its way: the order passes AWAITING_PAYMENT on the way to PAID."""
    # On a cancelled order (the customer or the timeout was first) this is only noted: payment
    # refunds it, having heard OrderCancelled.
    return advance_order(session, order_id, "PAID", f"payment_confirmed: {method} {amount} minor units",
                         Actor("payment"), implied={AWAITING_PAYMENT: "stock_reserved (implied by payment_confirmed)"},
                         ref=payment_id)


def deliver_order(session: Session, order_id: str, shipment_id: str) -> Order | None:
    """Signed for: the order completes. A Delivered that overtook Shipped proves the shipping."""
    return advance_order(session, order_id, "COMPLETED", "delivered", Actor("logistics"),
                         implied={SHIPPED: "shipped (implied by delivered)"}, ref=shipment_id)


def cancel_expired_orders(session: Session, now: datetime | None = None, timeout: float | None = None) -> int:
    """Cancel orders still unpaid `ORDER_PAYMENT_TIMEOUT` seconds after they were placed."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=config().payment_timeout if timeout is None else timeout)
    # SKIP LOCKED: several workers run this job; each takes different orders, none waits.
    expired = session.scalars(select(Order).where(Order.status.in_(UNPAID), Order.created_at < cutoff)
                              .order_by(Order.created_at).limit(TIMEOUT_BATCH)
                              .with_for_update(skip_locked=True)).all()
    for order in expired:
        change_status(session, order, CANCELLED, "payment_timeout", SYSTEM)
    if expired:
        log.info("cancelled %d unpaid orders", len(expired))
    return len(expired)
