"""Limits on what one customer may hold unpaid: placing an order reserves stock until it is paid
or times out, so without a cap one customer could hold a whole SKU with unpaid orders, again
and again (囤货/恶意占库存). Checked at checkout, one checkout per customer at a time.

- `ORDER_MAX_UNPAID_ORDERS` (default 10): orders PENDING or AWAITING_PAYMENT at once.
- `ORDER_MAX_UNPAID_PER_SKU` (default 20): units of one SKU across those orders and this one.
"""
from __future__ import annotations

import os

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mall_shared.api import Conflict
from mall_shared.db import lock

from .models import AWAITING_PAYMENT, PENDING, Order, OrderLine

UNPAID = (PENDING, AWAITING_PAYMENT)


class TooManyUnpaidOrders(Conflict):
    code, message = "too_many_unpaid_orders", "Pay or cancel an unpaid order before placing another"


class UnpaidQuantityExceeded(Conflict):
    code, message = "unpaid_quantity_exceeded", "Too many units of this SKU in unpaid orders"


def caps() -> tuple[int, int]:
    return (int(os.environ.get("ORDER_MAX_UNPAID_ORDERS") or 10),
            int(os.environ.get("ORDER_MAX_UNPAID_PER_SKU") or 20))


def check_unpaid_limits(session: Session, customer_id: str, items: list[dict]) -> None:
    """Refuse an order that would take the customer past either cap (409 with the numbers)."""
    max_orders, max_per_sku = caps()
    lock(session, "unpaid", customer_id)  # two checkouts of one customer must not both see room for one more
    unpaid = session.scalar(select(func.count()).select_from(Order).where(
        Order.customer_id == customer_id, Order.status.in_(UNPAID)))
    if unpaid >= max_orders:
        raise TooManyUnpaidOrders(details={"unpaid_orders": unpaid, "limit": max_orders})
    wanted = {i["sku_id"]: i["quantity"] for i in items}
    held = dict(session.execute(
        select(OrderLine.sku_id, func.sum(OrderLine.quantity)).join(Order)
        .where(Order.customer_id == customer_id, Order.status.in_(UNPAID), OrderLine.sku_id.in_(wanted))
        .group_by(OrderLine.sku_id)).all())
    for sku_id, quantity in wanted.items():
        if int(held.get(sku_id) or 0) + quantity > max_per_sku:
            raise UnpaidQuantityExceeded(details={"sku_id": sku_id, "unpaid": int(held.get(sku_id) or 0),
                                                  "requested": quantity, "limit": max_per_sku})
