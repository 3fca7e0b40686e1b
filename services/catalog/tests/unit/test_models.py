"""Catalog's rules, on plain objects: no database, no broker."""
import pytest

from catalog.models import Product, Sku
from mall_shared.api import Conflict


def product_with(*available: int) -> Product:
    product = Product(name="Runner", category_id="c", status="draft", delisted_reason=None)
    product.skus = [Sku(code=f"S{i}", price=100, on_hand=a, reserved=0, sold=0, status="listed")
                    for i, a in enumerate(available)]
    return product


def test_available_is_on_hand_less_reserved_and_sold():
    sku = Sku(on_hand=10, reserved=3, sold=2)
    assert sku.available == sku.stock == 5


def test_a_product_without_stock_cannot_be_listed():
    with pytest.raises(Conflict) as err:
        product_with(0, 0).put_on_sale()
    assert err.value.code == "no_sellable_sku"


def test_listing_a_product_with_stock_puts_it_on_sale_once():
    product = product_with(0, 3)
    assert product.put_on_sale() is True
    assert product.put_on_sale() is False
    assert product.status == "listed"


def test_a_manual_delisting_is_not_undone_by_running_out():
    product = product_with(3)
    product.put_on_sale()
    assert product.delist("manual") is True
    assert product.delist("out_of_stock") is False
    assert product.delisted_reason == "manual"


def test_running_out_delists_and_staff_can_then_keep_it_delisted():
    product = product_with(3)
    product.put_on_sale()
    assert product.delist("out_of_stock") is True
    assert product.delist("out_of_stock") is False
    assert product.delist("manual") is True
    assert product.delisted_reason == "manual"


def test_a_draft_is_not_delisted_for_lack_of_stock():
    assert product_with(0).delist("out_of_stock") is False


def test_sku_status_follows_what_is_available():
    sku = Sku(on_hand=1, reserved=0, sold=0, status="listed")
    assert sku.refresh_status() is None
    sku.reserved = 1
    assert sku.refresh_status() == "depleted" and sku.status == "delisted"
    sku.on_hand = 5
    assert sku.refresh_status() == "replenished" and sku.status == "listed"


def test_the_rating_summary_is_the_average_of_visible_reviews_to_two_decimals():
    assert Product(rating_count=0, rating_total=0).rating == {"count": 0, "average": None}
    assert Product(rating_count=3, rating_total=13).rating == {"count": 3, "average": 4.33}
