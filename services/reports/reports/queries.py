"""Reading the reports: each one sums pre-aggregated daily rows over a date range (never the
orders themselves), so its cost follows the days and products in the range, not the orders.
Every report answers `rows` (one table, which is also its CSV) and, where it adds up, `totals`."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select, union_all
from sqlalchemy.orm import Session

from .models import (
    STAGES,
    Base,
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
    MonthlySku,
    Product,
    Sku,
)
from .services import period_start

DEFAULT_TIER = "regular"  # crm's tier for a member who has not changed tier yet
SALES_FIGURES = ("orders_placed", "placed_amount", "orders_paid", "gmv", "orders_cancelled", "orders_shipped",
                 "orders_completed", "refunds", "refund_amount", "refunds_of_sales", "returns_received",
                 "registrations")


def _plain(row) -> dict:
    """A result row as JSON-ready values (PostgreSQL's SUM of integers is a Decimal)."""
    return {k: int(v) if isinstance(v, Decimal) else v for k, v in row._mapping.items()}


def _aov(gmv: int, orders: int) -> int:
    return round(gmv / orders) if orders else 0


def _with_derived(row: dict) -> dict:
    row["average_order_value"] = _aov(row["gmv"], row["orders_paid"])
    row["net_sales"] = row["gmv"] - row["refund_amount"]  # refunds on the day they were paid back
    row["net_of_sales"] = row["gmv"] - row["refunds_of_sales"]  # refunds on the day of their sale
    return row


def sales(session: Session, start: date, end: date, group_by: str) -> dict:
    """GMV, orders, average order value, refunds and net sales per day, week or month."""
    buckets: dict[date, dict] = {}
    rows = session.scalars(select(DailySales).where(DailySales.day.between(start, end)).order_by(DailySales.day))
    for daily in rows:
        bucket = buckets.setdefault(period_start(daily.day, group_by), dict.fromkeys(SALES_FIGURES, 0))
        for name in SALES_FIGURES:
            bucket[name] += getattr(daily, name)
    out = [_with_derived({"period": p.isoformat(), **figures}) for p, figures in sorted(buckets.items())]
    totals = dict.fromkeys(SALES_FIGURES, 0)
    for row in out:
        for name in SALES_FIGURES:
            totals[name] += row[name]
    return {"rows": out, "totals": _with_derived(totals)}


def _full_months(start: date, end: date) -> tuple[date, date]:
    """[first, after): the whole months inside [start, end] (first == after when there are none)."""
    first = start if start.day == 1 else period_start(period_start(start, "month") + timedelta(days=32), "month")
    after = period_start(end + timedelta(days=1), "month")
    return (first, after) if first < after else (start, start)


def _sku_figures(session: Session, start: date, end: date):
    """Per SKU over the range: whole months from MonthlySku, the days around them from DailySku."""
    first, after = _full_months(start, end)
    columns = ("units", "revenue", "ordered_lines")
    days = select(DailySku.sku_id, *(getattr(DailySku, c) for c in columns)).where(
        DailySku.day.between(start, end), or_(DailySku.day < first, DailySku.day >= after))
    months = select(MonthlySku.sku_id, *(getattr(MonthlySku, c) for c in columns)).where(
        MonthlySku.month >= first, MonthlySku.month < after)
    both = union_all(days, months).subquery()
    return (select(both.c.sku_id, *(func.sum(both.c[c]).label(c) for c in columns))
            .group_by(both.c.sku_id).subquery())


def top_products(session: Session, start: date, end: date, sort: str, limit: int) -> dict:
    """The best sellers by units or revenue (paid in the range)."""
    figures = _sku_figures(session, start, end)
    product = func.coalesce(Sku.product_id, figures.c.sku_id)
    units, revenue = func.sum(figures.c.units), func.sum(figures.c.revenue)
    stmt = (select(product.label("product_id"), func.max(Product.name).label("name"),
                   func.max(Product.category_name).label("category"), units.label("units"), revenue.label("revenue"))
            .select_from(figures).outerjoin(Sku, Sku.sku_id == figures.c.sku_id)
            .outerjoin(Product, Product.product_id == Sku.product_id)
            .group_by(product).having(units > 0)
            .order_by((units if sort == "units" else revenue).desc(), product).limit(limit))
    return {"rows": [_plain(r) for r in session.execute(stmt)]}


def top_categories(session: Session, start: date, end: date, sort: str, limit: int) -> dict:
    figures = _sku_figures(session, start, end)
    category = func.coalesce(Product.category_id, "unknown")
    units, revenue = func.sum(figures.c.units), func.sum(figures.c.revenue)
    stmt = (select(category.label("category_id"), func.max(Product.category_name).label("name"),
                   units.label("units"), revenue.label("revenue"))
            .select_from(figures).outerjoin(Sku, Sku.sku_id == figures.c.sku_id)
            .outerjoin(Product, Product.product_id == Sku.product_id)
            .group_by(category).having(units > 0)
            .order_by((units if sort == "units" else revenue).desc(), category).limit(limit))
    return {"rows": [_plain(r) for r in session.execute(stmt)]}


def funnel(session: Session, start: date, end: date) -> dict:
    """Orders placed in the range, by the furthest stages they reached."""
    counts = dict(session.execute(select(DailyFunnel.stage, func.sum(DailyFunnel.orders))
                                  .where(DailyFunnel.day.between(start, end)).group_by(DailyFunnel.stage)).all())
    placed = counts.get("placed", 0)
    return {"rows": [{"stage": s, "orders": int(counts.get(s, 0)),
                      "share_of_placed": round(counts.get(s, 0) / placed, 4) if placed else 0.0} for s in STAGES]}


def cancellations(session: Session, start: date, end: date) -> dict:
    """Orders placed in the range and cancelled, by reason."""
    stmt = (select(DailyCancellations.reason, func.sum(DailyCancellations.orders).label("orders"))
            .where(DailyCancellations.day.between(start, end)).group_by(DailyCancellations.reason)
            .order_by(func.sum(DailyCancellations.orders).desc(), DailyCancellations.reason))
    return {"rows": [{"reason": r.reason, "orders": int(r.orders)} for r in session.execute(stmt)]}


def payment_methods(session: Session, start: date, end: date) -> dict:
    stmt = (select(DailyPayments.method, func.sum(DailyPayments.payments).label("payments"),
                   func.sum(DailyPayments.amount).label("amount"), func.sum(DailyPayments.failures).label("failures"))
            .where(DailyPayments.day.between(start, end)).group_by(DailyPayments.method).order_by(DailyPayments.method))
    rows = [{k: (int(v) if k != "method" else v) for k, v in r._mapping.items()} for r in session.execute(stmt)]
    total = sum(r["amount"] for r in rows)
    for r in rows:
        r["share_of_amount"] = round(r["amount"] / total, 4) if total else 0.0
    return {"rows": rows}


def _percentile(histogram: list[tuple[int, int]], share: float) -> int | None:
    total = sum(n for _, n in histogram)
    seen = 0
    for hours, n in sorted(histogram):
        seen += n
        if seen >= share * total:
            return hours
    return None


def carriers(session: Session, start: date, end: date) -> dict:
    """Per carrier: parcels shipped, delivered, and how long delivery took (p50, p90, hours)."""
    shipped = dict(session.execute(
        select(DailyShipments.carrier, func.sum(DailyShipments.shipped))
        .where(DailyShipments.day.between(start, end)).group_by(DailyShipments.carrier)).all())
    histograms: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for carrier, hours, parcels in session.execute(
            select(DeliveryTimes.carrier, DeliveryTimes.hours, func.sum(DeliveryTimes.parcels))
            .where(DeliveryTimes.day.between(start, end)).group_by(DeliveryTimes.carrier, DeliveryTimes.hours)):
        histograms[carrier].append((hours, int(parcels)))
    rows = []
    for carrier in sorted(set(shipped) | set(histograms)):
        h = histograms.get(carrier, [])
        rows.append({"carrier": carrier, "shipped": int(shipped.get(carrier, 0)),
                     "delivered": sum(n for _, n in h), "p50_hours": _percentile(h, 0.5),
                     "p90_hours": _percentile(h, 0.9)})
    return {"rows": rows}


def customers(session: Session, start: date, end: date, group_by: str) -> dict:
    """Buyers per period, new (their first paid order) or returning, and registrations."""
    first, last = period_start(start, group_by), end
    buyers = dict(session.execute(select(CustomerPeriod.start, func.count())
                                  .where(CustomerPeriod.kind == group_by, CustomerPeriod.start.between(first, last))
                                  .group_by(CustomerPeriod.start)).all())
    new: dict[date, int] = defaultdict(int)
    for day, n in session.execute(select(Customer.first_paid_day, func.count())
                                  .where(Customer.first_paid_day.between(first, last))
                                  .group_by(Customer.first_paid_day)):
        new[period_start(day, group_by)] += n
    registered: dict[date, int] = defaultdict(int)
    for day, n in session.execute(select(DailySales.day, DailySales.registrations)
                                  .where(DailySales.day.between(start, end), DailySales.registrations > 0)):
        registered[period_start(day, group_by)] += n
    rows = [{"period": p.isoformat(), "buyers": buyers.get(p, 0), "new": new.get(p, 0),
             "returning": buyers.get(p, 0) - new.get(p, 0), "registrations": registered.get(p, 0)}
            for p in sorted(set(buyers) | set(new) | set(registered))]
    return {"rows": rows}


def tiers(session: Session) -> dict:
    """Members per tier, now."""
    tier = func.coalesce(Customer.tier, DEFAULT_TIER)
    stmt = select(tier.label("tier"), func.count().label("customers")).group_by(tier).order_by(tier)
    return {"rows": [_plain(r) for r in session.execute(stmt)]}


def stock(session: Session, start: date, end: date, low_stock: int, cover_days: float) -> dict:
    """SKUs sold out, and those running low: at or under `low_stock` units, or fewer than
    `cover_days` days of cover at the range's selling rate (stock < cover_days × units / days)."""
    days = (end - start).days + 1
    figures = _sku_figures(session, start, end)
    units = func.coalesce(figures.c.units, 0)
    stmt = (select(Sku.sku_id, Sku.product_id, Product.name, Sku.stock, units.label("units"))
            .outerjoin(figures, figures.c.sku_id == Sku.sku_id)
            .outerjoin(Product, Product.product_id == Sku.product_id)
            .where(Sku.stock.is_not(None),
                   or_(Sku.stock <= low_stock, Sku.stock * days < units * cover_days))
            .order_by(Sku.stock, Sku.sku_id))
    rows = []
    for r in session.execute(stmt):
        sold = int(r.units)
        rows.append({"sku_id": r.sku_id, "product_id": r.product_id, "name": r.name,
                     "status": "depleted" if r.stock <= 0 else "low", "stock": r.stock, "units_sold": sold,
                     "days_of_cover": round(r.stock / (sold / days), 1) if sold else None})
    return {"rows": rows}


def product_views(session: Session, start: date, end: date, limit: int) -> dict:
    """Product-page views against the order lines placed for the product (views → orders)."""
    views = (select(DailyViews.product_id, func.sum(DailyViews.views).label("views"))
             .where(DailyViews.day.between(start, end)).group_by(DailyViews.product_id).subquery())
    figures = _sku_figures(session, start, end)
    ordered = (select(Sku.product_id, func.sum(figures.c.ordered_lines).label("orders"))
               .select_from(figures).join(Sku, Sku.sku_id == figures.c.sku_id).group_by(Sku.product_id).subquery())
    stmt = (select(views.c.product_id, Product.name, views.c.views, func.coalesce(ordered.c.orders, 0).label("orders"))
            .select_from(views).outerjoin(ordered, ordered.c.product_id == views.c.product_id)
            .outerjoin(Product, Product.product_id == views.c.product_id)
            .order_by(views.c.views.desc(), views.c.product_id).limit(limit))
    rows = []
    for r in session.execute(stmt):
        row = {"product_id": r.product_id, "name": r.name, "views": int(r.views), "orders": int(r.orders)}
        row["conversion"] = round(row["orders"] / row["views"], 4) if row["views"] else 0.0
        rows.append(row)
    return {"rows": rows}


def worker_lag(session: Session, s) -> dict:
    """Events waiting in the worker's queue and when it last handled one (`make bench` reads it)."""
    from mall_shared.db import utcnow
    from mall_shared.outbox import connection

    inbox = Base.metadata.tables["inbox"]
    last = session.scalar(select(func.max(inbox.c.handled_at)))
    depth = None
    with connection(s, connect_timeout=2) as conn:
        try:
            _, depth, _ = conn.default_channel.queue_declare(queue=f"{s.service}.events", passive=True)
        except Exception:  # the worker has not declared its queue yet
            depth = None
    return {"queue": f"{s.service}.events", "waiting": depth,
            "last_handled_at": last.isoformat().replace("+00:00", "Z") if last else None,
            "seconds_since_last_handled": round((utcnow() - last).total_seconds(), 3) if last else None}
