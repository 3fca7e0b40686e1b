"""What logistics does when other services' events arrive. Each handler runs inside the worker's
transaction, with the event id already in the inbox: no acks, commits or publishing."""
from dataclasses import asdict
from datetime import datetime

from sqlalchemy.orm import Session

from mall_shared.events import OrderPlaced, OrderStatusChanged, RefundCompleted

from . import services


def on_order_placed(event: OrderPlaced, session: Session) -> None:
    address = asdict(event.shipping_address) if event.shipping_address else None
    services.record_order_placed(session, event.order_id, event.customer_id, address, event.delivery_method_id,
                                 [asdict(line) for line in event.lines], event.currency)


def on_order_status_changed(event: OrderStatusChanged, session: Session) -> None:
    services.record_order_status(session, event.order_id, event.customer_id, event.status,
                                 datetime.fromisoformat(event.at))


def on_refund_completed(event: RefundCompleted, session: Session) -> None:
    if event.return_id:  # a refund for a return (售后); others are none of logistics' business
        services.record_return_refund(session, event.return_id, event.refund_id)


HANDLERS = {
    "OrderPlaced": on_order_placed,
    "OrderStatusChanged": on_order_status_changed,
    "RefundCompleted": on_refund_completed,
}
