"""order's own settings, read from the environment in this one place.

- `ORDER_PAYMENT_TIMEOUT`: seconds an order may stay unpaid (PENDING or AWAITING_PAYMENT)
  after it was placed before the worker cancels it with reason `payment_timeout` (default 1800).
- `ORDER_TIMEOUT_CHECK_INTERVAL`: how often the worker looks for such orders (seconds, default 5).
- `CATALOG_URL`, `LOGISTICS_URL`, `CRM_URL`: where checkout asks for prices and stock, for the
  delivery method's fee, and for a saved address (mall_shared.config.service_url).
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from mall_shared.config import service_url


def _float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


@dataclass(frozen=True)
class OrderConfig:
    payment_timeout: float = 1800.0
    timeout_check_interval: float = 5.0
    catalog_url: str = "http://127.0.0.1:8001"
    logistics_url: str = "http://127.0.0.1:8005"
    crm_url: str = "http://127.0.0.1:8004"

    @classmethod
    def load(cls) -> OrderConfig:
        return cls(
            payment_timeout=_float("ORDER_PAYMENT_TIMEOUT", 1800.0),
            timeout_check_interval=_float("ORDER_TIMEOUT_CHECK_INTERVAL", 5.0),
            catalog_url=service_url("catalog"),
            logistics_url=service_url("logistics"),
            crm_url=service_url("crm"),
        )


@functools.cache
def config() -> OrderConfig:
    """The process's settings (loaded once, on first use, never at import)."""
    return OrderConfig.load()
