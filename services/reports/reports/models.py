"""reports' tables: facts keyed by the ids the events carry, and figures pre-aggregated per day.

Every figure is keyed by a calendar day in Asia/Shanghai (the merchant's day) and by what it is
grouped by; handlers only ever add to a figure with a keyed upsert, so several workers may count
at once. A figure that needs two facts (a sale needs the order's lines and its payment) is added
by whichever of the two arrives last, once, as a flag on the fact row records: so duplicates and
any order of arrival give the same figures, and a rebuild from the archive gives them again.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mall_shared.db import NAMING, UTCDateTime, bus_tables


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, date: Date, int: BigInteger}


bus_tables(Base.metadata)

# The funnel's stages, in the order an order passes them; `cancelled` leaves it anywhere.
STAGES = ("placed", "awaiting_payment", "paid", "shipped", "completed", "cancelled")
STAGE_OF_STATUS = {"AWAITING_PAYMENT": "awaiting_payment", "PAID": "paid", "SHIPPED": "shipped",
                   "COMPLETED": "completed", "CANCELLED": "cancelled"}


def stage_bit(stage: str) -> int:
    return 1 << STAGES.index(stage)


# ---- facts -----------------------------------------------------------------------------------
class OrderFact(Base):
    """What reports knows of one order, whichever of its events came first."""

    __tablename__ = "orders"
    order_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(36))
    total: Mapped[int | None]
    placed_day: Mapped[date | None]
    paid_day: Mapped[date | None]
    paid_amount: Mapped[int | None]
    payment_id: Mapped[str | None] = mapped_column(String(36))
    stages_seen: Mapped[int] = mapped_column(Integer, default=0)  # bits of STAGES
    stages_counted: Mapped[int] = mapped_column(Integer, default=0)  # counted in the funnel
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    sale_counted: Mapped[bool] = mapped_column(Boolean, default=False)  # lines counted on the paid day


class LineFact(Base):
    __tablename__ = "order_lines"
    order_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sku_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    quantity: Mapped[int]
    unit_price: Mapped[int]


class RefundFact(Base):
    __tablename__ = "refunds"
    refund_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(36), index=True)
    amount: Mapped[int]
    day: Mapped[date]
    attributed: Mapped[bool] = mapped_column(Boolean, default=False)  # counted on its sale's day


class ShipmentFact(Base):
    __tablename__ = "shipments"
    shipment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    carrier: Mapped[str | None] = mapped_column(String(32))
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    counted: Mapped[bool] = mapped_column(Boolean, default=False)  # its delivery time


class Customer(Base):
    __tablename__ = "customers"
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    registered_day: Mapped[date | None] = mapped_column(index=True)
    tier: Mapped[str | None] = mapped_column(String(32))
    tier_at: Mapped[datetime | None]
    first_paid_day: Mapped[date | None] = mapped_column(index=True)


class CustomerPeriod(Base):
    """A customer bought in this day, week or month (so buyers per period are distinct)."""

    __tablename__ = "customer_periods"
    __table_args__ = (Index("ix_customer_periods_kind_start", "kind", "start"),)
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # day | week | month
    start: Mapped[date] = mapped_column(primary_key=True)


class Product(Base):
    __tablename__ = "products"
    product_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    category_id: Mapped[str | None] = mapped_column(String(36))
    category_name: Mapped[str | None] = mapped_column(String(100))
    listed_at: Mapped[datetime | None]


class Sku(Base):
    __tablename__ = "skus"
    sku_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    product_id: Mapped[str | None] = mapped_column(String(36), index=True)
    stock: Mapped[int | None]
    stock_at: Mapped[datetime | None]


# ---- figures per day ---------------------------------------------------------------------------
class DailySales(Base):
    __tablename__ = "daily_sales"
    day: Mapped[date] = mapped_column(primary_key=True)
    orders_placed: Mapped[int] = mapped_column(default=0)
    placed_amount: Mapped[int] = mapped_column(default=0)
    orders_paid: Mapped[int] = mapped_column(default=0)
    gmv: Mapped[int] = mapped_column(default=0)  # paid, on the day of payment
    orders_cancelled: Mapped[int] = mapped_column(default=0)
    orders_shipped: Mapped[int] = mapped_column(default=0)
    orders_completed: Mapped[int] = mapped_column(default=0)
    refunds: Mapped[int] = mapped_column(default=0)
    refund_amount: Mapped[int] = mapped_column(default=0)  # on the refund's day
    refunds_of_sales: Mapped[int] = mapped_column(default=0)  # the same refunds, on their sale's day
    returns_received: Mapped[int] = mapped_column(default=0)
    registrations: Mapped[int] = mapped_column(default=0)


class DailySku(Base):
    __tablename__ = "daily_skus"
    day: Mapped[date] = mapped_column(primary_key=True)
    sku_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    units: Mapped[int] = mapped_column(default=0)  # sold: paid, on the day of payment
    revenue: Mapped[int] = mapped_column(default=0)
    ordered_lines: Mapped[int] = mapped_column(default=0)  # placed, on the day of placing
    ordered_units: Mapped[int] = mapped_column(default=0)


class MonthlySku(Base):
    """DailySku's figures per month as well, so a report over a year reads twelve rows per SKU."""

    __tablename__ = "monthly_skus"
    month: Mapped[date] = mapped_column(primary_key=True)  # its first day
    sku_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    units: Mapped[int] = mapped_column(default=0)
    revenue: Mapped[int] = mapped_column(default=0)
    ordered_lines: Mapped[int] = mapped_column(default=0)
    ordered_units: Mapped[int] = mapped_column(default=0)


class DailyViews(Base):
    __tablename__ = "daily_views"
    day: Mapped[date] = mapped_column(primary_key=True)
    product_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    views: Mapped[int] = mapped_column(default=0)


class DailyPayments(Base):
    __tablename__ = "daily_payments"
    day: Mapped[date] = mapped_column(primary_key=True)
    method: Mapped[str] = mapped_column(String(20), primary_key=True)
    payments: Mapped[int] = mapped_column(default=0)
    amount: Mapped[int] = mapped_column(default=0)
    failures: Mapped[int] = mapped_column(default=0)


class DailyFunnel(Base):
    """Orders placed on `day` that reached `stage` (whenever they reached it)."""

    __tablename__ = "daily_funnel"
    day: Mapped[date] = mapped_column(primary_key=True)
    stage: Mapped[str] = mapped_column(String(20), primary_key=True)
    orders: Mapped[int] = mapped_column(default=0)


class DailyCancellations(Base):
    """Orders placed on `day` and cancelled, by reason."""

    __tablename__ = "daily_cancellations"
    day: Mapped[date] = mapped_column(primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), primary_key=True)
    orders: Mapped[int] = mapped_column(default=0)


class DailyShipments(Base):
    __tablename__ = "daily_shipments"
    day: Mapped[date] = mapped_column(primary_key=True)
    carrier: Mapped[str] = mapped_column(String(32), primary_key=True)
    shipped: Mapped[int] = mapped_column(default=0)


class DeliveryTimes(Base):
    """Parcels delivered on `day` by `carrier` that took `hours` (whole hours) from dispatch."""

    __tablename__ = "delivery_times"
    day: Mapped[date] = mapped_column(primary_key=True)
    carrier: Mapped[str] = mapped_column(String(32), primary_key=True)
    hours: Mapped[int] = mapped_column(Integer, primary_key=True)
    parcels: Mapped[int] = mapped_column(default=0)
