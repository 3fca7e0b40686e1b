"""reports learns everything from the bus, like any outside subscriber: one handler per event
type it counts, all listed in HANDLERS at the bottom."""
from sqlalchemy.orm import Session

from mall_shared.events import (
    CustomerRegistered,
    Delivered,
    OrderPlaced,
    OrderStatusChanged,
    PaymentConfirmed,
    PaymentFailed,
    ProductListed,
    ProductViewed,
    RefundCompleted,
    ReturnReceived,
    Shipped,
    SkuChanged,
    StockAdjusted,
    StockDepleted,
    StockReleased,
    StockReplenished,
    StockReserved,
    TierChanged,
)

from . import services
from .services import event_time, parse_time


def on_order_placed(event: OrderPlaced, session: Session) -> None:
    services.record_order_placed(session, event.order_id, event.customer_id, event.total, event.lines, event_time())


def on_order_status_changed(event: OrderStatusChanged, session: Session) -> None:
    services.record_status(session, event.order_id, event.customer_id, event.status, parse_time(event.at),
                           event.reason)


def on_payment_confirmed(event: PaymentConfirmed, session: Session) -> None:
    services.record_payment(session, event.payment_id, event.order_id, event.method, event.amount, event_time())


def on_payment_failed(event: PaymentFailed, session: Session) -> None:
    services.record_payment_failed(session, event.method, event_time())


def on_refund_completed(event: RefundCompleted, session: Session) -> None:
    services.record_refund(session, event.refund_id, event.order_id, event.amount, event_time())


def on_return_received(event: ReturnReceived, session: Session) -> None:
    services.record_return_received(session, parse_time(event.at))


def on_shipped(event: Shipped, session: Session) -> None:
    services.record_shipment(session, event.shipment_id, event.carrier, parse_time(event.at), delivered=False)


def on_delivered(event: Delivered, session: Session) -> None:
    services.record_shipment(session, event.shipment_id, event.carrier, parse_time(event.at), delivered=True)


def on_customer_registered(event: CustomerRegistered, session: Session) -> None:
    services.record_registration(session, event.customer_id, event_time())


def on_tier_changed(event: TierChanged, session: Session) -> None:
    services.record_tier(session, event.customer_id, event.new_tier, event_time())


def on_product_listed(event: ProductListed, session: Session) -> None:
    services.record_product(session, event.product_id, event.name, event.category_id, event.category_name,
                            event.sku_ids, event_time())


def on_sku_changed(event: SkuChanged, session: Session) -> None:
    services.record_sku(session, event.sku_id, event.product_id, event.product_name, event_time())


def on_product_viewed(event: ProductViewed, session: Session) -> None:
    services.record_views(session, parse_time(event.period_start), event.views)


def on_stock_level(event: StockDepleted | StockReplenished | StockAdjusted, session: Session) -> None:
    services.record_stock(session, event.sku_id, event.stock, event_time(), event.product_id)


def on_stock_moved(event: StockReserved | StockReleased, session: Session) -> None:
    for sku_id, stock in sorted((event.stock or {}).items()):
        services.record_stock(session, sku_id, stock, event_time())


HANDLERS = {
    "OrderPlaced": on_order_placed,
    "OrderStatusChanged": on_order_status_changed,
    "PaymentConfirmed": on_payment_confirmed,
    "PaymentFailed": on_payment_failed,
    "RefundCompleted": on_refund_completed,
    "ReturnReceived": on_return_received,
    "Shipped": on_shipped,
    "Delivered": on_delivered,
    "CustomerRegistered": on_customer_registered,
    "TierChanged": on_tier_changed,
    "ProductListed": on_product_listed,
    "SkuChanged": on_sku_changed,
    "ProductViewed": on_product_viewed,
    "StockDepleted": on_stock_level,
    "StockReplenished": on_stock_level,
    "StockAdjusted": on_stock_level,
    "StockReserved": on_stock_moved,
    "StockReleased": on_stock_moved,
}
