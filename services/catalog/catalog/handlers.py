"""What catalog does when other services' events arrive. Each handler runs inside the
worker's transaction, with the event id already in the inbox: no acks, commits or publishing."""
from sqlalchemy.orm import Session

from mall_shared.events import OrderCancelled, OrderCompleted, OrderPlaced

from . import inventory


def on_order_placed(event: OrderPlaced, session: Session) -> None:
    inventory.reserve_stock(session, event.order_id, event.lines)


def on_order_cancelled(event: OrderCancelled, session: Session) -> None:
    inventory.release_stock(session, event.order_id)


def on_order_completed(event: OrderCompleted, session: Session) -> None:
    inventory.sell_stock(session, event.order_id)


HANDLERS = {
    "OrderPlaced": on_order_placed,
    "OrderCancelled": on_order_cancelled,
    "OrderCompleted": on_order_completed,
}
