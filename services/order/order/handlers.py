"""What order does when other services' facts arrive. Each handler runs inside the worker's
transaction, with the event id already in the inbox: no acks, commits or publishing. Every
step is also safe against a different event with the same meaning (see saga.py)."""
from sqlalchemy.orm import Session

from mall_shared.events import (
    AddressDeleted,
    AddressSaved,
    Delivered,
    DeliveryMethodChanged,
    MembershipChanged,
    PaymentConfirmed,
    PaymentFailed,
    PointsHeld,
    PointsRejected,
    ProductListed,
    RefundCompleted,
    Shipped,
    SkuChanged,
    StockRejected,
    StockReserved,
)

from . import readmodels, saga
from .models import SHIPPED
from .services import Actor


def on_stock_reserved(event: StockReserved, session: Session) -> None:
    saga.hold_confirmed(session, event.order_id, "stock_reserved", Actor("catalog"))


def on_points_held(event: PointsHeld, session: Session) -> None:
    saga.hold_confirmed(session, event.order_id, "points_held", Actor("crm"))


def on_points_rejected(event: PointsRejected, session: Session) -> None:
    saga.reject_order(session, event.order_id, f"points_rejected: {event.reason}", Actor("crm"), "points_rejected")


def on_stock_rejected(event: StockRejected, session: Session) -> None:
    saga.reject_order(session, event.order_id, event.reason)


def on_payment_confirmed(event: PaymentConfirmed, session: Session) -> None:
    saga.confirm_payment(session, event.order_id, event.payment_id, event.method, event.amount)


def on_payment_failed(event: PaymentFailed, session: Session) -> None:
    saga.note_payment_failed(session, event.order_id, event.payment_id, event.reason)


def on_shipped(event: Shipped, session: Session) -> None:
    saga.advance_order(session, event.order_id, SHIPPED, f"shipped: {event.carrier} {event.tracking_number}"[:500],
                       Actor("logistics"), ref=event.shipment_id)


def on_delivered(event: Delivered, session: Session) -> None:
    saga.deliver_order(session, event.order_id, event.shipment_id)


def on_refund_completed(event: RefundCompleted, session: Session) -> None:
    saga.note_refund(session, event.order_id, event.refund_id, event.amount, event.currency)


def on_sku_changed(event: SkuChanged, session: Session) -> None:
    readmodels.apply_sku(session, event)


def on_delivery_method_changed(event: DeliveryMethodChanged, session: Session) -> None:
    readmodels.apply_delivery_method(session, event)


def on_address_saved(event: AddressSaved, session: Session) -> None:
    readmodels.apply_address(session, event)


def on_membership_changed(event: MembershipChanged, session: Session) -> None:
    readmodels.apply_membership(session, event)


def on_product_listed(event: ProductListed, session: Session) -> None:
    readmodels.apply_product_category(session, event)


def on_address_deleted(event: AddressDeleted, session: Session) -> None:
    readmodels.apply_address_deleted(session, event)


HANDLERS = {
    "StockReserved": on_stock_reserved,
    "StockRejected": on_stock_rejected,
    "PointsHeld": on_points_held,
    "PointsRejected": on_points_rejected,
    "PaymentConfirmed": on_payment_confirmed,
    "PaymentFailed": on_payment_failed,
    "Shipped": on_shipped,
    "Delivered": on_delivered,
    "RefundCompleted": on_refund_completed,
    # the read models checkout prices from
    "SkuChanged": on_sku_changed,
    "DeliveryMethodChanged": on_delivery_method_changed,
    "AddressSaved": on_address_saved,
    "AddressDeleted": on_address_deleted,
    "MembershipChanged": on_membership_changed,
    "ProductListed": on_product_listed,
}
