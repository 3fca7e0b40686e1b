"""Reports over 100,000 orders through the gateway: p99 must stay under 200 ms.

Starts the real platform (PostgreSQL, RabbitMQ, gunicorn, gateway), seeds the reports database
with the pre-aggregated rows that 100,000 orders over a year leave behind (per day, SKU, product,
payment method, carrier, customer period: what the reports worker writes), then times every
report over the whole year through the gateway as staff.

    .venv/bin/python bench/report_queries.py [--orders 100000] [--requests 100]
"""
from __future__ import annotations

import argparse
import random
import time
from collections import Counter, defaultdict
from datetime import date, timedelta

import requests
from sqlalchemy import create_engine, insert

from common import percentile, start_platform, summary
from reports.models import (
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
    MonthlySku,
    Product,
    Sku,
)
from reports.services import period_start

REPORTS = [("sales", "group_by=day"), ("sales", "group_by=month"), ("products", "sort=revenue&limit=20"),
           ("categories", "sort=units"), ("funnel", ""), ("cancellations", ""), ("payment-methods", ""),
           ("carriers", ""), ("customers", "group_by=week"), ("tiers", ""), ("stock", ""),
           ("product-views", "limit=50")]


def seed(url: str, orders: int, end: date, skus: int = 2000, customers: int = 30000, seed: int = 7) -> None:
    """The rows `orders` orders over the year up to `end` leave in the reports database."""
    rnd = random.Random(seed)
    products = [f"p{i}" for i in range(skus // 4)]
    sku_product = {f"s{i}": products[i // 4] for i in range(skus)}
    price = {s: rnd.randint(10, 900) * 100 for s in sku_product}
    sales: dict[date, Counter] = defaultdict(Counter)
    day_sku: dict[tuple, Counter] = defaultdict(Counter)
    funnel, cancels, payments, shipped, delivery = Counter(), Counter(), Counter(), Counter(), Counter()
    first_paid: dict[str, date] = {}
    periods: set[tuple] = set()
    for _ in range(orders):
        day = end - timedelta(days=rnd.randrange(365))
        customer = f"c{rnd.randrange(customers)}"
        lines = [(s, rnd.randint(1, 3)) for s in rnd.sample(sorted(sku_product), rnd.randint(1, 3))]
        total = sum(price[s] * q for s, q in lines) + 1000
        sales[day].update(orders_placed=1, placed_amount=total)
        funnel[(day, "placed")] += 1
        for s, q in lines:
            day_sku[(day, s)].update(ordered_lines=1, ordered_units=q)
        if rnd.random() < 0.15:
            funnel[(day, "cancelled")] += 1
            cancels[(day, rnd.choice(["payment_timeout", "customer_cancelled"]))] += 1
            sales[day].update(orders_cancelled=1)
            continue
        method = rnd.choice(["alipay", "wechat_pay", "card"])
        sales[day].update(orders_paid=1, gmv=total)
        payments[(day, method, "payments")] += 1
        payments[(day, method, "amount")] += total
        for stage in ("awaiting_payment", "paid", "shipped", "completed"):
            funnel[(day, stage)] += 1
        for s, q in lines:
            day_sku[(day, s)].update(units=q, revenue=price[s] * q)
        first_paid[customer] = min(first_paid.get(customer, day), day)
        periods.update((customer, kind, period_start(day, kind)) for kind in ("day", "week", "month"))
        carrier = rnd.choice(["sf", "zto", "jd"])
        shipped[(day, carrier)] += 1
        delivery[(day, carrier, rnd.randint(12, 96))] += 1
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(Product), [{"product_id": p, "name": f"Product {p}", "category_id": f"cat{i % 20}",
                                        "category_name": f"Category {i % 20}"} for i, p in enumerate(products)])
        conn.execute(insert(Sku), [{"sku_id": s, "product_id": p, "stock": rnd.randint(0, 300)}
                                   for s, p in sku_product.items()])
        conn.execute(insert(DailySales), [{"day": d, **c} for d, c in sales.items()])
        conn.execute(insert(DailySku), [{"day": d, "sku_id": s, "units": 0, "revenue": 0, **c}
                                        for (d, s), c in day_sku.items()])
        month_sku: dict[tuple, Counter] = defaultdict(Counter)
        for (d, s), c in day_sku.items():
            month_sku[(period_start(d, "month"), s)].update(c)
        conn.execute(insert(MonthlySku), [{"month": m, "sku_id": s, "units": 0, "revenue": 0, **c}
                                          for (m, s), c in month_sku.items()])
        conn.execute(insert(DailyFunnel), [{"day": d, "stage": s, "orders": n} for (d, s), n in funnel.items()
                                           if s in STAGES])
        conn.execute(insert(DailyCancellations), [{"day": d, "reason": r, "orders": n}
                                                  for (d, r), n in cancels.items()])
        pay = defaultdict(dict)
        for (d, m, k), n in payments.items():
            pay[(d, m)][k] = n
        conn.execute(insert(DailyPayments), [{"day": d, "method": m, "failures": 0, **v} for (d, m), v in pay.items()])
        conn.execute(insert(DailyShipments), [{"day": d, "carrier": c, "shipped": n} for (d, c), n in shipped.items()])
        conn.execute(insert(DeliveryTimes), [{"day": d, "carrier": c, "hours": h, "parcels": n}
                                             for (d, c, h), n in delivery.items()])
        conn.execute(insert(DailyViews), [{"day": end - timedelta(days=i), "product_id": p,
                                           "views": rnd.randint(5, 500)}
                                          for i in range(365) for p in rnd.sample(products, 100)])
        conn.execute(insert(Customer), [{"customer_id": c, "first_paid_day": d, "tier": rnd.choice(["regular", "gold"])}
                                        for c, d in first_paid.items()])
        conn.execute(insert(CustomerPeriod), [{"customer_id": c, "kind": k, "start": s} for c, k, s in periods])
    engine.dispose()
    print(f"seeded {orders} orders: {len(day_sku)} SKU-days, {len(periods)} customer periods", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100, help="timed requests per report")
    args = parser.parse_args()
    platform = start_platform()
    try:
        end = date.today()
        seed(platform.databases["reports"], args.orders, end)
        token = requests.post(f"{platform.gateway}/api/auth/login", timeout=10, json={
            "email": platform.admin[0], "password": platform.admin[1]}).json()["access_token"]
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {token}"
        span = f"from={end - timedelta(days=364)}&to={end}"
        worst = 0.0
        for name, query in REPORTS:
            url = f"{platform.gateway}/api/reports/{name}?{span}&{query}"
            assert http.get(url, timeout=30).status_code == 200  # warm
            latencies = []
            started = time.perf_counter()
            for _ in range(args.requests):
                t0 = time.perf_counter()
                res = http.get(url, timeout=30)
                latencies.append(time.perf_counter() - t0)
                assert res.status_code == 200, res.text[:300]
            summary(f"reports {name} {query}".strip(), latencies, time.perf_counter() - started)
            worst = max(worst, percentile(latencies, 99))
        verdict = "PASS" if worst < 0.2 else "FAIL"
        print(f"worst p99 over a year of {args.orders} orders: {worst * 1000:.1f} ms (target < 200 ms): {verdict}")
    finally:
        platform.stop()


if __name__ == "__main__":
    main()
