"""logistics' own settings, read from the environment in this one place.

- `LOGISTICS_CARRIER_KEYS`: each carrier's webhook HMAC key, `sf=KEY,zto=KEY,...`.
- `LOGISTICS_AUTO_CONFIRM_AFTER`: seconds after dispatch until receipt is confirmed for a parcel
  that neither the customer nor the carrier has signed off (default 10 days, as on Taobao).
- `LOGISTICS_AUTO_CONFIRM_INTERVAL`: how often the worker looks for such parcels (seconds).
- `LOGISTICS_RETURN_WINDOW`: seconds after an order completes during which its customer may ask
  to return it (default 7 days, 七天无理由退货).
- `LOGISTICS_URL`: where this service answers; the sandbox carrier pushes its updates there.
- `MALL_SANDBOX`: enables the sandbox carrier and per-carrier dev keys in MALL_DATA_DIR/keys.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from mall_shared.config import data_dir, flag, service_url

TEN_DAYS = 10 * 24 * 3600
SEVEN_DAYS = 7 * 24 * 3600


def _carrier_keys(raw: str) -> dict[str, str]:
    keys = {}
    for item in raw.split(","):
        carrier, sep, key = item.strip().partition("=")
        if sep and carrier.strip() and key.strip():
            keys[carrier.strip()] = key.strip()
    return keys


def _float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


@dataclass(frozen=True)
class LogisticsConfig:
    carrier_keys: dict[str, str] = field(default_factory=dict)
    auto_confirm_after: float = TEN_DAYS
    auto_confirm_interval: float = 60.0
    return_window: float = SEVEN_DAYS
    url: str = "http://127.0.0.1:8005"
    sandbox: bool = False
    keys_dir: Path = Path("var/keys")

    @classmethod
    def load(cls) -> LogisticsConfig:
        return cls(
            carrier_keys=_carrier_keys(os.environ.get("LOGISTICS_CARRIER_KEYS", "")),
            auto_confirm_after=_float("LOGISTICS_AUTO_CONFIRM_AFTER", TEN_DAYS),
            auto_confirm_interval=_float("LOGISTICS_AUTO_CONFIRM_INTERVAL", 60.0),
            return_window=_float("LOGISTICS_RETURN_WINDOW", SEVEN_DAYS),
            url=service_url("logistics"),
            sandbox=flag("MALL_SANDBOX"),
            keys_dir=data_dir() / "keys",
        )
