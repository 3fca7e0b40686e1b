"""The shopping cart: kept by order, priced live by the same pricing step as checkout.

A line whose SKU sold out or left sale stays in the cart, flagged; it is left out of the price
and checkout refuses it until the customer removes it (nothing is silently dropped).
"""
from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from mall_shared.api import Conflict, DomainError, NotFound
from mall_shared.db import conflict_insert, utcnow

from . import coupons, readmodels
from .models import CartItem, CatalogSku, Order
from .quote import quote
from .services import check_delivery, place_order, saved_address

MAX_LINES = 50


class CartEmpty(Conflict):
    code, message = "cart_empty", "The cart is empty"


class CartFull(Conflict):
    code, message = "cart_full", f"A cart holds at most {MAX_LINES} different SKUs"


class SkuNotFound(NotFound):
    code, message = "sku_not_found", "No such SKU"


def state(sku: CatalogSku | None) -> str:
    if sku is None:
        return "unknown"
    if sku.sold_out:
        return "sold_out"
    return "on_sale" if sku.sellable else "delisted"


def _items(session: Session, customer_id: str) -> list[CartItem]:
    return list(session.scalars(select(CartItem).where(CartItem.customer_id == customer_id)
                                .order_by(CartItem.added_at, CartItem.sku_id)))


def _contents(session: Session, customer_id: str) -> tuple[list[CartItem], dict[str, CatalogSku], list[dict]]:
    """The cart's items, their SKUs (order's copy) and the items that can be sold now."""
    items = _items(session, customer_id)
    skus = readmodels.skus(session, [i.sku_id for i in items]) if items else {}
    sellable = [{"sku_id": i.sku_id, "quantity": i.quantity} for i in items if state(skus.get(i.sku_id)) == "on_sale"]
    return items, skus, sellable


def set_item(session: Session, customer_id: str, sku_id: str, quantity: int) -> None:
    """Put `quantity` of a SKU in the cart (replacing what was there)."""
    if sku_id not in readmodels.skus(session, [sku_id]):
        raise SkuNotFound(details={"sku_id": sku_id})
    count = session.scalar(select(func.count()).select_from(CartItem).where(
        CartItem.customer_id == customer_id, CartItem.sku_id != sku_id))
    if count >= MAX_LINES:
        raise CartFull()
    stmt = conflict_insert(session, CartItem.__table__).values(customer_id=customer_id, sku_id=sku_id,
                                                               quantity=quantity, added_at=utcnow())
    session.execute(stmt.on_conflict_do_update(index_elements=["customer_id", "sku_id"],
                                               set_={"quantity": stmt.excluded.quantity}))


def remove_item(session: Session, customer_id: str, sku_id: str) -> None:
    """Take a SKU out of the cart (nothing happens if it was not there)."""
    session.execute(delete(CartItem).where(CartItem.customer_id == customer_id, CartItem.sku_id == sku_id))


def view_cart(session: Session, customer_id: str, args: dict, authorization: str) -> dict:
    """The cart with live prices, each line's state, and the breakdown for the chosen delivery,
    coupon and points (an unusable coupon or too many points is a 4xx, as at checkout)."""
    items, skus, sellable = _contents(session, customer_id)
    fee = _delivery_fee(session, customer_id, args, authorization)
    priced = quote(session, customer_id, sellable, skus, utcnow(), authorization, fee, args.get("coupon_id"),
                   args.get("points", 0))
    by_sku = {ln.sku_id: ln for ln in priced.breakdown.lines}
    lines = []
    for item in items:
        sku, line = skus.get(item.sku_id), by_sku.get(item.sku_id)
        sale = priced.flash.get(item.sku_id)
        lines.append({
            "sku_id": item.sku_id, "quantity": item.quantity, "state": state(sku),
            "available": line is not None, "product_id": sku.product_id if sku else None,
            "product_name": sku.product_name if sku else None, "sku_code": sku.code if sku else None,
            "attributes": (sku.attributes or {}) if sku else {}, "unit_price": sku.price if sku else None,
            "flash_price": sale.price if sale else None, "campaign_id": sale.id if sale else None,
            "line_total": line.line_total if line else None, "discount": line.discount if line else None,
            "paid": line.paid if line else None, "points": line.points if line else None})
    b = priced.breakdown
    return {"lines": lines, "subtotal": b.subtotal, "promotion_discount": b.promotion_discount,
            "coupon_discount": b.coupon_discount, "coupon_id": args.get("coupon_id"), "points_used": b.points_used,
            "points_discount": b.points_discount, "delivery_fee": b.delivery_fee, "total": b.total,
            "max_points": min(b.max_points, priced.points_balance), "points_balance": priced.points_balance,
            "delivery_method_id": args.get("delivery_method_id"), "currency": "CNY"}


def _delivery_fee(session: Session, customer_id: str, args: dict, authorization: str) -> int:
    if not args.get("delivery_method_id"):
        return 0
    method = readmodels.delivery_method(session, args["delivery_method_id"])
    address = saved_address(session, customer_id, args["address_id"], authorization) if args.get("address_id") else None
    check_delivery(method, args["delivery_method_id"], address["province"] if address else None)
    return method.fee


def checkout_cart(session: Session, customer_id: str, data: dict, authorization: str) -> Order:
    """Place the order of everything in the cart; the cart empties in the same transaction, so
    it empties only if the order is placed."""
    items = [{"sku_id": i.sku_id, "quantity": i.quantity} for i in _items(session, customer_id)]
    if not items:
        raise CartEmpty()
    order = place_order(session, customer_id, items, data["delivery_method_id"],
                        shipping_address=data.get("shipping_address"), address_id=data.get("address_id"),
                        authorization=authorization, coupon_id=data.get("coupon_id"), points=data.get("points", 0))
    session.execute(delete(CartItem).where(CartItem.customer_id == customer_id))
    return order


def wallet_for_cart(session: Session, customer_id: str, authorization: str) -> list[dict]:
    """The customer's coupons, each saying whether it applies to the cart as it is now, and what
    it would take off it."""
    _, skus, sellable = _contents(session, customer_id)
    now = utcnow()
    answer = []
    for coupon in coupons.wallet(session, customer_id):
        applies, off, why = False, None, None
        if coupon.status == coupons.AVAILABLE and sellable:
            try:
                off = quote(session, customer_id, sellable, skus, now, authorization,
                            coupon_id=coupon.id).breakdown.coupon_discount
                applies = True
            except DomainError as exc:
                why = exc.code
        elif coupon.status == coupons.AVAILABLE:
            why = CartEmpty.code
        answer.append({"coupon": coupon, "applies_to_cart": applies, "cart_discount": off, "reason": why})
    return answer

