"""What payment does when other services' events arrive. Each handler runs inside the
worker's transaction, with the event id already in the inbox: no acks, commits or publishing.
Every effect is safe to repeat (a second event with the same meaning changes nothing). A refund
is only recorded here; the worker asks the provider after the commit (refunds.py)."""
from sqlalchemy.orm import Session

from mall_shared.events import OrderCancelled, OrderPlaced, ReturnReceived, StockReserved

from . import refunds, services


def on_order_placed(event: OrderPlaced, session: Session) -> None:
    services.record_order_placed(session, event.order_id, event.customer_id, event.total, event.currency)


def on_stock_reserved(event: StockReserved, session: Session) -> None:
    services.mark_order_payable(session, event.order_id)


def on_order_cancelled(event: OrderCancelled, session: Session) -> None:
    services.cancel_order(session, event.order_id, event.reason)


def on_return_received(event: ReturnReceived, session: Session) -> None:
    refunds.refund_return(session, event.order_id, event.return_id, event.amount, event.points)


HANDLERS = {
    "OrderPlaced": on_order_placed,
    "StockReserved": on_stock_reserved,
    "OrderCancelled": on_order_cancelled,
    "ReturnReceived": on_return_received,
}
