"""The flash sale through the gateway: orders per second and seconds until every order is
decided (reserved, or refused/cancelled), with one and with two catalog workers.

    python bench/flash_sale.py [--units 50] [--orders 500] [--customers 25]
"""
from __future__ import annotations

import argparse
import json

from common import ROOT, start_platform
from scenarios import flash_sale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--customers", type=int, default=25)
    args = parser.parse_args()
    import importlib.util

    spec = importlib.util.spec_from_file_location("demo", ROOT / "scripts" / "demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    platform = start_platform()
    rows = []
    try:
        for workers in (1, 2):
            if workers == 2:
                platform.add_worker("catalog")
            r = flash_sale(platform, demo, args.units, args.orders, args.customers)
            assert r["reserved"] == args.units, r
            row = {"catalog_workers": workers, "orders": r["orders"], "reserved": r["reserved"],
                   "refused_up_front": r["refused"], "cancelled_by_saga": r["cancelled"],
                   "orders_per_second": round(r["orders"] / r["placed_seconds"], 1),
                   "seconds_until_all_decided": round(r["decided_seconds"], 2)}
            print(f"flash sale, {workers} catalog worker(s): {row['orders']} orders in {r['placed_seconds']:.2f}s "
                  f"= {row['orders_per_second']}/s; all decided after {row['seconds_until_all_decided']}s; "
                  f"{row['reserved']} reserved, {row['refused_up_front']} refused at checkout, "
                  f"{row['cancelled_by_saga']} cancelled by the saga", flush=True)
            rows.append(row)
    finally:
        platform.stop()
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
