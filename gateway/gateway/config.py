"""The gateway's settings, from the environment (docs/design.md, "Contract details")."""
from __future__ import annotations

import os
from dataclasses import dataclass

from mall_shared.config import SERVICES, Settings, service_url

# /api/<area>/... goes to the service that owns the area.
ROUTES = {"auth": "crm", "crm": "crm", "catalog": "catalog", "orders": "order", "cart": "order",
          "promotions": "order", "payments": "payment", "logistics": "logistics", "reports": "reports"}


@dataclass(frozen=True)
class GatewaySettings:
    services: dict[str, str]
    jwt_public_key: str
    connect_timeout: float
    read_timeout: float
    rate_limit: str
    login_rate_limit: str
    rate_limit_storage: str
    # Accounts one client may create; the counters' key prefix in a shared storage (Redis).
    register_rate_limit: str = "10 per hour"
    rate_limit_prefix: str = "mall-gateway"
    # How often (s) each process fetches newly revoked tokens from crm; 0 turns it off.
    revocation_poll: float = 1.0
    # The storefront and admin console (web/): every path outside /api, /openapi and the health checks.
    web_url: str = ""
    # Proxies whose X-Forwarded-For the rate limits believe (the web app's address).
    trusted_proxies: frozenset[str] = frozenset()

    @classmethod
    def load(cls) -> GatewaySettings:
        env = os.environ.get
        return cls(
            services={s: service_url(s) for s in SERVICES},
            jwt_public_key=Settings.load("gateway").jwt_public_key(),
            connect_timeout=float(env("MALL_GATEWAY_CONNECT_TIMEOUT") or 2),
            read_timeout=float(env("MALL_GATEWAY_TIMEOUT") or 10),
            rate_limit=env("MALL_GATEWAY_RATE_LIMIT") or "3000 per minute",
            login_rate_limit=env("MALL_GATEWAY_LOGIN_RATE_LIMIT") or "30 per minute",
            rate_limit_storage=env("MALL_GATEWAY_RATE_LIMIT_STORAGE") or "memory://",
            register_rate_limit=env("MALL_GATEWAY_REGISTER_RATE_LIMIT") or "10 per hour",
            revocation_poll=float(env("MALL_GATEWAY_REVOCATION_POLL") or 1),
            web_url=(env("WEB_URL") or "http://127.0.0.1:8007").rstrip("/"),
            trusted_proxies=frozenset(a.strip() for a in (env("MALL_GATEWAY_TRUSTED_PROXIES") or "").split(",")
                                      if a.strip()),
        )
