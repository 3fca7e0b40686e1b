"""crm's own settings, read from the environment in this one place.

- `CRM_JWT_PRIVATE_KEY` (inline PEM) or `CRM_JWT_PRIVATE_KEY_FILE` (default
  MALL_DATA_DIR/keys/jwt_private.pem): signs access tokens. Only crm reads it.
- `CRM_ACCESS_TOKEN_TTL` (seconds, default 900), `CRM_REFRESH_TOKEN_TTL` (default 30 days).
- `CRM_LOGIN_MAX_FAILURES` (default 5) failed logins of one login from one client, then each
  further failure makes that client wait twice as long (1 s, 2 s, …) up to `CRM_LOGIN_LOCK_SECONDS`
  (default 900). Other clients, the owner's among them, are not held back.
- `CRM_POINTS_PER_YUAN` (default 1), `CRM_TIER_THRESHOLDS` (points for regular, silver, gold,
  diamond; default "0,1000,5000,20000").
- `CRM_REVIEW_EDIT_DAYS` (default 7): how long the author may edit a review.
- `MALL_ADMIN_EMAIL` / `MALL_ADMIN_PASSWORD`: the first admin, created when the app starts.
"""
from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mall_shared.config import data_dir


@dataclass(frozen=True)
class CrmConfig:
    jwt_private_key_file: Path
    jwt_private_key_inline: str = ""
    access_token_ttl: int = 900
    refresh_token_ttl: int = 30 * 24 * 3600
    login_max_failures: int = 5
    login_lock_seconds: int = 900
    points_per_yuan: int = 1
    tier_thresholds: tuple[int, int, int, int] = (0, 1000, 5000, 20000)
    review_edit_days: int = 7
    admin_email: str = ""
    admin_password: str = ""

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> CrmConfig:
        env = os.environ if environ is None else environ

        def get(name: str, default: str = "") -> str:
            return (env.get(name) or "").strip() or default

        thresholds = tuple(int(x) for x in get("CRM_TIER_THRESHOLDS", "0,1000,5000,20000").split(","))
        if len(thresholds) != 4 or list(thresholds) != sorted(set(thresholds)) or thresholds[0] != 0:
            raise ValueError("CRM_TIER_THRESHOLDS must be four increasing numbers starting at 0")
        return cls(
            jwt_private_key_file=Path(get("CRM_JWT_PRIVATE_KEY_FILE", str(data_dir() / "keys" / "jwt_private.pem"))),
            jwt_private_key_inline=get("CRM_JWT_PRIVATE_KEY"),
            access_token_ttl=int(get("CRM_ACCESS_TOKEN_TTL", "900")),
            refresh_token_ttl=int(get("CRM_REFRESH_TOKEN_TTL", str(30 * 24 * 3600))),
            login_max_failures=int(get("CRM_LOGIN_MAX_FAILURES", "5")),
            login_lock_seconds=int(get("CRM_LOGIN_LOCK_SECONDS", "900")),
            points_per_yuan=int(get("CRM_POINTS_PER_YUAN", "1")),
            tier_thresholds=thresholds,  # type: ignore[arg-type]
            review_edit_days=int(get("CRM_REVIEW_EDIT_DAYS", "7")),
            admin_email=get("MALL_ADMIN_EMAIL").lower(),
            admin_password=get("MALL_ADMIN_PASSWORD"),
        )

    def jwt_private_key(self) -> str:
        return self.jwt_private_key_inline or self.jwt_private_key_file.read_text()


@functools.cache
def config() -> CrmConfig:
    """The process's settings (loaded once, on first use, never at import)."""
    return CrmConfig.load()
