"""Recording facts into the figures: one use case per kind of fact, called by the handlers in the
event's transaction (no Flask, no commit). Each counts a fact on the day it happened — its own
time (`at`), else its envelope's — in Asia/Shanghai, never on the day it was handled."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from mall_shared.db import conflict_insert, locked_row, utcnow
from mall_shared.events import current_envelope

from .models import (
    STAGE_OF_STATUS,
    STAGES,
    Customer,
    CustomerPeriod,
    DailyCancellations,
    DailyFunnel,
    DailyPayments,
    DailySales,
    DailyShipments,
    DailySku,
    DailyViews,
    DeliveryTimes,
    LineFact,
    MonthlySku,
    OrderFact,
    Product,
    RefundFact,
    ShipmentFact,
    Sku,
    stage_bit,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


# ---- time --------------------------------------------------------------------------------------
def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def event_time() -> datetime:
    """When the fact being handled happened: its envelope's time."""
    env = current_envelope.get()
    return parse_time(env["time"]) if env else utcnow()


def local_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def period_start(day: date, kind: str) -> date:
    if kind == "week":
        return day - timedelta(days=day.weekday())  # weeks start on Monday
    if kind == "month":
        return day.replace(day=1)
    return day


# ---- keyed upserts -----------------------------------------------------------------------------
def bump(session: Session, model, keys: dict, **amounts: int) -> None:
    """Add `amounts` to the figure row `keys` (created at zero). The additions wait in the session
    and reach the database when it commits, merged: one upsert a row, however many of a batch's
    events added to it (a burst of orders adds to one day's row once a batch, not once an order)."""
    pending = session.info.setdefault("bumps", {})
    row = pending.setdefault((model, tuple(keys.items())), {})
    for name, amount in amounts.items():
        row[name] = row.get(name, 0) + amount


@event.listens_for(Session, "before_commit")
def _apply_bumps(session: Session) -> None:
    """The waiting additions, each an atomic upsert (workers may race), in one order of rows
    (table, then keys) so that two workers' transactions never deadlock on them."""
    pending = session.info.pop("bumps", None)
    for (model, keys), amounts in sorted((pending or {}).items(), key=lambda kv: (kv[0][0].__tablename__, kv[0][1])):
        stmt = conflict_insert(session, model).values(**dict(keys), **amounts)
        table = model.__table__
        session.execute(stmt.on_conflict_do_update(
            index_elements=[name for name, _ in keys],
            set_={name: table.c[name] + stmt.excluded[name] for name in amounts}))


def bump_sku(session: Session, day: date, sku_id: str, **amounts: int) -> None:
    """A SKU's figures, kept per day and per month."""
    bump(session, DailySku, {"day": day, "sku_id": sku_id}, **amounts)
    bump(session, MonthlySku, {"month": period_start(day, "month"), "sku_id": sku_id}, **amounts)


def _locked(session: Session, model, **keys):
    """The fact row `keys`, created empty if new, locked until the transaction ends (so two events
    of one order, handled by two workers at once, settle it one after the other)."""
    return locked_row(session, model, **keys)


# ---- orders ------------------------------------------------------------------------------------
def record_order_placed(session: Session, order_id: str, customer_id: str, total: int, lines: list,
                        at: datetime) -> None:
    """An order placed: counted on its day, its lines kept for the day it is paid."""
    order = _locked(session, OrderFact, order_id=order_id)
    if order.placed_day is not None:
        return
    order.customer_id, order.total, order.placed_day = customer_id, total, local_day(at)
    order.stages_seen |= stage_bit("placed")
    bump(session, DailySales, {"day": order.placed_day}, orders_placed=1, placed_amount=total)
    merged: dict[str, list[int]] = {}
    for line in lines:
        qty_amount = merged.setdefault(line.sku_id, [0, 0])
        qty_amount[0] += line.quantity
        qty_amount[1] += line.quantity * (line.unit_price or 0)
    for sku_id, (quantity, amount) in sorted(merged.items()):  # rows locked in one order: no deadlock
        session.add(LineFact(order_id=order_id, sku_id=sku_id, quantity=quantity, unit_price=amount))
        bump_sku(session, order.placed_day, sku_id, ordered_lines=1, ordered_units=quantity)
    _settle(session, order)


def record_status(session: Session, order_id: str, customer_id: str, status: str, at: datetime,
                  reason: str | None) -> None:
    """An order reached a status: a funnel stage (on its placing day) and a count on its own day."""
    stage = STAGE_OF_STATUS.get(status)
    if stage is None:
        return
    order = _locked(session, OrderFact, order_id=order_id)
    if order.stages_seen & stage_bit(stage):
        return
    order.stages_seen |= stage_bit(stage)
    order.customer_id = order.customer_id or customer_id
    if stage == "cancelled":
        order.cancel_reason = (reason or "unknown")[:200]
    if stage in ("cancelled", "shipped", "completed"):
        bump(session, DailySales, {"day": local_day(at)}, **{f"orders_{stage}": 1})
    _settle(session, order)


def record_payment(session: Session, payment_id: str, order_id: str, method: str, amount: int, at: datetime) -> None:
    """A confirmed payment is a sale (GMV) on the day it was paid."""
    order = _locked(session, OrderFact, order_id=order_id)
    if order.payment_id is not None:
        return  # an order is paid once; a second confirmation is not a second sale
    order.payment_id, order.paid_amount, order.paid_day = payment_id, amount, local_day(at)
    bump(session, DailySales, {"day": order.paid_day}, orders_paid=1, gmv=amount)
    bump(session, DailyPayments, {"day": order.paid_day, "method": method}, payments=1, amount=amount)
    _settle(session, order)


def record_payment_failed(session: Session, method: str, at: datetime) -> None:
    bump(session, DailyPayments, {"day": local_day(at), "method": method}, failures=1)


def record_refund(session: Session, refund_id: str, order_id: str, amount: int, at: datetime) -> None:
    """A refund counts on its own day, and again (as refunds of sales) on the day of the sale."""
    order = _locked(session, OrderFact, order_id=order_id)
    if session.get(RefundFact, refund_id) is not None:
        return
    session.add(RefundFact(refund_id=refund_id, order_id=order_id, amount=amount, day=local_day(at)))
    session.flush()
    bump(session, DailySales, {"day": local_day(at)}, refunds=1, refund_amount=amount)
    _settle(session, order)


def record_return_received(session: Session, at: datetime) -> None:
    bump(session, DailySales, {"day": local_day(at)}, returns_received=1)


def _settle(session: Session, order: OrderFact) -> None:
    """Count, once, what needed two of the order's facts and now has both."""
    if order.placed_day is not None:
        pending = order.stages_seen & ~order.stages_counted
        for stage in STAGES:
            if pending & stage_bit(stage):
                bump(session, DailyFunnel, {"day": order.placed_day, "stage": stage}, orders=1)
                if stage == "cancelled":
                    bump(session, DailyCancellations, {"day": order.placed_day, "reason": order.cancel_reason or
                                                       "unknown"}, orders=1)
        order.stages_counted |= pending
    if order.placed_day is not None and order.paid_day is not None and not order.sale_counted:
        for line in session.scalars(select(LineFact).where(LineFact.order_id == order.order_id)
                                    .order_by(LineFact.sku_id)):
            bump_sku(session, order.paid_day, line.sku_id, units=line.quantity, revenue=line.unit_price)
        _customer_bought(session, order.customer_id, order.paid_day)
        order.sale_counted = True
    if order.paid_day is not None:
        for refund in session.scalars(select(RefundFact).where(RefundFact.order_id == order.order_id,
                                                               RefundFact.attributed.is_(False))):
            bump(session, DailySales, {"day": order.paid_day}, refunds_of_sales=refund.amount)
            refund.attributed = True


# ---- customers ---------------------------------------------------------------------------------
def _customer_bought(session: Session, customer_id: str | None, day: date) -> None:
    if not customer_id:
        return
    customer = _locked(session, Customer, customer_id=customer_id)
    if customer.first_paid_day is None or day < customer.first_paid_day:
        customer.first_paid_day = day
    for kind in ("day", "week", "month"):
        session.execute(conflict_insert(session, CustomerPeriod).values(
            customer_id=customer_id, kind=kind, start=period_start(day, kind)).on_conflict_do_nothing())


def record_registration(session: Session, customer_id: str, at: datetime) -> None:
    customer = _locked(session, Customer, customer_id=customer_id)
    if customer.registered_day is None:
        customer.registered_day = local_day(at)
        bump(session, DailySales, {"day": customer.registered_day}, registrations=1)


def record_tier(session: Session, customer_id: str, tier: str, at: datetime) -> None:
    """The latest tier by time wins, whatever order the changes arrive in."""
    customer = _locked(session, Customer, customer_id=customer_id)
    if customer.tier_at is None or at >= customer.tier_at:
        customer.tier, customer.tier_at = tier, at


# ---- catalog -----------------------------------------------------------------------------------
def record_product(session: Session, product_id: str, name: str, category_id: str | None,
                   category_name: str | None, sku_ids: list[str] | None, at: datetime) -> None:
    product = _locked(session, Product, product_id=product_id)
    if product.listed_at is None or at >= product.listed_at:
        product.name, product.listed_at = name, at
        product.category_id = category_id or product.category_id
        product.category_name = category_name or product.category_name
    for sku_id in sorted(sku_ids or ()):
        _locked(session, Sku, sku_id=sku_id).product_id = product_id


def record_sku(session: Session, sku_id: str, product_id: str, product_name: str, at: datetime) -> None:
    """Which product a SKU belongs to (also for SKUs added after their product was listed)."""
    product = _locked(session, Product, product_id=product_id)  # product before SKU, as record_product
    if product.listed_at is None or at >= product.listed_at:
        product.name = product_name
    _locked(session, Sku, sku_id=sku_id).product_id = product_id


def record_stock(session: Session, sku_id: str, stock: int | None, at: datetime, product_id: str | None = None) -> None:
    """A SKU's available stock as of `at`: the latest by time wins."""
    sku = _locked(session, Sku, sku_id=sku_id)
    sku.product_id = sku.product_id or product_id
    if stock is not None and (sku.stock_at is None or at >= sku.stock_at):
        sku.stock, sku.stock_at = stock, at


def record_views(session: Session, start: datetime, views: list) -> None:
    for item in views:
        bump(session, DailyViews, {"day": local_day(start), "product_id": item.product_id}, views=item.count)


# ---- logistics ---------------------------------------------------------------------------------
def record_shipment(session: Session, shipment_id: str, carrier: str, at: datetime, delivered: bool) -> None:
    """Shipped counts on its day per carrier; once both ends are known, the delivery time counts
    on the day it was delivered."""
    shipment = _locked(session, ShipmentFact, shipment_id=shipment_id)
    shipment.carrier = shipment.carrier or carrier
    if delivered and shipment.delivered_at is None:
        shipment.delivered_at = at
    elif not delivered and shipment.shipped_at is None:
        shipment.shipped_at = at
        bump(session, DailyShipments, {"day": local_day(at), "carrier": carrier}, shipped=1)
    if shipment.shipped_at and shipment.delivered_at and not shipment.counted:
        hours = max(0, int((shipment.delivered_at - shipment.shipped_at).total_seconds() // 3600))
        bump(session, DeliveryTimes, {"day": local_day(shipment.delivered_at), "carrier": shipment.carrier,
                                      "hours": hours}, parcels=1)
        shipment.counted = True
