"""Access tokens revoked before they expire (logout, password change), refused at the gateway.

crm records them; each gateway process fetches what is new every MALL_GATEWAY_REVOCATION_POLL
seconds (default 1) from crm's `/internal/revoked-tokens?after=<seq>` and keeps them until they
expire. While crm is unreachable the gateway keeps what it knows (crm refuses revoked tokens
itself in any case); a token is refused by its `jti` or by its login's `sid`.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

import requests

from mall_shared.auth import Identity

log = logging.getLogger(__name__)


class Revocations:
    def __init__(self, crm_url: str, timeouts: tuple[float, float]):
        self.url = crm_url + "/internal/revoked-tokens"
        self.timeouts = timeouts
        self.expiry: dict[str, float] = {}  # token id → when what it covers has expired (epoch)
        self.after = 0

    def refresh(self) -> None:
        while True:
            res = requests.get(self.url, params={"after": self.after}, timeout=self.timeouts)
            res.raise_for_status()
            items = res.json()["items"]
            for item in items:
                self.expiry[item["token_id"]] = datetime.fromisoformat(item["expires_at"]).timestamp()
                self.after = max(self.after, item["seq"])
            if len(items) < 1000:
                break
        now = time.time()
        self.expiry = {k: v for k, v in self.expiry.items() if v > now}

    def revoked(self, identity: Identity) -> bool:
        return any(token_id in self.expiry for token_id in identity.token_ids)

    def run(self, interval: float, stop: threading.Event) -> None:
        while not stop.wait(interval):
            try:
                self.refresh()
            except (requests.RequestException, ValueError, KeyError) as exc:
                log.debug("revoked tokens not refreshed: %r", exc)
