"""Shared bits of the benchmarks: the real platform (tests/e2e/harness.py), timing, printing."""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
sys.path.insert(0, str(ROOT / "scripts"))

from harness import Platform  # noqa: E402

# The services' own gunicorn settings (gunicorn_conf: 2 processes × 8 threads), not the test
# harness's 1 × 16: the figures make bench reports are those of a deployment.
DEPLOYED = {"WEB_CONCURRENCY": None, "GUNICORN_THREADS": None}


def start_platform(**kwargs) -> Platform:
    return Platform(Path(tempfile.mkdtemp(prefix="mall-bench-")), **kwargs).start()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary(name: str, latencies: list[float], elapsed: float) -> dict:
    row = {"name": name, "count": len(latencies), "per_second": len(latencies) / elapsed if elapsed else 0,
           "p50_ms": percentile(latencies, 50) * 1000, "p99_ms": percentile(latencies, 99) * 1000,
           "mean_ms": statistics.fmean(latencies) * 1000 if latencies else float("nan")}
    print(f"{name:<42} n={row['count']:>5}  {row['per_second']:8.1f}/s  p50 {row['p50_ms']:7.1f} ms  "
          f"p99 {row['p99_ms']:7.1f} ms", flush=True)
    return row


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.elapsed = time.perf_counter() - self.start
