"""What crm does when order's and payment's events arrive: the purchase history read model,
membership points, and the points an order spends (redemption.py), settled after each of the
order's events with its history row locked. Each handler runs inside the worker's transaction,
with the event id already in the inbox; every effect is also keyed by its meaning (order,
refund), so a different event saying the same thing changes nothing."""
from dataclasses import asdict

from sqlalchemy.orm import Session

from mall_shared.db import utcnow
from mall_shared.events import OrderCancelled, OrderCompleted, OrderPlaced, OrderStatusChanged, RefundCompleted

from . import membership, redemption, services
from .config import config


def on_order_placed(event: OrderPlaced, session: Session) -> None:
    lines = [asdict(line) for line in event.lines]
    record = services.record_order_placed(session, event.order_id, event.customer_id, event.total, event.currency,
                                          lines, utcnow(), event.points_used)
    redemption.settle_points(session, record, config())


def on_order_status_changed(event: OrderStatusChanged, session: Session) -> None:
    record = services.record_order_status(session, event.order_id, event.customer_id, event.status, event.reason)
    redemption.settle_points(session, record, config())


def on_order_completed(event: OrderCompleted, session: Session) -> None:
    record = services.record_order_status(session, event.order_id, event.customer_id, "COMPLETED",
                                          total=event.total)
    redemption.settle_points(session, record, config())
    if membership.award_order_points(session, event.customer_id, event.order_id, event.total, config()):
        # Payment's refund may have been handled before order's completion reached us.
        refunded = 0
        for refund in services.refunds_of(session, event.order_id):
            refunded += refund.amount
            membership.reverse_refund_points(session, event.order_id, refund.refund_id, refunded, config())


def on_order_cancelled(event: OrderCancelled, session: Session) -> None:
    record = services.record_order_status(session, event.order_id, event.customer_id, "CANCELLED", event.reason,
                                          total=event.total)
    redemption.settle_points(session, record, config())


def on_refund_completed(event: RefundCompleted, session: Session) -> None:
    if not services.record_refund(session, event.refund_id, event.order_id, event.amount, event.return_id,
                                  event.points):
        return
    record = services.locked_record(session, event.order_id)
    if record is not None:  # else its OrderPlaced settles the refund's points when it comes
        redemption.settle_points(session, record, config())
    membership.reverse_refund_points(session, event.order_id, event.refund_id,
                                     services.refunded_total(session, event.order_id), config())


HANDLERS = {
    "OrderPlaced": on_order_placed,
    "OrderStatusChanged": on_order_status_changed,
    "OrderCompleted": on_order_completed,
    "OrderCancelled": on_order_cancelled,
    "RefundCompleted": on_refund_completed,
}
