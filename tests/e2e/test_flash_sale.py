"""A flash sale on real processes: 50 units, 500 concurrent orders from many customers through
the gateway. Exactly 50 are reserved, 450 are refused or cancelled cleanly, stock never goes
negative, and on-hand = available + reserved + sold. Once with one catalog worker, once with two
consuming the same queue."""
from scenarios import flash_sale

UNITS, ORDERS, CUSTOMERS = 50, 500, 25


def check(result):
    assert result["refusal_codes"] <= {"insufficient_stock", "sku_unavailable"}
    assert result["reserved"] == UNITS
    assert result["cancelled"] + result["refused"] == ORDERS - UNITS
    sku = result["sku"]
    assert sku["stock"] == 0 and sku["reserved"] == UNITS and sku["sold"] == 0
    assert sku["on_hand"] == sku["stock"] + sku["reserved"] + sku["sold"]
    assert sku["status"] == "delisted"


def test_a_flash_sale_reserves_exactly_the_stock_there_is(platform, demo):
    check(flash_sale(platform, demo, UNITS, ORDERS, CUSTOMERS))


def test_a_flash_sale_with_two_catalog_workers_still_never_oversells(platform, demo):
    if platform.worker_copies["catalog"] < 2:
        platform.add_worker("catalog")
    check(flash_sale(platform, demo, UNITS, ORDERS, CUSTOMERS))
