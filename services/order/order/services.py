"""order's use cases: `verb_noun(session, ...)`, no Flask, no broker, no commit — the caller
owns the transaction, so each transition and the events it emits commit together.

The event-driven ones (the saga's steps and the unpaid timeout) are in saga.py."""
from __future__ import annotations

from dataclasses import dataclass, fields

from marshmallow import ValidationError
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, lazyload

from mall_shared.api import BadRequest, Conflict, NotFound
from mall_shared.auth import Identity
from mall_shared.db import iso, utcnow
from mall_shared.events import (
    Address,
    Line,
    OrderCancelled,
    OrderCompleted,
    OrderPlaced,
    OrderStatusChanged,
)
from mall_shared.outbox import emit

from . import campaigns, coupons, readmodels
from .limits import check_unpaid_limits
from .models import CANCELLED, COMPLETED, PAID, PENDING, PROCESSING, CatalogSku, DeliveryOption, Order, OrderHistory
from .quote import quote
from .schemas import AddressSchema

CURRENCY = "CNY"


class OrderNotFound(NotFound):
    code, message = "order_not_found", "Order not found"


class InvalidField(BadRequest):
    """Input that passed the schema but not a rule another service holds: 422 naming the
    fields, like the shared validation errors."""
    status, code = 422, "validation_error"

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__(f"Invalid input: {', '.join(sorted(fields))}", details={"fields": fields})


@dataclass(frozen=True)
class Actor:
    """Who caused a transition, as the history shows it."""
    name: str

    @classmethod
    def of(cls, identity: Identity) -> Actor:
        return cls(f"{'staff' if identity.is_staff else 'customer'}:{identity.id}")


SYSTEM = Actor("system")


def change_status(session: Session, order: Order, target: str, reason: str | None, actor: Actor,
                  ref: str | None = None) -> None:
    """The one way an order's status changes: the transition, its history row and its events."""
    previous = order.status
    entry = order.transition(target, reason, actor.name)
    entry.ref = ref
    emit(session, OrderStatusChanged(order_id=order.id, customer_id=order.customer_id, status=target,
                                     previous_status=previous, at=iso(entry.at), reason=reason))
    if target == PAID and order.coupon_id:
        coupons.use_coupon(session, order.id, entry.at)
    elif target == CANCELLED:
        if order.coupon_id:
            coupons.release_coupon(session, order.id, entry.at, reason)
        campaigns.release_flash_units(session, order.id, order.customer_id)
        emit(session, OrderCancelled(order_id=order.id, customer_id=order.customer_id, total=order.total,
                                     reason=reason or "cancelled", currency=order.currency))
    elif target == COMPLETED:
        emit(session, OrderCompleted(order_id=order.id, customer_id=order.customer_id, total=order.total,
                                     currency=order.currency))


def lock_order(session: Session, order_id: str, whole: bool = True) -> Order | None:
    """The order, locked: two workers (or a worker and a request) acting on one order at once
    are serialized. `whole=False` leaves its lines and history unread (the saga's steps need
    neither; a response does)."""
    options = [] if whole else [lazyload(Order.lines), lazyload(Order.history)]
    return session.get(Order, order_id, with_for_update=True, options=options)


# ---- checkout --------------------------------------------------------------------------------
def check_delivery(method: DeliveryOption | None, method_id: str, province: str | None) -> None:
    """A delivery method that exists, is offered, and serves the province (when one is given)."""
    if method is None:
        raise InvalidField({"delivery_method_id": [f"Unknown delivery method {method_id!r}"]})
    if not method.active:
        raise InvalidField({"delivery_method_id": [f"Delivery method {method_id!r} is not available"]})
    if province is not None and not method.serves(province):
        raise InvalidField({"delivery_method_id": [f"Delivery method {method_id!r} does not deliver to {province}"]})


def _check_skus(items: list[dict], skus: dict[str, CatalogSku]) -> None:
    """Refuse at once what cannot be sold: unknown, sold out, off sale. Whether there is enough
    stock is catalog's to decide when it reserves (StockReserved or StockRejected)."""
    def why(sku_id: str) -> str:
        sku = skus.get(sku_id)
        if sku is None:
            return f"SKU {sku_id} does not exist"
        if sku.sold_out:
            return f"{sku.product_name} {sku.code} is sold out"
        return f"{sku.product_name} {sku.code} is not on sale"

    def sellable(sku: CatalogSku | None) -> bool:
        return sku is not None and sku.sellable and sku.currency == CURRENCY

    unavailable = [i["sku_id"] for i in items if not sellable(skus.get(i["sku_id"]))]
    if unavailable:
        raise Conflict("Cannot be ordered: " + "; ".join(why(s) for s in unavailable), code="sku_unavailable",
                       details={"sku_ids": unavailable})


def saved_address(session: Session, customer_id: str, address_id: str, authorization: str) -> dict:
    """A copy of one of the customer's saved addresses for the order to keep (later edits in crm
    do not change it), held to the same rules as an address typed at checkout."""
    saved = readmodels.address(session, customer_id, address_id, authorization)
    if saved is None:
        raise InvalidField({"address_id": [f"No address {address_id!r} in your address book"]})
    try:
        return AddressSchema().load({f.name: saved.get(f.name) for f in fields(Address)})
    except ValidationError as exc:
        raise InvalidField({"address_id": [f"The saved address cannot be shipped to: {name}: {' '.join(problems)}"
                                           for name, problems in exc.messages.items()]}) from exc


def place_order(session: Session, customer_id: str, items: list[dict], delivery_method_id: str,
                shipping_address: dict | None = None, address_id: str | None = None,
                authorization: str = "", coupon_id: str | None = None, points: int = 0) -> Order:
    """Price an order from order's copies of catalog's prices and logistics' fees, its campaigns,
    one coupon and the points spent (the pricing step), and place it PENDING. Nothing here calls
    another service unless a copy has not arrived yet."""
    # What sold out is refused first: in a flash sale that is most requests, and the cheapest answer.
    skus = readmodels.skus(session, [i["sku_id"] for i in items])
    _check_skus(items, skus)
    address = shipping_address or saved_address(session, customer_id, address_id, authorization)
    method = readmodels.delivery_method(session, delivery_method_id)
    check_delivery(method, delivery_method_id, address["province"])

    check_unpaid_limits(session, customer_id, items)
    now = utcnow()
    priced = quote(session, customer_id, items, skus, now, authorization, method.fee, coupon_id, points)
    campaigns.check_shown_prices(items, priced.flash)
    order = Order(customer_id=customer_id, status=PENDING, currency=CURRENCY, shipping_address=address,
                  delivery_method_id=delivery_method_id, delivery_method_name=method.name,
                  coupon_id=coupon_id, stock_reserved=False, points_held=False)
    for line in priced.breakdown.lines:
        sku, sale = skus[line.sku_id], priced.flash.get(line.sku_id)
        order.add_line(line, sku_code=sku.code, product_id=sku.product_id, product_name=sku.product_name,
                       attributes=sku.attributes or {}, campaign_id=sale.id if sale else None)
    order.price(priced.breakdown)
    order.created_at = order.updated_at = now
    order.history.append(OrderHistory(kind="status", status=PENDING, previous_status=None, at=order.created_at,
                                      reason="placed", actor=f"customer:{customer_id}"))
    session.add(order)
    session.flush()
    for line in order.lines:
        if line.campaign_id:
            campaigns.hold_flash_units(session, customer_id, priced.flash[line.sku_id], line.quantity)
    if coupon_id:
        coupons.lock_coupon(session, coupon_id, order.id)
    emit(session, OrderPlaced(
        order_id=order.id, customer_id=customer_id, total=order.total, currency=order.currency,
        lines=[Line(sku_id=ln.sku_id, quantity=ln.quantity, unit_price=ln.unit_price, discount=ln.discount,
                    paid=ln.paid, points=ln.points) for ln in order.lines],
        subtotal=order.subtotal, delivery_fee=order.delivery_fee, shipping_address=Address(**address),
        delivery_method_id=delivery_method_id, promotion_discount=order.promotion_discount,
        coupon_discount=order.coupon_discount, coupon_id=coupon_id, points_used=order.points_used,
        points_discount=order.points_discount))
    return order


# ---- reading ---------------------------------------------------------------------------------
def get_order(session: Session, order_id: str, identity: Identity) -> Order:
    """An order, for its customer or staff; to anyone else it does not exist."""
    order = session.get(Order, order_id)
    if order is None or (order.customer_id != identity.id and not identity.is_staff):
        raise OrderNotFound()
    return order


def list_orders(identity: Identity, args: dict) -> Select:
    """Customers see their own orders; staff see all, filtered by customer, status and date."""
    stmt = select(Order)
    if not identity.is_staff:
        stmt = stmt.where(Order.customer_id == identity.id)
    elif args.get("customer_id"):
        stmt = stmt.where(Order.customer_id == args["customer_id"])
    if args.get("status"):
        stmt = stmt.where(Order.status == args["status"])
    if args.get("created_from"):
        stmt = stmt.where(Order.created_at >= args["created_from"])
    if args.get("created_to"):
        stmt = stmt.where(Order.created_at < args["created_to"])
    return stmt.order_by(Order.created_at.desc(), Order.id)


# ---- staff and customer actions --------------------------------------------------------------
def _own_locked(session: Session, order_id: str, identity: Identity) -> Order:
    order = lock_order(session, order_id)
    if order is None or (order.customer_id != identity.id and not identity.is_staff):
        raise OrderNotFound()
    return order


def process_order(session: Session, order_id: str, identity: Identity) -> Order:
    """Staff start picking and packing a paid order (PAID → PROCESSING)."""
    order = _own_locked(session, order_id, identity)
    change_status(session, order, PROCESSING, "processing", Actor.of(identity))
    return order


def cancel_order(session: Session, order_id: str, identity: Identity, reason: str | None = None) -> Order:
    """Cancel until staff process it (PROCESSING), by its customer or staff: catalog releases the stock and
    payment refunds a paid order when they hear OrderCancelled."""
    order = _own_locked(session, order_id, identity)
    who = "staff" if identity.is_staff else "customer"
    change_status(session, order, CANCELLED, reason or f"cancelled_by_{who}", Actor.of(identity))
    return order
