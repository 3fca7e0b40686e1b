"""What the pricing step needs, gathered from order's own tables (its copies of catalog's SKUs and
categories and crm's memberships, its campaigns and coupons), for the cart and for checkout alike:
both show and charge the same price because both come through `quote()`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mall_shared.api import BadRequest

from . import campaigns, coupons, pricing, readmodels
from .models import Campaign, CatalogSku, ProductCategory, WalletCoupon


class PointsExceedBalance(BadRequest):
    status, code = 422, "points_exceed_balance"


@dataclass(frozen=True)
class Quote:
    breakdown: pricing.Breakdown
    flash: dict[str, Campaign]  # the flash sale pricing a SKU
    coupon: WalletCoupon | None
    points_balance: int


def quote(session: Session, customer_id: str, items: list[dict], skus: dict[str, CatalogSku], now: datetime,
          authorization: str, delivery_fee: int = 0, coupon_id: str | None = None, points: int = 0) -> Quote:
    """The breakdown of `items` (each a `sku_id` and `quantity` of a known SKU) for this customer now."""
    member = readmodels.membership(session, customer_id, authorization, needed=points > 0)
    rules, flash = campaigns.rules_for(session, member.tier if member else None, [i["sku_id"] for i in items], now)
    coupon = coupons.usable(session, coupon_id, customer_id, now) if coupon_id else None
    balance = member.balance if member else 0
    if points > balance:
        raise PointsExceedBalance(f"You have {balance} points to spend", details={"balance": balance,
                                                                                  "requested": points})
    # Only a coupon scoped to categories needs them (order's copy, from ProductListed).
    categories = _categories(session, {skus[i["sku_id"]].product_id for i in items}) \
        if coupon and coupon.template.scope == pricing.CATEGORY else {}
    lines = []
    for item in items:
        sku = skus[item["sku_id"]]
        sale = flash.get(sku.sku_id)
        lines.append(pricing.PriceLine(sku_id=sku.sku_id, quantity=item["quantity"], unit_price=sku.price,
                                       product_id=sku.product_id, category_id=categories.get(sku.product_id),
                                       flash_price=sale.price if sale else None))
    breakdown = pricing.price(lines, rules, coupons.terms(coupon.template) if coupon else None, points, delivery_fee)
    return Quote(breakdown, flash, coupon, balance)


def _categories(session: Session, product_ids: set[str]) -> dict[str, str | None]:
    return dict(session.execute(select(ProductCategory.product_id, ProductCategory.category_id)
                                .where(ProductCategory.product_id.in_(product_ids))).all())
