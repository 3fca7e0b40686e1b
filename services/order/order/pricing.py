"""The one pricing step: from the lines, the promotions in force, one coupon and the points a
customer spends to the order's breakdown and each line's share of every discount.

Pure: no database, no clock, no configuration read here; the caller gathers what applies
(services.py, cart.py) and every rule of how discounts combine is in `price()`, in order:

1. A time-limited SKU price (flash sale) replaces the line's unit price and takes no member
   discount; the other lines take the member tier's percent off (rounded down to the fen).
2. 满减: the best tier whose threshold the goods total after step 1 reaches, spread over all lines.
3. One coupon, on the lines in its scope: its threshold is on their amount after steps 1–2.
4. Points: `points_per_yuan` points are ¥1, at most `max_points_share` percent of the goods
   after steps 1–3.
5. The delivery fee is added at the end and never discounted.

Every discount is spread over its lines by largest remainder, so the shares sum to it exactly,
and no line's share exceeds what is left of the line: no line, and no total, goes negative.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import gcd

from mall_shared.api import BadRequest

ALL, CATEGORY, PRODUCT = "all", "category", "product"
AMOUNT, PERCENT = "amount", "percent"


class PricingRefused(BadRequest):
    status = 422


class BelowThreshold(PricingRefused):
    code = "below_threshold"


class CouponOutOfScope(PricingRefused):
    code = "coupon_out_of_scope"


class PointsExceedCap(PricingRefused):
    code = "points_exceed_cap"


class PointsNotWhole(PricingRefused):
    code = "points_not_whole_fen"


@dataclass(frozen=True)
class PriceLine:
    sku_id: str
    quantity: int
    unit_price: int  # catalog's price
    product_id: str | None = None
    category_id: str | None = None
    flash_price: int | None = None  # a flash-sale price in force for this line


@dataclass(frozen=True)
class Coupon:
    kind: str  # amount | percent
    value: int  # fen off (amount), or percent off (percent)
    threshold: int = 0  # 满X: the amount in scope must reach it
    max_off: int | None = None  # a percent coupon's cap, in fen
    scope: str = ALL
    scope_ids: tuple[str, ...] = ()  # category or product ids

    def covers(self, line: PriceLine) -> bool:
        if self.scope == CATEGORY:
            return line.category_id in self.scope_ids
        if self.scope == PRODUCT:
            return line.product_id in self.scope_ids
        return True


@dataclass(frozen=True)
class Rules:
    member_percent: int = 0  # the customer's tier's percent off
    reduction_tiers: tuple[tuple[int, int], ...] = ()  # 满减 (threshold, off), in fen
    points_per_yuan: int = 100
    max_points_share: int = 50  # percent of the goods after promotions and coupon


@dataclass(frozen=True)
class PricedLine:
    sku_id: str
    quantity: int
    unit_price: int
    line_total: int
    promotion: int  # flash sale or member price, and the line's share of 满减
    coupon: int
    points_discount: int
    points: int

    @property
    def discount(self) -> int:
        return self.promotion + self.coupon + self.points_discount

    @property
    def paid(self) -> int:
        return self.line_total - self.discount


@dataclass(frozen=True)
class Breakdown:
    lines: tuple[PricedLine, ...]
    subtotal: int
    promotion_discount: int
    coupon_discount: int
    points_used: int
    points_discount: int
    delivery_fee: int
    total: int
    max_points: int  # the most points this order could spend (the cap), for a client to offer


def allocate(total: int, weights: list[int]) -> list[int]:
    """`total` split in proportion to `weights`, by largest remainder: the shares sum to `total`
    exactly, and no share exceeds its weight when `total` ≤ sum(weights)."""
    whole = sum(weights)
    if total == 0 or whole == 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in by_remainder[:total - sum(shares)]:
        shares[i] += 1
    return shares


def points_unit(points_per_yuan: int) -> tuple[int, int]:
    """The smallest whole exchange: (points, fen) — 100 points = ¥1 gives (1, 1)."""
    common = gcd(points_per_yuan, 100)
    return points_per_yuan // common, 100 // common


def price(lines: list[PriceLine], rules: Rules, coupon: Coupon | None = None, points: int = 0,
          delivery_fee: int = 0) -> Breakdown:
    """The breakdown of an order (see the module's docstring for the rule)."""
    totals = [ln.unit_price * ln.quantity for ln in lines]
    promotion = [
        (ln.unit_price - min(ln.flash_price, ln.unit_price)) * ln.quantity if ln.flash_price is not None
        else t * rules.member_percent // 100
        for ln, t in zip(lines, totals, strict=True)]
    left = [t - p for t, p in zip(totals, promotion, strict=True)]

    reduction = max((off for threshold, off in rules.reduction_tiers if sum(left) >= threshold), default=0)
    reduction = min(reduction, sum(left))
    for i, share in enumerate(allocate(reduction, left)):
        promotion[i] += share
        left[i] -= share

    coupon_shares = _coupon_shares(lines, left, coupon)
    left = [a - c for a, c in zip(left, coupon_shares, strict=True)]

    unit_points, unit_fen = points_unit(rules.points_per_yuan)
    capacity = [a // unit_fen for a in left]
    max_units = min(sum(left) * rules.max_points_share // 100 // unit_fen, sum(capacity))
    if points % unit_points:
        raise PointsNotWhole(f"Points are spent in steps of {unit_points}", details={"step": unit_points})
    if points // unit_points > max_units:
        raise PointsExceedCap(f"At most {max_units * unit_points} points can be spent on this order",
                              details={"max_points": max_units * unit_points, "requested": points})
    point_units = allocate(points // unit_points, capacity)

    priced = tuple(
        PricedLine(sku_id=ln.sku_id, quantity=ln.quantity, unit_price=ln.unit_price, line_total=t,
                   promotion=p, coupon=c, points_discount=u * unit_fen, points=u * unit_points)
        for ln, t, p, c, u in zip(lines, totals, promotion, coupon_shares, point_units, strict=True))
    goods = sum(ln.paid for ln in priced)
    return Breakdown(
        lines=priced, subtotal=sum(totals), promotion_discount=sum(promotion), coupon_discount=sum(coupon_shares),
        points_used=points, points_discount=points // unit_points * unit_fen, delivery_fee=delivery_fee,
        total=goods + delivery_fee, max_points=max_units * unit_points)


def _coupon_shares(lines: list[PriceLine], left: list[int], coupon: Coupon | None) -> list[int]:
    if coupon is None:
        return [0] * len(lines)
    in_scope = [a if coupon.covers(ln) else 0 for ln, a in zip(lines, left, strict=True)]
    if not any(coupon.covers(ln) for ln in lines):
        raise CouponOutOfScope("The coupon applies to none of these goods")
    base = sum(in_scope)
    if base < coupon.threshold:
        raise BelowThreshold(f"The coupon needs {coupon.threshold} fen of goods in its scope; these come to {base}",
                             details={"threshold": coupon.threshold, "amount": base})
    off = coupon.value if coupon.kind == AMOUNT else base * coupon.value // 100
    if coupon.max_off is not None:
        off = min(off, coupon.max_off)
    return allocate(min(off, base), in_scope)


