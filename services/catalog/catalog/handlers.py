"""What catalog does when other services' events arrive. Each handler runs inside the
worker's transaction, with the event id already in the inbox: no acks, commits or publishing."""
from sqlalchemy.orm import Session

from mall_shared.events import OrderCancelled, OrderCompleted, OrderPlaced, ReturnReceived, ReviewHidden, ReviewPosted

from . import inventory, services


def on_order_placed(event: OrderPlaced, session: Session) -> None:
    inventory.reserve_stock(session, event.order_id, event.lines)


def on_order_cancelled(event: OrderCancelled, session: Session) -> None:
    inventory.release_stock(session, event.order_id)


def on_order_completed(event: OrderCompleted, session: Session) -> None:
    inventory.sell_stock(session, event.order_id)


def on_return_received(event: ReturnReceived, session: Session) -> None:
    inventory.return_stock(session, event.order_id, event.return_id, event.lines)


def on_review_posted(event: ReviewPosted, session: Session) -> None:
    services.record_rating(session, event.review_id, event.sku_id, event.rating, event.at)


def on_review_hidden(event: ReviewHidden, session: Session) -> None:
    services.record_rating(session, event.review_id, event.sku_id, event.rating, event.at, hidden=True)


HANDLERS = {
    "OrderPlaced": on_order_placed,
    "OrderCancelled": on_order_cancelled,
    "OrderCompleted": on_order_completed,
    "ReturnReceived": on_return_received,
    "ReviewPosted": on_review_posted,
    "ReviewHidden": on_review_hidden,
}
