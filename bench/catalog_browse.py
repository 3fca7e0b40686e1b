"""Catalog browsing through the gateway at 10,000 and 100,000 products: searches per second and
p99, to show that the cost stays flat as the catalog grows.

    python bench/catalog_browse.py [--requests 1500] [--concurrency 8]

Starts the real platform (gunicorn web processes, workers, gateway) on fresh PostgreSQL
databases and RabbitMQ, seeds products straight into catalog's database, then browses
anonymously as a storefront would: newest page, keyword, category tree + price sort, price
range in stock, product detail.
"""
from __future__ import annotations

import argparse
import json
import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import requests
from sqlalchemy import create_engine, insert, text

from catalog.models import Base
from common import Timer, start_platform, summary

WORDS = ["runner", "trail", "court", "street", "classic", "canvas", "leather", "knit", "boost", "air", "glide",
         "swift", "storm", "peak", "urban", "retro", "flex", "cloud", "terra", "nova"]


def seed(db_url: str, total: int, categories: list[str]) -> list[str]:
    """Top the catalog up to `total` listed products (2 SKUs each); return some product ids."""
    t = Base.metadata.tables
    engine = create_engine(db_url)
    with engine.begin() as conn:
        have = conn.execute(text("SELECT count(*) FROM products")).scalar()
        now = datetime.now(timezone.utc)
        rng = random.Random(have)
        for start in range(have, total, 5000):
            n = min(5000, total - start)
            products, skus = [], []
            for i in range(start, start + n):
                pid = str(uuid.uuid4())
                prices = [rng.randint(50, 2000) * 100 for _ in range(2)]
                products.append({"id": pid, "name": f"{rng.choice(WORDS)} {rng.choice(WORDS)} {i}", "description": "",
                                 "category_id": rng.choice(categories), "brand": rng.choice(WORDS).title(),
                                 "images": [], "attributes": {}, "status": "listed", "sales": rng.randint(0, 500),
                                 "min_price": min(prices), "created_at": now - timedelta(seconds=i),
                                 "updated_at": now})
                for size, price in zip((41, 42), prices, strict=True):
                    skus.append({"id": str(uuid.uuid4()), "product_id": pid, "code": f"B{i}-{size}",
                                 "attributes": {"size": str(size)}, "price": price,
                                 "currency": "CNY", "on_hand": rng.randint(1, 20), "reserved": 0, "sold": 0,
                                 "status": "listed", "low_stock_threshold": 0})
            conn.execute(insert(t["products"]), products)
            conn.execute(insert(t["skus"]), skus)
        ids = [r[0] for r in conn.execute(text("SELECT id FROM products ORDER BY random() LIMIT 200"))]
    # Measure a settled database, not autovacuum and the checkpoint catching up with the bulk load.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE products"))
        conn.execute(text("VACUUM ANALYZE skus"))
        conn.execute(text("CHECKPOINT"))
    engine.dispose()
    return ids


def categories(db_url: str) -> tuple[list[str], list[str]]:
    """Four top categories with four subcategories each: (top ids, subcategory ids)."""
    tops = [str(uuid.uuid4()) for _ in range(4)]
    cats = [{"id": c, "name": f"Top {i}", "parent_id": None, "sort_order": i} for i, c in enumerate(tops)]
    subs = [{"id": str(uuid.uuid4()), "name": f"Sub {i}", "parent_id": tops[i % 4], "sort_order": i}
            for i in range(16)]
    engine = create_engine(db_url)
    with engine.begin() as conn:
        now = datetime.now(timezone.utc)
        conn.execute(insert(Base.metadata.tables["categories"]), [{**c, "created_at": now} for c in cats + subs])
    engine.dispose()
    return tops, [c["id"] for c in subs]


def browse(gateway: str, n: int, concurrency: int, tops: list[str], product_ids: list[str]) -> dict:
    rng = random.Random(7)
    paths = []
    kinds = ["newest page", "keyword", "category + price sort", "price range in stock", "product detail"]
    for i in range(n):
        kind = i % 5
        if kind == 0:
            paths.append(f"/api/catalog/products?page={rng.randint(1, 5)}&per_page=20")
        elif kind == 1:
            paths.append(f"/api/catalog/products?q={rng.choice(WORDS)}%20{rng.choice(WORDS)}")
        elif kind == 2:
            paths.append(f"/api/catalog/products?category_id={rng.choice(tops)}&sort=price_asc")
        elif kind == 3:
            low = rng.randint(1, 15) * 1000
            paths.append(f"/api/catalog/products?min_price={low}&max_price={low + 5000}&in_stock=true")
        else:
            paths.append(f"/api/catalog/products/{rng.choice(product_ids)}")
    sessions = {}

    def get(path: str) -> float:
        import threading
        import time

        s = sessions.setdefault(threading.get_ident(), requests.Session())
        started = time.perf_counter()
        res = s.get(gateway + path, timeout=30)
        if res.status_code != 200:
            raise RuntimeError(f"{path} -> {res.status_code} {res.text[:200]}")
        return time.perf_counter() - started

    for p in paths[:200]:  # warm up connections and caches
        get(p)
    with Timer() as timer, ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(get, paths))
    by_kind = {k: sorted(latencies[i::5]) for i, k in enumerate(kinds)}
    for k, values in by_kind.items():
        print(f"   {k:<24} p50 {values[len(values) // 2] * 1000:6.1f} ms  "
              f"p99 {values[min(len(values) - 1, int(len(values) * 0.99))] * 1000:6.1f} ms")
    return {"latencies": latencies, "elapsed": timer.elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--count-limit", default="", help="MALL_LIST_COUNT_LIMIT for the services")
    args = parser.parse_args()
    env = {"WEB_CONCURRENCY": "2"} | ({"MALL_LIST_COUNT_LIMIT": args.count_limit} if args.count_limit else {})
    platform = start_platform(extra_env=env)
    try:
        db_url = platform.databases["catalog"]
        tops, subs = categories(db_url)
        rows = []
        for size in (int(s) for s in args.sizes.split(",")):
            ids = seed(db_url, size, subs)
            result = browse(platform.gateway, args.requests, args.concurrency, tops, ids)
            rows.append({"products": size, **summary(f"browse at {size:,} products", result["latencies"],
                                                     result["elapsed"])})
        if len(rows) > 1:
            first, last = rows[0], rows[-1]
            print(f"ratio {last['products'] // first['products']}x products: throughput "
                  f"{last['per_second'] / first['per_second']:.2f}x, p99 {last['p99_ms'] / first['p99_ms']:.2f}x")
        print(json.dumps(rows))
    finally:
        platform.stop()


if __name__ == "__main__":
    main()
