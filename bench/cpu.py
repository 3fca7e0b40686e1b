"""CPU per order: how many CPU milliseconds each process of the platform (and PostgreSQL and
RabbitMQ) spends on one order of a checkout burst, from /proc. On a busy 2-core machine this
is the steady figure to compare changes by: throughput and latency move with the neighbours'
load, the CPU an order costs does not.

    python bench/cpu.py [--orders 1000] [--clients 32] [--promo] [--profile order,reports-worker-0]

--promo (or BENCH_PROMO=1): every order spends a coupon of its own and 100 points (run.py's).

--profile records the named processes with py-spy during the burst (collapsed stacks under
bench/results/profile-<name>.txt, a line per stack with its sample count, for flamegraph tools).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from run import RESULTS, customers, load_demo, new_sku, order_body, post_orders, promo_bodies, settle

from common import DEPLOYED, start_platform
from watcher import OrderWatcher

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def process_tree(pid: int) -> list[int]:
    tree = [pid]
    for child in children(pid):
        tree += process_tree(child)
    return tree


def by_name(*names: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in names:
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def snapshot(platform) -> dict[str, float]:
    """CPU seconds so far: each platform process with its children, PostgreSQL and RabbitMQ."""
    shot = {name: sum(cpu_seconds(p) for p in process_tree(proc.pid)) for name, proc in platform.procs.items()}
    shot["postgres"] = sum(cpu_seconds(p) for p in by_name("postgres"))
    shot["rabbitmq"] = sum(cpu_seconds(p) for p in by_name("beam.smp", "erl_child_setup"))
    return shot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--profile", default="", help="comma-separated process names to record with py-spy")
    parser.add_argument("--promo", action="store_true", default=os.environ.get("BENCH_PROMO") == "1",
                        help="every order with a coupon and points")
    args = parser.parse_args()
    demo = load_demo()
    platform = start_platform(extra_env=DEPLOYED)
    watcher = OrderWatcher(platform.broker_url).start()
    try:
        admin = demo.login(platform.gateway, *platform.admin)
        sku_id = new_sku(demo, admin, stock=10 * args.orders + 1000)
        people = customers(demo, platform.gateway, args.clients)
        body = promo_bodies(demo, admin, people, sku_id, args.orders + 4 * args.clients, 0) if args.promo \
            else order_body(demo, sku_id)
        warm = post_orders(platform.gateway, people, body, 4 * args.clients, args.clients)
        watcher.wait([r[3]["id"] for r in warm], timeout=120)
        settle(platform)
        before = snapshot(platform)
        spies = [subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw",
                                   "--subprocesses", "--nonblocking", "--rate", "200",
                                   "-o", str(RESULTS / f"profile-{name}.txt"), "--pid", str(platform.procs[name].pid)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for name in filter(None, args.profile.split(","))]
        results = post_orders(platform.gateway, people, body, args.orders, args.clients)
        assert all(r[2] == 201 for r in results), [r for r in results if r[2] != 201][:3]
        watcher.wait([r[3]["id"] for r in results], timeout=300)
        settle(platform)  # every subscriber (reports too) has handled the burst
        after = snapshot(platform)
        for spy in spies:
            spy.send_signal(2)  # py-spy writes its file on SIGINT
            spy.wait(30)
    finally:
        watcher.stop()
        platform.stop()
    per_order = {name: (after[name] - before.get(name, 0)) * 1000 / args.orders for name in after}
    for name, ms in sorted(per_order.items(), key=lambda kv: -kv[1]):
        if ms >= 0.05:
            print(f"{name:<22} {ms:6.2f} ms/order")
    print(f"{'total':<22} {sum(per_order.values()):6.2f} ms/order")
    mall = sum(ms for name, ms in per_order.items() if name not in ("postgres", "rabbitmq"))
    print(f"{'mall processes':<22} {mall:6.2f} ms/order (PostgreSQL and RabbitMQ count the machine's other users too)")


if __name__ == "__main__":
    main()
