"""Every event type on the bus, once: the contract between services and outside subscribers.

Events are facts: past-tense names, ids, integer minor units, ISO-8601 times; never ORM
objects. New fields arrive as optional ones so old subscribers keep working.

They travel as CloudEvents 1.0 JSON (structured mode). pydantic validates incoming `data`
and generates each type's JSON Schema (docs/events/), so the schema and the code cannot drift.
"""
from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import TypeAdapter

from .db import new_id, utcnow

EXCHANGE = "mall.events"
CONTENT_TYPE = "application/cloudevents+json"

# The id that ties a chain of work together (the order id, else the request id). The API sets it
# from X-Request-ID; the consumer sets it from the event it is handling.
correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)

# The envelope of the event being handled (the consumer sets it), for a handler that needs its
# `time` or `id` besides the data: a read model counts a fact on the day it happened.
current_envelope: ContextVar[dict | None] = ContextVar("current_envelope", default=None)

EVENT_TYPES: dict[str, type] = {}


def event(cls):
    """Register a frozen dataclass as an event type; its class name is the routing key."""
    cls = dataclass(frozen=True)(cls)
    EVENT_TYPES[cls.__name__] = cls
    return cls


@dataclass(frozen=True)
class Line:
    sku_id: str
    quantity: int
    unit_price: int | None = None
    # The line's share of the order's discounts (promotion + coupon + points), what the customer
    # paid for it (unit_price × quantity − discount), and the points spent on it: a return or a
    # partial refund pays back exactly `paid` and gives back exactly `points` (issue 10).
    discount: int | None = None
    paid: int | None = None
    points: int | None = None


@dataclass(frozen=True)
class ProductViews:
    product_id: str
    count: int


@dataclass(frozen=True)
class Address:
    name: str
    phone: str
    province: str
    city: str
    district: str
    detail: str
    postal_code: str | None = None


# ---- catalog -------------------------------------------------------------------------------
@event
class ProductListed:
    product_id: str
    name: str
    category_id: str | None = None
    category_name: str | None = None
    sku_ids: list[str] | None = None


@event
class ProductViewed:
    """Product-page views counted by one catalog process over [period_start, period_end):
    one event per batch, never one per view."""
    period_start: str
    period_end: str
    views: list[ProductViews]


@event
class StockAdjusted:
    """Staff received goods or corrected a count (kind `received` / `adjusted`), or a return
    came back (`returned`): `stock` is the SKU's available stock after it."""
    sku_id: str
    product_id: str
    kind: str
    quantity: int
    stock: int


@event
class ProductDelisted:
    product_id: str
    reason: str  # "manual" | "out_of_stock"


@event
class StockReserved:
    order_id: str
    lines: list[Line]
    stock: dict[str, int] | None = None  # each line's SKU: its available stock after this


@event
class StockRejected:
    order_id: str
    reason: str
    sku_ids: list[str]


@event
class StockReleased:
    order_id: str
    lines: list[Line]
    stock: dict[str, int] | None = None  # each line's SKU: its available stock after this


@event
class StockDepleted:
    sku_id: str
    product_id: str
    stock: int


@event
class StockReplenished:
    sku_id: str
    product_id: str
    stock: int


@event
class SkuChanged:
    """A SKU's sellable state after a change of its price, code, attributes, listing, sold-out
    state, or its product's name or listing: the whole state, not the difference, and a
    `version` that grows with every change, so a subscriber keeps the newest and ignores a late
    or repeated one. (order keeps its checkout prices from it.)"""
    sku_id: str
    product_id: str
    product_name: str
    code: str
    price: int
    status: str  # the SKU's own: listed | delisted (sold out)
    product_status: str  # draft | listed | delisted
    sold_out: bool
    version: int
    currency: str = "CNY"
    attributes: dict[str, str] | None = None


# ---- order ---------------------------------------------------------------------------------
@event
class OrderPlaced:
    order_id: str
    customer_id: str
    lines: list[Line]
    total: int
    currency: str = "CNY"
    subtotal: int | None = None
    delivery_fee: int | None = None
    shipping_address: Address | None = None
    delivery_method_id: str | None = None
    # The pricing step's breakdown: total = subtotal − promotion_discount − coupon_discount
    # − points_discount + delivery_fee. points_used > 0: crm holds them (PointsHeld / PointsRejected).
    promotion_discount: int = 0
    coupon_discount: int = 0
    coupon_id: str | None = None
    points_used: int = 0
    points_discount: int = 0


@event
class OrderStatusChanged:
    order_id: str
    customer_id: str
    status: str
    previous_status: str | None
    at: str
    reason: str | None = None


@event
class OrderCancelled:
    order_id: str
    customer_id: str
    total: int
    reason: str
    currency: str = "CNY"


@event
class OrderCompleted:
    order_id: str
    customer_id: str
    total: int
    currency: str = "CNY"


@dataclass(frozen=True)
class _CouponFact:
    coupon_id: str  # the copy in the customer's wallet (OrderPlaced.coupon_id)
    template_id: str
    customer_id: str
    at: str
    order_id: str | None = None


@event
class CouponClaimed(_CouponFact):
    """A customer claimed a copy of a coupon template into their wallet."""


@event
class CouponUsed(_CouponFact):
    """The order that locked the coupon at checkout (OrderPlaced.coupon_id) was paid: it is spent."""


@event
class CouponReleased(_CouponFact):
    """The order that locked the coupon was cancelled (`reason` its cancel reason): it is back in the wallet."""
    reason: str | None = None


# ---- payment -------------------------------------------------------------------------------
@event
class PaymentConfirmed:
    payment_id: str
    order_id: str
    method: str
    amount: int
    currency: str = "CNY"


@event
class PaymentFailed:
    payment_id: str
    order_id: str
    method: str
    amount: int
    reason: str
    currency: str = "CNY"


@event
class RefundCompleted:
    refund_id: str
    payment_id: str
    order_id: str
    amount: int
    currency: str = "CNY"
    return_id: str | None = None  # set when the refund pays for a received return (售后)
    points: int | None = None  # a return's points (its lines' `points`), for crm to give back


# ---- crm -----------------------------------------------------------------------------------
@event
class AddressSaved:
    """A customer added or edited an address in their book: the whole address, with a version
    that grows with every change (order checks out with it by `address_id`)."""
    address_id: str
    customer_id: str
    name: str
    phone: str
    province: str
    city: str
    district: str
    detail: str
    version: int
    postal_code: str | None = None


@event
class AddressDeleted:
    """The address left the book (version: one past its last AddressSaved)."""
    address_id: str
    customer_id: str
    version: int


@event
class CustomerRegistered:
    customer_id: str
    name: str
    email: str | None = None
    mobile: str | None = None


@event
class PointsAwarded:
    customer_id: str
    order_id: str
    points: int
    balance: int


@event
class TierChanged:
    customer_id: str
    old_tier: str
    new_tier: str


@event
class PointsAdjusted:
    """Points taken back for a refund (negative, with its order) or changed by staff with a reason."""
    customer_id: str
    points: int
    balance: int
    reason: str
    order_id: str | None = None


@event
class MembershipChanged:
    """A customer's tier or spendable points changed (one event for every change, with a version
    that only grows): order keeps a copy for member prices and to refuse more points than the
    balance at checkout. crm stays the authority (PointsHeld / PointsRejected)."""
    customer_id: str
    tier: str
    balance: int  # spendable: earned − spent − held
    version: int


@event
class PointsHeld:
    """crm set aside `points` for an unpaid order (its OrderPlaced.points_used)."""
    order_id: str
    customer_id: str
    points: int
    balance: int


@event
class PointsRejected:
    """crm could not hold the points the order spends (balance too low, unknown customer):
    order cancels it with this reason."""
    order_id: str
    customer_id: str
    points: int
    reason: str


@event
class PointsReturned:
    """Spent or held points given back: the order was cancelled (all of them) or refunded in
    part (its share; a return: its lines' `points`)."""
    order_id: str
    customer_id: str
    points: int
    balance: int
    reason: str
    refund_id: str | None = None


@dataclass(frozen=True)
class _ReviewFact:
    review_id: str
    sku_id: str
    rating: int
    customer_id: str
    order_id: str | None = None
    at: str | None = None  # when the review last changed: a subscriber keeps the latest


@event
class ReviewPosted(_ReviewFact):
    """A review is visible with this rating; sent again with the same review_id when its author
    edits it, so a summary keeps the latest rating per review."""


@event
class ReviewHidden(_ReviewFact):
    """Staff hid a review: it no longer counts in the SKU's rating summary."""


# ---- logistics -----------------------------------------------------------------------------
@event
class DeliveryMethodChanged:
    """A delivery method was added or changed (fee, regions, active): its whole state, with a
    version that grows with every change (order prices checkout with it)."""
    delivery_method_id: str
    name: str
    fee: int
    active: bool
    version: int
    currency: str = "CNY"
    regions: list[str] | None = None  # provinces served; None means everywhere
    est_days_min: int | None = None
    est_days_max: int | None = None


@dataclass(frozen=True)
class _ShipmentFact:
    shipment_id: str
    order_id: str
    carrier: str
    tracking_number: str
    status: str
    at: str
    location: str | None = None
    description: str | None = None


@event
class Shipped(_ShipmentFact):
    pass


@event
class ShipmentUpdated(_ShipmentFact):
    pass


@event
class Delivered(_ShipmentFact):
    pass


@dataclass(frozen=True)
class _ReturnFact:
    """A return (售后) of some lines of a completed order, at one step of its life:
    requested → approved | refused; approved → shipped (the customer's parcel back) → received
    (payment refunds `amount`, catalog puts the units back) → refunded."""
    return_id: str
    order_id: str
    customer_id: str
    status: str
    lines: list[Line]  # sku_id, quantity, unit_price, and the returned units' share of paid and points
    amount: int  # what is refunded: the sum of the lines' `paid` (unit_price × quantity without discounts)
    at: str
    currency: str = "CNY"
    reason: str | None = None  # the customer's reason (requested) or staff's (refused)
    carrier: str | None = None  # the customer's return parcel (shipped and later)
    tracking_number: str | None = None
    points: int = 0  # the points spent on the returned units: given back with the refund


@event
class ReturnRequested(_ReturnFact):
    pass


@event
class ReturnApproved(_ReturnFact):
    pass


@event
class ReturnRefused(_ReturnFact):
    pass


@event
class ReturnShipped(_ReturnFact):
    pass


@event
class ReturnReceived(_ReturnFact):
    """Staff received the parcel: payment refunds `amount` (RefundCompleted with this return_id)
    and catalog puts the returned units back on sale."""


# ---- the envelope --------------------------------------------------------------------------
_ADAPTERS: dict[str, TypeAdapter] = {}


def _adapter(event_type: str) -> TypeAdapter:
    if event_type not in _ADAPTERS:
        _ADAPTERS[event_type] = TypeAdapter(EVENT_TYPES[event_type])
    return _ADAPTERS[event_type]


def envelope(evt: Any, source: str, correlation: str | None = None) -> dict:
    """Wrap an event in its CloudEvents 1.0 envelope."""
    event_type = type(evt).__name__
    if event_type not in EVENT_TYPES:
        raise TypeError(f"{event_type} is not a registered event type")
    data = asdict(evt)
    _adapter(event_type).validate_python(data)  # never put a malformed fact on the bus
    return {
        "specversion": "1.0",
        "id": new_id(),
        "source": f"mall/{source}",
        "type": event_type,
        "time": utcnow().isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "correlationid": correlation or getattr(evt, "order_id", None) or correlation_id.get() or new_id(),
        "data": data,
    }


class InvalidEvent(ValueError):
    """A message that is not a valid envelope of a known event type: poison, never retried."""


def parse(body: bytes | str | dict) -> tuple[dict, Any]:
    """Decode an envelope and its `data` into the typed event."""
    try:
        env = body if isinstance(body, dict) else json.loads(body)
        event_type = env["type"]
        if env.get("specversion") != "1.0" or not env.get("id"):
            raise InvalidEvent("not a CloudEvents 1.0 envelope")
        if event_type not in EVENT_TYPES:
            raise InvalidEvent(f"unknown event type {event_type!r}")
        return env, _adapter(event_type).validate_python(env["data"])
    except InvalidEvent:
        raise
    except Exception as exc:  # JSON, missing keys, pydantic's ValidationError
        raise InvalidEvent(str(exc)) from exc


def json_schema(event_type: str) -> dict:
    schema = _adapter(event_type).json_schema()
    schema["$id"] = f"https://mall.example/events/{event_type}.json"
    schema["title"] = event_type
    return schema


__all__ = ["EVENT_TYPES", "EXCHANGE", "Line", "ProductViews", "Address", "envelope", "parse", "json_schema"]
