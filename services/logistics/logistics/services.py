"""logistics' use cases: `verb_noun(session, ...)`, no Flask, no broker, no commit — the caller
owns the transaction, so each state change and the events it emits commit together.

Every change to a shipment locks its row first (FOR UPDATE), so a customer's sign-off, a
carrier's push and the auto-confirm job arriving together are applied one after the other,
and the transition table lets only the first "delivered" / "signed" through.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from mall_shared.api import Conflict, Forbidden, NotFound
from mall_shared.auth import Identity
from mall_shared.db import utcnow
from mall_shared.events import (
    Delivered,
    DeliveryMethodChanged,
    Line,
    ReturnApproved,
    ReturnReceived,
    ReturnRefused,
    ReturnRequested,
    ReturnShipped,
    ShipmentUpdated,
    Shipped,
)
from mall_shared.outbox import emit

from .models import (
    AUTO_CONFIRMABLE,
    OPEN_RETURN_STATUSES,
    SHIPPABLE_ORDER_STATUS,
    Carrier,
    CarrierPush,
    DeliveryMethod,
    IllegalTransition,
    InvalidField,
    OrderRecord,
    Return,
    ReturnLine,
    Shipment,
    TrackingEvent,
    order_status_advances,
)

log = logging.getLogger(__name__)


class CarrierNotFound(NotFound):
    code, message = "carrier_not_found", "Carrier not found"


class DeliveryMethodNotFound(NotFound):
    code, message = "delivery_method_not_found", "Delivery method not found"


class ShipmentNotFound(NotFound):
    code, message = "shipment_not_found", "Shipment not found"


class ReturnNotFound(NotFound):
    code, message = "return_not_found", "Return not found"


class OrderNotFound(NotFound):
    code, message = "order_not_found", "Order not found"


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


# ---- carriers and delivery methods -----------------------------------------------------------
def list_carriers(session: Session, include_inactive: bool = False) -> list[Carrier]:
    stmt = select(Carrier).order_by(Carrier.id)
    return list(session.scalars(stmt if include_inactive else stmt.where(Carrier.active.is_(True))))


def get_carrier(session: Session, carrier_id: str) -> Carrier:
    carrier = session.get(Carrier, carrier_id)
    if carrier is None:
        raise CarrierNotFound()
    return carrier


def create_carrier(session: Session, data: dict) -> Carrier:
    if session.get(Carrier, data["id"]) is not None:
        raise Conflict(f"Carrier {data['id']!r} already exists", code="carrier_exists")
    carrier = Carrier(**data)
    session.add(carrier)
    session.flush()
    return carrier


def update_carrier(session: Session, carrier_id: str, data: dict) -> Carrier:
    carrier = get_carrier(session, carrier_id)
    for name, value in data.items():
        setattr(carrier, name, value)
    return carrier


def list_delivery_methods(session: Session, province: str | None = None,
                          include_inactive: bool = False) -> list[DeliveryMethod]:
    stmt = select(DeliveryMethod).order_by(DeliveryMethod.fee, DeliveryMethod.id)
    if not include_inactive:
        stmt = stmt.where(DeliveryMethod.active.is_(True))
    methods = session.scalars(stmt).all()
    return [m for m in methods if province is None or m.serves(province)]


def get_delivery_method(session: Session, method_id: str) -> DeliveryMethod:
    method = session.get(DeliveryMethod, method_id)
    if method is None:
        raise DeliveryMethodNotFound()
    return method


def create_delivery_method(session: Session, data: dict) -> DeliveryMethod:
    if session.get(DeliveryMethod, data["id"]) is not None:
        raise Conflict(f"Delivery method {data['id']!r} already exists", code="delivery_method_exists")
    method = DeliveryMethod(**data)
    session.add(method)
    session.flush()
    _method_changed(session, method)
    return method


def update_delivery_method(session: Session, method_id: str, data: dict) -> DeliveryMethod:
    method = get_delivery_method(session, method_id)
    low, high = data.get("est_days_min", method.est_days_min), data.get("est_days_max", method.est_days_max)
    if low > high:
        raise InvalidField({"est_days_max": ["Must not be below est_days_min"]})
    for name, value in data.items():
        setattr(method, name, value)
    _method_changed(session, method)
    return method


def _method_changed(session: Session, method: DeliveryMethod) -> None:
    """Tell order (which prices checkout from its copy) the method's new state."""
    method.version = (method.version or 0) + 1
    emit(session, DeliveryMethodChanged(
        delivery_method_id=method.id, name=method.name, fee=method.fee, currency=method.currency,
        active=method.active, regions=method.regions, est_days_min=method.est_days_min,
        est_days_max=method.est_days_max, version=method.version))


# ---- what logistics knows of orders ----------------------------------------------------------
def record_order_placed(session: Session, order_id: str, customer_id: str, address: dict | None,
                        method_id: str | None, lines: list[dict], currency: str) -> None:
    """Remember who ordered what (for returns) and where it goes; fill in a shipment created
    before we knew."""
    order = session.get(OrderRecord, order_id, with_for_update=True)
    if order is None:
        session.add(OrderRecord(order_id=order_id, customer_id=customer_id, status="PENDING",
                                shipping_address=address, delivery_method_id=method_id, lines=lines,
                                currency=currency))
    else:
        order.shipping_address = order.shipping_address or address
        order.delivery_method_id = order.delivery_method_id or method_id
        order.lines, order.currency = order.lines or lines, currency
    shipment = _lock_shipment(session, Shipment.order_id == order_id)
    if shipment is not None and shipment.shipping_address is None:
        shipment.shipping_address, shipment.delivery_method_id = address, method_id


def record_order_status(session: Session, order_id: str, customer_id: str, status: str, at: datetime) -> None:
    """Follow the order's status: PAID opens a shipment awaiting dispatch, CANCELLED cancels
    one not yet shipped, COMPLETED opens the return window. A late event never moves the status back."""
    order = session.get(OrderRecord, order_id, with_for_update=True)
    if order is None:  # the status change overtook OrderPlaced
        order = OrderRecord(order_id=order_id, customer_id=customer_id, status=status)
        session.add(order)
    elif order_status_advances(order.status, status):
        order.status = status
    else:
        return
    if status == "COMPLETED":
        order.completed_at = at
    session.flush()
    if status == "PAID":
        if _lock_shipment(session, Shipment.order_id == order_id) is None:
            session.add(Shipment(order_id=order_id, customer_id=order.customer_id,
                                 shipping_address=order.shipping_address,
                                 delivery_method_id=order.delivery_method_id))
    elif status == "CANCELLED":
        shipment = _lock_shipment(session, Shipment.order_id == order_id)
        if shipment is not None and not shipment.cancel() and shipment.status != "cancelled":
            log.warning("order %s cancelled but its shipment %s is already %s", order_id, shipment.id,
                        shipment.status)


# ---- shipments -------------------------------------------------------------------------------
def _lock_shipment(session: Session, where) -> Shipment | None:
    return session.scalars(select(Shipment).where(where).with_for_update(of=Shipment)
                           .execution_options(populate_existing=True)).first()


def get_shipment(session: Session, shipment_id: str, identity: Identity) -> Shipment:
    """A shipment, for staff or the customer whose order it is (anyone else: not found)."""
    shipment = session.get(Shipment, shipment_id)
    if shipment is None or not (identity.is_staff or shipment.customer_id == identity.id):
        raise ShipmentNotFound()
    return shipment


def get_tracking(session: Session, order_id: str, identity: Identity) -> Shipment:
    shipment = session.scalar(select(Shipment).where(Shipment.order_id == order_id))
    if shipment is None or not (identity.is_staff or shipment.customer_id == identity.id):
        raise ShipmentNotFound("No shipment for this order")
    return shipment


def search_shipments(args: dict) -> Select:
    stmt = select(Shipment).order_by(Shipment.created_at.desc(), Shipment.id)
    if args.get("status"):
        stmt = stmt.where(Shipment.status == args["status"])
    if args.get("order_id"):
        stmt = stmt.where(Shipment.order_id == args["order_id"])
    return stmt


def _fact(shipment: Shipment, at: datetime, event: TrackingEvent | None = None) -> dict:
    return dict(shipment_id=shipment.id, order_id=shipment.order_id, carrier=shipment.carrier_id,
                tracking_number=shipment.tracking_number, status=shipment.status, at=iso(at),
                location=event.location if event else None, description=event.description if event else None)


def _timeline(session: Session, shipment: Shipment, status: str, at: datetime, source: str,
              location: str | None = None, description: str | None = None) -> TrackingEvent:
    event = TrackingEvent(shipment=shipment, status=status, at=at, location=location,
                          description=description, source=source)
    session.add(event)
    return event


def _carrier_for(session: Session, carrier_id: str, tracking_number: str) -> Carrier:
    """An active carrier whose format the tracking number has."""
    carrier = session.get(Carrier, carrier_id)
    if carrier is None or not carrier.active:
        raise InvalidField({"carrier": [f"Unknown or inactive carrier {carrier_id!r}"]})
    if not carrier.accepts(tracking_number):
        raise InvalidField({"tracking_number": [f"Not a {carrier.name} tracking number"]})
    return carrier


class OrderNotReady(Conflict):
    code, message = "order_not_ready", "The order is not ready to ship (it must be PROCESSING)"


def learn_order(session: Session, order: dict) -> None:
    """Catch our copy up with the order as the order service answered it (a lagging event)."""
    record = session.get(OrderRecord, order["id"], with_for_update=True)
    if record is None:
        session.add(OrderRecord(order_id=order["id"], customer_id=order["customer_id"], status="PENDING",
                                shipping_address=order.get("shipping_address"),
                                delivery_method_id=order.get("delivery_method_id"),
                                lines=[{k: ln.get(k) for k in ("sku_id", "quantity", "unit_price", "paid", "points")}
                                       for ln in order.get("lines", [])],
                                currency=order.get("currency", "CNY")))
        session.flush()
    record_order_status(session, order["id"], order["customer_id"], order["status"], utcnow())


def ship_order(session: Session, order_id: str, carrier_id: str, tracking_number: str) -> Shipment:
    """Staff hand the parcel to a carrier: the order must be PROCESSING and the tracking number
    must have the carrier's format."""
    carrier = _carrier_for(session, carrier_id, tracking_number)
    order = session.get(OrderRecord, order_id, with_for_update=True)
    if order is None or order.status != SHIPPABLE_ORDER_STATUS:
        raise OrderNotReady(details={"order_status": order.status if order else None})
    shipment = _lock_shipment(session, Shipment.order_id == order_id)
    if shipment is None:  # PROCESSING seen but PAID never was (events can arrive out of order)
        shipment = Shipment(order_id=order_id, customer_id=order.customer_id,
                            shipping_address=order.shipping_address, delivery_method_id=order.delivery_method_id)
        session.add(shipment)
    elif shipment.status != "awaiting_dispatch":
        raise Conflict(f"This order's shipment is already {shipment.status}", code="already_shipped")
    taken = select(Shipment.id).where(Shipment.carrier_id == carrier.id, Shipment.tracking_number == tracking_number)
    if session.scalar(taken):
        raise Conflict("This tracking number is already used by another shipment", code="tracking_number_in_use")
    now = utcnow()
    shipment.ship(carrier, tracking_number, now)
    event = _timeline(session, shipment, "shipped", now, "staff", description=f"已发货 Handed to {carrier.name}")
    session.flush()
    emit(session, Shipped(**_fact(shipment, now, event)))
    return shipment


def add_tracking_event(session: Session, shipment_id: str, status: str, at: datetime | None = None,
                       location: str | None = None, description: str | None = None) -> Shipment:
    """Staff record a tracking update; one the status machine does not allow is refused."""
    shipment = _lock_shipment(session, Shipment.id == shipment_id)
    if shipment is None:
        raise ShipmentNotFound()
    if not _apply_update(session, shipment, status, at or utcnow(), "staff", location, description):
        raise IllegalTransition(f"A shipment that is {shipment.status} cannot become {status}",
                                details={"status": shipment.status, "requested": status})
    return shipment


def _apply_update(session: Session, shipment: Shipment, status: str, at: datetime, source: str,
                  location: str | None, description: str | None) -> bool:
    if not shipment.track(status, utcnow() if status == "delivered" else at):
        return False
    event = _timeline(session, shipment, status, at, source, location, description)
    session.flush()
    emit(session, ShipmentUpdated(**_fact(shipment, at, event)))
    if status == "delivered":  # the carrier's 签收 signs receipt off: Delivered completes the order
        _confirm(session, shipment, "carrier", "已签收 Signed for at delivery (reported by the carrier)")
    return True


def receive_carrier_push(session: Session, carrier_id: str, push: dict) -> dict:
    """A verified carrier push: applied once per event id; one the machine refuses is ignored."""
    shipment = _lock_shipment(session, (Shipment.carrier_id == carrier_id)
                              & (Shipment.tracking_number == push["tracking_number"]))
    if shipment is None:
        raise ShipmentNotFound("No shipment with this carrier and tracking number")
    key = (carrier_id, push["event_id"])
    if session.get(CarrierPush, key) is not None:
        return {"result": "duplicate", "shipment_id": shipment.id, "status": shipment.status}
    applied = _apply_update(session, shipment, push["status"], push["at"], "carrier", push.get("location"),
                            push.get("description"))
    outcome = "applied" if applied else "ignored"
    session.add(CarrierPush(carrier_id=carrier_id, event_id=push["event_id"], shipment_id=shipment.id,
                            status=push["status"], outcome=outcome))
    if not applied:
        log.info("carrier %s push %s (%s) ignored: shipment %s is %s", carrier_id, push["event_id"],
                 push["status"], shipment.id, shipment.status)
    return {"result": outcome, "shipment_id": shipment.id, "status": shipment.status}


def sign_shipment(session: Session, shipment_id: str, identity: Identity) -> Shipment:
    """The customer confirms receipt (确认收货) → Delivered, once."""
    shipment = _lock_shipment(session, Shipment.id == shipment_id)
    if shipment is None or not (identity.is_staff or shipment.customer_id == identity.id):
        raise ShipmentNotFound()
    if shipment.customer_id != identity.id:
        raise Forbidden("Only the customer who ordered confirms receipt", code="customer_only")
    _confirm(session, shipment, "customer", "已签收 Receipt confirmed by the customer")
    return shipment


def _confirm(session: Session, shipment: Shipment, by: str, description: str) -> None:
    now = utcnow()
    shipment.sign(by, now)
    event = _timeline(session, shipment, "signed", now, "customer" if by == "customer" else "system",
                      description=description)
    session.flush()
    emit(session, Delivered(**_fact(shipment, now, event)))


def auto_confirm_receipts(session: Session, after_seconds: float, batch: int = 100) -> int:
    """Confirm receipt for parcels dispatched `after_seconds` ago that nobody has signed off
    (Taobao's 发货后自动确认收货); one in exception waits for staff. Rows another transaction
    holds are left for next time."""
    due = utcnow() - timedelta(seconds=after_seconds)
    shipments = session.scalars(
        select(Shipment).where(Shipment.status.in_(AUTO_CONFIRMABLE), Shipment.shipped_at <= due)
        .order_by(Shipment.shipped_at).limit(batch)
        .with_for_update(of=Shipment, skip_locked=True).execution_options(populate_existing=True)).all()
    for shipment in shipments:
        _confirm(session, shipment, "auto", "自动确认收货 Receipt confirmed automatically")
    return len(shipments)


# ---- returns (售后) ---------------------------------------------------------------------------
RETURN_EVENTS = {"requested": ReturnRequested, "approved": ReturnApproved, "refused": ReturnRefused,
                 "shipped": ReturnShipped, "received": ReturnReceived}


def _emit_return(session: Session, ret: Return) -> None:
    session.flush()
    emit(session, RETURN_EVENTS[ret.status](
        return_id=ret.id, order_id=ret.order_id, customer_id=ret.customer_id, status=ret.status,
        lines=[Line(line.sku_id, line.quantity, line.unit_price, paid=line.paid, points=line.points)
               for line in ret.lines],
        amount=ret.amount, points=ret.points, at=iso(ret.updated_at), currency=ret.currency,
        reason=ret.refusal_reason if ret.status == "refused" else ret.reason,
        carrier=ret.carrier_id, tracking_number=ret.tracking_number))


def _lock_return(session: Session, return_id: str) -> Return | None:
    return session.scalars(select(Return).where(Return.id == return_id).with_for_update(of=Return)
                           .execution_options(populate_existing=True)).first()


def _move_return(session: Session, return_id: str, status: str, **changes) -> Return:
    """One step of a return, with its event, on the locked row."""
    ret = _lock_return(session, return_id)
    if ret is None:
        raise ReturnNotFound()
    ret.move_to(status)
    for name, value in {**changes, "updated_at": utcnow()}.items():
        setattr(ret, name, value)
    _emit_return(session, ret)
    return ret


def request_return(session: Session, identity: Identity, order_id: str, lines: list[dict], reason: str,
                   window_seconds: float) -> Return:
    """The customer asks to return some units of a completed order of their own, within the window
    (七天无理由退货). The order's row is locked, so two requests at once cannot both take the last unit."""
    order = session.get(OrderRecord, order_id, with_for_update=True)
    if order is None or order.customer_id != identity.id:
        raise OrderNotFound()
    now = utcnow()
    order.check_returnable(now, window_seconds)
    wanted: dict[str, int] = {}
    for line in lines:
        wanted[line["sku_id"]] = wanted.get(line["sku_id"], 0) + line["quantity"]
    # int(): PostgreSQL sums bigint columns as numeric (a Decimal).
    taken = {sku: (int(quantity), int(paid), int(points)) for sku, quantity, paid, points in session.execute(
        select(ReturnLine.sku_id, func.sum(ReturnLine.quantity), func.sum(ReturnLine.paid),
               func.sum(ReturnLine.points)).join(Return)
        .where(Return.order_id == order_id, Return.status.in_(OPEN_RETURN_STATUSES))
        .group_by(ReturnLine.sku_id))}
    ret = Return(order_id=order_id, customer_id=identity.id, status="requested", reason=reason,
                 currency=order.currency, created_at=now, updated_at=now,
                 lines=[ReturnLine(**line) for line in order.return_lines(wanted, taken)])
    ret.amount = sum(line.paid for line in ret.lines)
    ret.points = sum(line.points for line in ret.lines)
    session.add(ret)
    _emit_return(session, ret)
    return ret


def get_return(session: Session, return_id: str, identity: Identity) -> Return:
    """A return, for staff or the customer who asked for it (anyone else: not found)."""
    ret = session.get(Return, return_id)
    if ret is None or not (identity.is_staff or ret.customer_id == identity.id):
        raise ReturnNotFound()
    return ret


def search_returns(identity: Identity, args: dict) -> Select:
    """Newest first: a customer's own, or all for staff; by status or order."""
    stmt = select(Return).order_by(Return.created_at.desc(), Return.id)
    if not identity.is_staff:
        stmt = stmt.where(Return.customer_id == identity.id)
    if args.get("status"):
        stmt = stmt.where(Return.status == args["status"])
    if args.get("order_id"):
        stmt = stmt.where(Return.order_id == args["order_id"])
    return stmt


def approve_return(session: Session, return_id: str) -> Return:
    return _move_return(session, return_id, "approved")


def refuse_return(session: Session, return_id: str, reason: str) -> Return:
    return _move_return(session, return_id, "refused", refusal_reason=reason)


def ship_return(session: Session, return_id: str, identity: Identity, carrier_id: str,
                tracking_number: str) -> Return:
    """The customer sends the approved return back: a known carrier and a number of its format."""
    ret = get_return(session, return_id, identity)
    if ret.customer_id != identity.id:
        raise Forbidden("Only the customer who asked for the return ships it", code="customer_only")
    carrier = _carrier_for(session, carrier_id, tracking_number)
    return _move_return(session, return_id, "shipped", carrier_id=carrier.id, tracking_number=tracking_number)


def receive_return(session: Session, return_id: str) -> Return:
    """Staff received the parcel back: payment refunds, catalog puts the units back on sale."""
    return _move_return(session, return_id, "received")


def record_return_refund(session: Session, return_id: str, refund_id: str) -> None:
    """payment refunded a received return (RefundCompleted with its return_id): it is refunded, once."""
    ret = _lock_return(session, return_id)
    if ret is None or ret.status != "received":
        log.warning("refund %s for return %s ignored: the return is %s", refund_id, return_id,
                    ret.status if ret else "unknown")
        return
    ret.move_to("refunded")
    ret.refund_id, ret.refunded_at = refund_id, utcnow()
