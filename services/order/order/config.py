"""order's own settings, read from the environment in this one place.

- `ORDER_PAYMENT_TIMEOUT`: seconds an order may stay unpaid (PENDING or AWAITING_PAYMENT)
  after it was placed before the worker cancels it with reason `payment_timeout` (default 1800).
- `ORDER_TIMEOUT_CHECK_INTERVAL`: how often the worker looks for such orders (seconds, default 5).
- `ORDER_MEMBER_DISCOUNTS`: percent off per membership tier, e.g. `gold:5,diamond:8` (default);
  a member_price campaign may offer more while it runs.
- `ORDER_POINTS_PER_YUAN`: points that make ¥1 at checkout (default 100: one point is one fen).
- `ORDER_POINTS_MAX_SHARE`: at most this percent of the goods (after promotions and coupon) may
  be paid with points (default 50).
- `CATALOG_URL`, `LOGISTICS_URL`, `CRM_URL`: where checkout asks for prices and stock, for the
  delivery method's fee, and for a saved address (mall_shared.config.service_url).
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field

from mall_shared.config import service_url


def _float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def _percents(name: str, default: str) -> dict[str, int]:
    """`gold:5,diamond:8` → {"gold": 5, "diamond": 8}."""
    pairs = (item.split(":", 1) for item in (os.environ.get(name) or default).split(",") if item.strip())
    return {tier.strip(): int(percent) for tier, percent in pairs}


@dataclass(frozen=True)
class OrderConfig:
    payment_timeout: float = 1800.0
    timeout_check_interval: float = 5.0
    catalog_url: str = "http://127.0.0.1:8001"
    logistics_url: str = "http://127.0.0.1:8005"
    crm_url: str = "http://127.0.0.1:8004"
    member_discounts: dict[str, int] = field(default_factory=dict)
    points_per_yuan: int = 100
    points_max_share: int = 50

    @classmethod
    def load(cls) -> OrderConfig:
        return cls(
            payment_timeout=_float("ORDER_PAYMENT_TIMEOUT", 1800.0),
            timeout_check_interval=_float("ORDER_TIMEOUT_CHECK_INTERVAL", 5.0),
            catalog_url=service_url("catalog"),
            logistics_url=service_url("logistics"),
            crm_url=service_url("crm"),
            member_discounts=_percents("ORDER_MEMBER_DISCOUNTS", "gold:5,diamond:8"),
            points_per_yuan=int(os.environ.get("ORDER_POINTS_PER_YUAN") or 100),
            points_max_share=int(os.environ.get("ORDER_POINTS_MAX_SHARE") or 50),
        )


@functools.cache
def config() -> OrderConfig:
    """The process's settings (loaded once, on first use, never at import)."""
    return OrderConfig.load()
