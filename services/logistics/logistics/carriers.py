"""Talking with carriers: their webhook signatures and, in the sandbox, acting as their server.

A carrier signs each push with HMAC-SHA256 over the raw body, keyed with the key it shares
with us; the hex digest travels in `X-Carrier-Signature`. Keys come from
`LOGISTICS_CARRIER_KEYS`; in the sandbox a carrier without one gets a random dev key kept in
MALL_DATA_DIR/keys, so the web processes and the sandbox that signs share it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from pathlib import Path

import requests

from mall_shared.api import DomainError, Unavailable
from mall_shared.db import new_id, utcnow

from .config import LogisticsConfig

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Carrier-Signature"
TIMEOUT = (2, 5)  # connect, read


class CarrierPushFailed(DomainError):
    status, code, message = 502, "carrier_push_failed", "The notify endpoint refused the sandbox carrier's push"


def sign(key: str, body: bytes) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(key: str | None, body: bytes, signature: str | None) -> bool:
    if not key or not signature:
        return False
    # Compared as bytes: compare_digest refuses non-ASCII str, and a header may carry anything.
    return hmac.compare_digest(sign(key, body).encode(), signature.strip().lower().encode("utf-8", "replace"))


def _dev_key(folder: Path, carrier_id: str) -> str:
    """Read the carrier's dev key, creating it once; safe when several processes race."""
    path = folder / f"carrier_{carrier_id}.key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".carrier_{carrier_id}.{os.getpid()}.{secrets.token_hex(4)}"
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic; fails if another process got there first
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def carrier_key(cfg: LogisticsConfig, carrier_id: str) -> str | None:
    """The key a carrier signs with; None when it has none (its pushes are then refused)."""
    if carrier_id in cfg.carrier_keys:
        return cfg.carrier_keys[carrier_id]
    if cfg.sandbox:
        return _dev_key(cfg.keys_dir, carrier_id)
    return None


def push_sandbox_update(cfg: LogisticsConfig, carrier_id: str, tracking_number: str, status: str,
                        location: str | None = None, description: str | None = None) -> dict:
    """Act as the carrier's server: build its signed push and POST it to our notify endpoint over
    HTTP, so it meets the same verification as a real one."""
    key = carrier_key(cfg, carrier_id)
    body = json.dumps({
        "event_id": new_id(), "tracking_number": tracking_number, "status": status, "location": location,
        "description": description, "at": utcnow().isoformat().replace("+00:00", "Z"),
    }, ensure_ascii=False).encode()
    url = f"{cfg.url}/api/logistics/notify/{carrier_id}"
    try:
        res = requests.post(url, data=body, timeout=TIMEOUT, headers={
            "Content-Type": "application/json", SIGNATURE_HEADER: sign(key or "", body)})
    except requests.RequestException as exc:
        log.warning("sandbox push to %s failed: %r", url, exc)
        raise Unavailable("The notify endpoint could not be reached", code="logistics_unavailable") from exc
    if res.status_code >= 300:
        raise CarrierPushFailed(details={"status": res.status_code, "body": res.text[:500]})
    return res.json()
