"""The pricing step's combination rule (pricing.py), one rule a test, and its invariants."""
import itertools

import pytest

from order.pricing import (
    BelowThreshold,
    Coupon,
    CouponOutOfScope,
    PointsExceedCap,
    PointsNotWhole,
    PriceLine,
    Rules,
    allocate,
    price,
)

SHOE = PriceLine("shoe", 2, 19900, product_id="p-shoe", category_id="c-shoes")
SOCK = PriceLine("sock", 3, 2990, product_id="p-sock", category_id="c-socks")
RULES = Rules()


def test_without_promotions_the_total_is_the_goods_and_the_fee():
    b = price([SHOE, SOCK], RULES, delivery_fee=1000)
    assert (b.subtotal, b.promotion_discount, b.coupon_discount, b.points_discount) == (48770, 0, 0, 0)
    assert b.total == 49770 and [ln.paid for ln in b.lines] == [39800, 8970]


def test_largest_remainder_shares_sum_exactly_and_favour_the_biggest_remainders():
    assert allocate(10, [1, 1, 1]) == [4, 3, 3]
    assert allocate(100, [3, 3, 3]) == [34, 33, 33]
    assert allocate(0, [5, 5]) == [0, 0] and allocate(7, [0, 0]) == [0, 0]
    assert allocate(5, [10, 0, 10]) == [3, 0, 2]


def test_a_member_tier_takes_its_percent_off_each_line_rounded_down():
    b = price([SHOE, SOCK], Rules(member_percent=5))
    assert [ln.promotion for ln in b.lines] == [1990, 448]  # 5% of 39800, of 8970 (448.5 → 448)
    assert b.promotion_discount == 2438


def test_a_flash_sale_price_replaces_the_unit_price_and_takes_no_member_discount():
    flash = PriceLine("shoe", 2, 19900, flash_price=9900)
    b = price([flash, SOCK], Rules(member_percent=5))
    assert b.lines[0].unit_price == 19900 and b.lines[0].promotion == 20000 and b.lines[0].paid == 19800
    assert b.lines[1].promotion == 448


def test_only_the_best_full_reduction_tier_reached_applies_after_line_promotions():
    tiers = ((30000, 3000), (50000, 6000), (40000, 4500))
    assert price([SHOE, SOCK], Rules(reduction_tiers=tiers)).promotion_discount == 4500  # 48770 ≥ 40000
    # gold 5% brings the goods to 46332: still 40000 → 4500 on top of the 2438
    assert price([SHOE, SOCK], Rules(member_percent=5, reduction_tiers=tiers)).promotion_discount == 2438 + 4500
    assert price([SOCK], Rules(reduction_tiers=tiers)).promotion_discount == 0


def test_a_coupon_applies_after_promotions_and_its_threshold_is_on_the_amount_after_them():
    coupon = Coupon("amount", 3000, threshold=30000)
    b = price([SHOE, SOCK], RULES, coupon)
    assert b.coupon_discount == 3000 and sum(ln.coupon for ln in b.lines) == 3000
    with pytest.raises(BelowThreshold) as refused:  # 39800 − 20000 (flash) = 19800 + 8970 < 30000
        price([PriceLine("shoe", 2, 19900, flash_price=9900), SOCK], RULES, coupon)
    assert refused.value.details == {"threshold": 30000, "amount": 28770}


def test_a_percent_coupon_is_capped():
    assert price([SHOE, SOCK], RULES, Coupon("percent", 10)).coupon_discount == 4877
    assert price([SHOE, SOCK], RULES, Coupon("percent", 10, max_off=2000)).coupon_discount == 2000


def test_a_scoped_coupon_takes_off_only_its_lines_and_counts_only_them_for_its_threshold():
    by_category = Coupon("amount", 1000, threshold=5000, scope="category", scope_ids=("c-socks",))
    b = price([SHOE, SOCK], RULES, by_category)
    assert [ln.coupon for ln in b.lines] == [0, 1000]
    by_product = Coupon("amount", 1000, threshold=10000, scope="product", scope_ids=("p-sock",))
    with pytest.raises(BelowThreshold):
        price([SHOE, SOCK], RULES, by_product)
    with pytest.raises(CouponOutOfScope):
        price([SHOE], RULES, by_category)


def test_a_coupon_never_takes_off_more_than_the_goods_it_covers():
    b = price([SOCK], RULES, Coupon("amount", 100000), delivery_fee=800)
    assert b.coupon_discount == 8970 and b.total == 800 and b.lines[0].paid == 0


def test_points_are_spent_at_the_rate_up_to_the_cap_of_the_goods_after_discounts():
    b = price([SHOE, SOCK], RULES, Coupon("amount", 3000, threshold=30000), points=2000, delivery_fee=1000)
    assert (b.points_used, b.points_discount) == (2000, 2000)
    # 2000 points over what is left of the lines after the coupon, 37352 and 8418
    assert [ln.points for ln in b.lines] == [1632, 368] and sum(ln.points_discount for ln in b.lines) == 2000
    assert b.total == 48770 - 3000 - 2000 + 1000
    assert b.max_points == (48770 - 3000) // 2
    with pytest.raises(PointsExceedCap) as refused:
        price([SHOE, SOCK], RULES, points=48770 // 2 + 1)
    assert refused.value.details["max_points"] == 24385


def test_the_points_rate_and_cap_are_settings():
    ten_fen_a_point = Rules(points_per_yuan=10, max_points_share=100)
    b = price([SOCK], ten_fen_a_point, points=897)
    assert b.points_discount == 8970 and b.total == 0
    with pytest.raises(PointsNotWhole):
        price([SOCK], Rules(points_per_yuan=1000), points=15)  # 10 points are one fen
    assert price([SOCK], Rules(points_per_yuan=1000), points=20).points_discount == 2


def test_the_delivery_fee_is_never_discounted():
    b = price([SOCK], Rules(member_percent=50, reduction_tiers=((100, 99999),)), Coupon("amount", 5000),
              delivery_fee=1200)
    assert b.total == 1200 and b.delivery_fee == 1200


@pytest.mark.parametrize("member, tiers, coupon, points", list(itertools.product(
    (0, 5, 33), ((), ((10000, 1000), (40000, 4999))), (None, Coupon("percent", 17, max_off=5001),
                                                     Coupon("amount", 2999, scope="product", scope_ids=("p-sock",))),
    (0, 1, 7777))))
def test_every_combination_keeps_the_breakdown_exact_and_no_line_negative(member, tiers, coupon, points):
    lines = [SHOE, SOCK, PriceLine("cap", 1, 1, product_id="p-cap"), PriceLine("hat", 7, 333, flash_price=111)]
    b = price(lines, Rules(member_percent=member, reduction_tiers=tiers), coupon, points, delivery_fee=600)
    assert b.total == b.subtotal - b.promotion_discount - b.coupon_discount - b.points_discount + b.delivery_fee
    assert sum(ln.paid for ln in b.lines) + b.delivery_fee == b.total
    assert sum(ln.promotion for ln in b.lines) == b.promotion_discount
    assert sum(ln.coupon for ln in b.lines) == b.coupon_discount
    assert sum(ln.points for ln in b.lines) == b.points_used == points
    assert all(0 <= ln.paid <= ln.line_total for ln in b.lines)
