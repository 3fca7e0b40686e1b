"""The one call a service makes to another to close a read model's window: reading an order as
the caller sees it, when the service's own copy has not caught up yet (payment: the customer saw
AWAITING_PAYMENT before our worker handled StockReserved; logistics: staff processed the order and
ship it at once, before our worker handled the OrderStatusChanged). Events stay the source of truth."""
from __future__ import annotations

import logging

import requests

from .config import service_url

log = logging.getLogger(__name__)
TIMEOUTS = (2, 5)


def get_order(order_id: str, authorization: str) -> dict | None:
    """The order as the caller sees it (with the caller's own token), or None when it cannot be
    read (unknown, not theirs, order down or slow)."""
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
