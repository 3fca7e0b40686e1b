"""The one call logistics makes to another service: reading an order when logistics' own copy
has not caught up yet (staff processed the order and ship it at once, before our worker has
handled the OrderStatusChanged). Events stay the source of truth; this only closes that window."""
from __future__ import annotations

import logging

import requests

from mall_shared.config import service_url

log = logging.getLogger(__name__)
TIMEOUTS = (2, 5)


def get_order(order_id: str, authorization: str) -> dict | None:
    """The order as the caller (staff) sees it, or None when it cannot be read (unknown, down, slow)."""
    try:
        res = requests.get(f"{service_url('order')}/api/orders/{order_id}",
                           headers={"Authorization": authorization}, timeout=TIMEOUTS)
    except requests.RequestException as exc:
        log.warning("order service unreachable reading %s: %s", order_id, exc)
        return None
    if res.status_code != 200:
        return None
    try:
        return res.json()
    except ValueError:
        return None
