"""What logistics does when order's events arrive. Each handler runs inside the worker's
transaction, with the event id already in the inbox: no acks, commits or publishing."""
from dataclasses import asdict

from sqlalchemy.orm import Session

from mall_shared.events import OrderPlaced, OrderStatusChanged

from . import services


def on_order_placed(event: OrderPlaced, session: Session) -> None:
    address = asdict(event.shipping_address) if event.shipping_address else None
    services.record_order_placed(session, event.order_id, event.customer_id, address, event.delivery_method_id)


def on_order_status_changed(event: OrderStatusChanged, session: Session) -> None:
    services.record_order_status(session, event.order_id, event.customer_id, event.status)


HANDLERS = {
    "OrderPlaced": on_order_placed,
    "OrderStatusChanged": on_order_status_changed,
}
