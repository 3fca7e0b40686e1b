"""Who a request comes from, for the rate limits: the peer's address, or, when the peer is a
proxy the gateway trusts (MALL_GATEWAY_TRUSTED_PROXIES, e.g. the web app calling the API for its
visitors), the address that proxy says it serves (X-Forwarded-For). Without it every storefront
visitor would share the web app's one address, and its login limit."""
from __future__ import annotations

from collections.abc import Callable

from flask import request


def client_key(trusted: frozenset[str]) -> Callable[[], str]:
    def key() -> str:
        peer = request.remote_addr or ""
        if peer not in trusted:
            return peer  # a client's own X-Forwarded-For is never believed
        chain = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
        # From the right: each trusted hop vouches for the address before it; the first untrusted is the client.
        for address in reversed(chain):
            if address not in trusted:
                return address
        return peer
    return key
