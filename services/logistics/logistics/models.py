"""logistics' own tables and the rules that live on them.

A shipment's life is one table of allowed transitions (`TRANSITIONS`). Receipt is signed off
(`signed`, which completes the order) once, by whichever comes first: the customer's
confirmation of receipt (确认收货), the carrier reporting the parcel delivered (签收; the
`delivered` tracking update is followed at once by `signed`), or automatically when nobody has
confirmed some days after dispatch (自动确认收货, ten days by default as on Taobao). A parcel in
`exception` (lost, damaged, refused) is never confirmed automatically.

A return (售后) of some lines of a completed order has its own table of transitions
(`RETURN_TRANSITIONS`): requested → approved | refused; approved → shipped (the customer's parcel
back) → received (payment refunds, catalog restocks) → refunded.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from mall_shared.api import BadRequest, Conflict
from mall_shared.db import NAMING, UTCDateTime, bus_tables, new_id, utcnow


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime}


bus_tables(Base.metadata)

IN_TRANSIT = ("picked_up", "in_transit", "out_for_delivery", "exception")
TRACKING_STATUSES = (*IN_TRANSIT, "delivered")  # what staff and carriers may report
_MOVING = {*IN_TRANSIT, "delivered", "signed"}
TRANSITIONS: dict[str, set[str]] = {
    "awaiting_dispatch": {"shipped", "cancelled"},
    "shipped": _MOVING,
    "picked_up": _MOVING - {"picked_up"},
    "in_transit": _MOVING - {"picked_up"},
    "out_for_delivery": _MOVING - {"picked_up"},
    "exception": _MOVING - {"picked_up"},
    "delivered": {"signed"},
    "signed": set(),
    "cancelled": set(),
}
STATUSES = tuple(TRANSITIONS)
AUTO_CONFIRMABLE = ("shipped", "picked_up", "in_transit", "out_for_delivery")  # not exception
SHIPPABLE_ORDER_STATUS = "PROCESSING"


class IllegalTransition(Conflict):
    """A step a shipment's or a return's transition table does not allow (as order says it too)."""
    code = "illegal_transition"


class ReturnExceedsPurchase(BadRequest):
    status, code = 422, "return_exceeds_purchase"
    message = "A return cannot hold more of a SKU than was bought less what other returns hold"


class InvalidField(BadRequest):
    """Input that passed the schema but not a rule held in the database (or a webhook body):
    422 naming the fields, like the shared validation errors."""
    status, code = 422, "validation_error"

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__(f"Invalid input: {', '.join(sorted(fields))}", details={"fields": fields})


class Carrier(Base):
    __tablename__ = "carriers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # a slug: sf, zto, jd, ems
    name: Mapped[str] = mapped_column(String(100))
    tracking_pattern: Mapped[str] = mapped_column(String(200))
    tracking_url_template: Mapped[str] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def accepts(self, tracking_number: str) -> bool:
        """Whether a tracking number has this carrier's format (the whole number must match)."""
        return re.fullmatch(self.tracking_pattern, tracking_number) is not None

    def tracking_url(self, tracking_number: str | None) -> str | None:
        return self.tracking_url_template.replace("{tracking_number}", tracking_number) if tracking_number else None


class DeliveryMethod(Base):
    __tablename__ = "delivery_methods"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # a slug: standard, express, ...
    name: Mapped[str] = mapped_column(String(100))
    fee: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    est_days_min: Mapped[int] = mapped_column(Integer)
    est_days_max: Mapped[int] = mapped_column(Integer)
    regions: Mapped[list | None] = mapped_column(JSON)  # provinces served; null means everywhere
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=0)  # grows with every DeliveryMethodChanged

    def serves(self, province: str) -> bool:
        return self.regions is None or province in self.regions


class OrderRecord(Base):
    """What logistics knows of an order, learnt from order's events (never from its tables)."""

    __tablename__ = "orders"

    order_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(20))
    shipping_address: Mapped[dict | None] = mapped_column(JSON)
    delivery_method_id: Mapped[str | None] = mapped_column(String(32))
    lines: Mapped[list | None] = mapped_column(JSON)  # [{sku_id, quantity, unit_price, paid, points}], as placed
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    completed_at: Mapped[datetime | None]  # from OrderStatusChanged COMPLETED: opens the return window
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def check_returnable(self, now: datetime, window_seconds: float) -> None:
        """A return may be asked for a COMPLETED order, within `window_seconds` of completion (七天无理由)."""
        if self.status != "COMPLETED":
            raise Conflict("Only a completed order can be returned", code="order_not_completed",
                           details={"order_status": self.status})
        if self.completed_at is None or now > self.completed_at + timedelta(seconds=window_seconds):
            raise Conflict("The return window of this order has closed", code="return_window_closed",
                           details={"window_seconds": window_seconds})

    def return_lines(self, wanted: dict[str, int], taken: dict[str, tuple[int, int, int]]) -> list[dict]:
        """The lines of a return of `wanted` {sku_id: quantity}, at the prices the order was placed at,
        with the returned units' share of what the line paid and the points spent on it: never more
        of a SKU than was bought less what other returns (`taken`: {sku_id: (quantity, paid,
        points)}) already hold, and shares that add up to the line's exactly once all is back."""
        bought = {line["sku_id"]: line for line in self.lines or ()}
        unknown = sorted(set(wanted) - set(bought))
        if unknown:
            raise InvalidField({"lines": [f"Not in this order: {', '.join(unknown)}"]})
        before = {sku: taken.get(sku, (0, 0, 0)) for sku in wanted}
        left = {sku: bought[sku]["quantity"] - before[sku][0] for sku in wanted}
        if any(quantity > left[sku] for sku, quantity in wanted.items()):
            raise ReturnExceedsPurchase(details={"returnable": left})
        lines = []
        for sku, quantity in wanted.items():
            line, (units, paid, points) = bought[sku], before[sku]
            paid_whole, points_whole = line_paid(line), line.get("points") or 0
            lines.append(dict(sku_id=sku, quantity=quantity, unit_price=line["unit_price"],
                              paid=returned_share(paid_whole, line["quantity"], units + quantity, paid),
                              points=returned_share(points_whole, line["quantity"], units + quantity, points)))
        return lines


def line_paid(line: dict) -> int:
    """What the customer paid for an order's line: its `paid` share, or for an order placed
    before discounts were shared out, unit_price × quantity."""
    paid = line.get("paid")
    return line["unit_price"] * line["quantity"] if paid is None else paid


def returned_share(whole: int, bought: int, returned: int, given: int) -> int:
    """The part of a line's `whole` (its paid or its points, over `bought` units) that a return
    brings back when it makes `returned` units returned in all and the returns before it gave
    back `given`: cumulative, so returning every unit gives back exactly `whole`."""
    return whole * returned // bought - given


# Order statuses only move forward; a late or redelivered event never moves one back.
ORDER_STATUS_RANK = {"PENDING": 0, "AWAITING_PAYMENT": 1, "PAID": 2, "PROCESSING": 3, "SHIPPED": 4,
                     "COMPLETED": 5, "CANCELLED": 5}


def order_status_advances(current: str | None, new: str) -> bool:
    if current is None:
        return True
    return ORDER_STATUS_RANK.get(new, -1) > ORDER_STATUS_RANK.get(current, -1)


class Shipment(Base):
    __tablename__ = "shipments"
    __table_args__ = (UniqueConstraint("carrier_id", "tracking_number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(String(36), unique=True)
    customer_id: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(20), default="awaiting_dispatch", index=True)
    shipping_address: Mapped[dict | None] = mapped_column(JSON)
    delivery_method_id: Mapped[str | None] = mapped_column(String(32))
    carrier_id: Mapped[str | None] = mapped_column(ForeignKey("carriers.id"))
    tracking_number: Mapped[str | None] = mapped_column(String(40))
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None] = mapped_column(index=True)  # the carrier's "delivered"
    signed_at: Mapped[datetime | None]
    signed_by: Mapped[str | None] = mapped_column(String(16))  # customer | carrier | auto
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    carrier: Mapped[Carrier | None] = relationship(lazy="joined")
    events: Mapped[list[TrackingEvent]] = relationship(
        lazy="selectin", order_by=lambda: [TrackingEvent.at, TrackingEvent.seq], back_populates="shipment")

    def can_become(self, status: str) -> bool:
        return status in TRANSITIONS[self.status]

    def move_to(self, status: str) -> None:
        if not self.can_become(status):
            raise IllegalTransition(f"A shipment that is {self.status} cannot become {status}",
                                    details={"status": self.status, "requested": status})
        self.status = status

    def ship(self, carrier: Carrier, tracking_number: str, at: datetime) -> None:
        self.move_to("shipped")
        self.carrier, self.carrier_id, self.tracking_number, self.shipped_at = carrier, carrier.id, tracking_number, at

    def track(self, status: str, at: datetime) -> bool:
        """Apply a tracking update; False (and no change) when the machine does not allow it,
        e.g. a second "delivered" or any update after receipt was confirmed."""
        if status not in TRACKING_STATUSES or not self.can_become(status):
            return False
        self.status = status
        if status == "delivered":
            self.delivered_at = at
        return True

    def sign(self, by: str, at: datetime) -> None:
        """Confirm receipt (确认收货) once: by the customer, the carrier, or automatically."""
        if self.status == "signed":
            raise Conflict("Receipt of this shipment was already confirmed", code="already_delivered")
        if self.status == "awaiting_dispatch":
            raise Conflict("This shipment has not been shipped yet", code="not_shipped")
        if self.status == "cancelled":
            raise Conflict("This shipment was cancelled", code="shipment_cancelled")
        self.move_to("signed")
        self.signed_at, self.signed_by = at, by

    def cancel(self) -> bool:
        """Cancel a shipment not yet shipped; False when it is too late (or already cancelled)."""
        if not self.can_become("cancelled"):
            return False
        self.status = "cancelled"
        return True

    @property
    def timeline(self) -> list[TrackingEvent]:
        # Carriers may report an earlier time after a later one; the timeline reads by time.
        return sorted(self.events, key=lambda e: (e.at, e.seq or 0))

    @property
    def carrier_name(self) -> str | None:
        return self.carrier.name if self.carrier else None

    @property
    def tracking_url(self) -> str | None:
        return self.carrier.tracking_url(self.tracking_number) if self.carrier else None


class TrackingEvent(Base):
    """One line of a shipment's timeline."""

    __tablename__ = "tracking_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]
    location: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))  # staff | carrier | customer | system
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    shipment: Mapped[Shipment] = relationship(back_populates="events")


RETURN_TRANSITIONS: dict[str, set[str]] = {
    "requested": {"approved", "refused"},
    "approved": {"shipped"},
    "shipped": {"received"},
    "received": {"refunded"},
    "refused": set(),
    "refunded": set(),
}
RETURN_STATUSES = tuple(RETURN_TRANSITIONS)
OPEN_RETURN_STATUSES = tuple(s for s in RETURN_STATUSES if s != "refused")  # what holds units of an order


class Return(Base):
    """A return (售后) of some lines of a completed order, by the customer who ordered."""

    __tablename__ = "returns"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(String(36), index=True)
    customer_id: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(20), default="requested", index=True)
    reason: Mapped[str] = mapped_column(String(500))  # the customer's
    refusal_reason: Mapped[str | None] = mapped_column(String(500))  # staff's
    amount: Mapped[int] = mapped_column(BigInteger)  # Σ lines' paid: what is refunded
    points: Mapped[int] = mapped_column(BigInteger, default=0)  # Σ lines' points: given back with the refund
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    carrier_id: Mapped[str | None] = mapped_column(ForeignKey("carriers.id"))  # the parcel back
    tracking_number: Mapped[str | None] = mapped_column(String(40))
    refund_id: Mapped[str | None] = mapped_column(String(36))
    refunded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    lines: Mapped[list[ReturnLine]] = relationship(lazy="selectin", order_by=lambda: ReturnLine.sku_id)

    def move_to(self, status: str) -> None:
        if status not in RETURN_TRANSITIONS[self.status]:
            raise IllegalTransition(f"A return that is {self.status} cannot become {status}",
                                    details={"status": self.status, "requested": status})
        self.status = status


class ReturnLine(Base):
    __tablename__ = "return_lines"

    return_id: Mapped[str] = mapped_column(ForeignKey("returns.id"), primary_key=True)
    sku_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    paid: Mapped[int] = mapped_column(BigInteger)  # the returned units' share of what the line paid
    points: Mapped[int] = mapped_column(BigInteger, default=0)  # and of the points spent on it


class CarrierPush(Base):
    """Every accepted carrier push, by the carrier's own event id: a repeated push is a no-op."""

    __tablename__ = "carrier_pushes"

    carrier_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shipment_id: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(16))  # applied | ignored
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
