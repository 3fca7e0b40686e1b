"""Checkout from order's own copies of catalog's SKUs, logistics' delivery methods and crm's
saved addresses: fed by their events (each delivered twice by `shop.send`), newest version wins,
and no call to another service once a copy has arrived."""
import uuid

from mall_shared.events import AddressDeleted, AddressSaved, DeliveryMethodChanged, MembershipChanged, SkuChanged

from .conftest import ADDRESS


def sku_changed(sku_id: str, version: int, **changes) -> SkuChanged:
    state = {"sku_id": sku_id, "product_id": "p-1", "product_name": "Runner", "code": f"RUN-{sku_id[:6]}",
             "price": 39900, "status": "listed", "product_status": "listed", "sold_out": False,
             "version": version, "attributes": {"size": "42"}}
    return SkuChanged(**(state | changes))


def method_changed(version: int, **changes) -> DeliveryMethodChanged:
    state = {"delivery_method_id": "standard", "name": "Standard", "fee": 1000, "active": True, "version": version}
    return DeliveryMethodChanged(**(state | changes))


def test_with_its_copies_caught_up_checkout_calls_no_other_service(shop, fake):
    sku_id = str(uuid.uuid4())
    shop.send(sku_changed(sku_id, 1, price=25900))
    shop.send(method_changed(1, fee=800))
    shop.send(MembershipChanged(customer_id=shop.customer_id, tier="regular", balance=0, version=1))
    fake.down |= {"catalog", "logistics", "crm"}
    order = shop.place((sku_id, 2))
    assert (order["subtotal"], order["delivery_fee"], order["total"]) == (51800, 800, 52600)
    assert order["lines"][0]["unit_price"] == 25900 and order["lines"][0]["sku_code"] == f"RUN-{sku_id[:6]}"
    assert fake.calls == []


def test_a_late_or_repeated_event_never_overwrites_a_newer_state(shop, fake):
    sku_id = str(uuid.uuid4())
    shop.send(sku_changed(sku_id, 3, price=29900))
    shop.send(sku_changed(sku_id, 2, price=19900))  # overtaken by version 3
    shop.send(method_changed(5, fee=1200))
    shop.send(method_changed(4, fee=0))
    order = shop.place((sku_id, 1))
    assert (order["subtotal"], order["delivery_fee"]) == (29900, 1200)
    shop.send(sku_changed(sku_id, 4, price=31900))
    assert shop.place((sku_id, 1))["subtotal"] == 31900


def test_a_sold_out_sku_is_refused_at_once_without_catalog(shop, fake):
    sold_out = str(uuid.uuid4())
    shop.send(sku_changed(sold_out, 7, status="delisted", sold_out=True))
    res = shop.place((sold_out, 1), expect=409)
    assert res["error"]["code"] == "sku_unavailable" and res["error"]["details"]["sku_ids"] == [sold_out]
    assert "sold out" in res["error"]["message"]
    assert fake.calls == []
    shop.send(sku_changed(sold_out, 8))  # restocked
    assert shop.place((sold_out, 1))["status"] == "PENDING"


def test_a_sku_the_copy_says_is_off_sale_is_confirmed_with_catalog_first(shop, fake):
    """A product is ordered right after it is listed: its listing may still be on its way."""
    just_listed = fake.sku(price=21900)
    shop.send(sku_changed(just_listed, 1, product_status="draft"))  # the listing (version 2) not here yet
    fake.skus[just_listed]["version"] = 2
    assert shop.place((just_listed, 1))["subtotal"] == 21900
    delisted = str(uuid.uuid4())
    shop.send(sku_changed(delisted, 4, product_status="delisted"))
    fake.down.add("catalog")  # catalog cannot confirm: the copy stands
    res = shop.place((delisted, 1), expect=409)
    assert res["error"]["code"] == "sku_unavailable" and "not on sale" in res["error"]["message"]


def test_a_copy_that_has_not_arrived_is_asked_for_once_and_kept(shop, fake):
    sku_id, method_id = fake.sku(price=18800), f"m-{uuid.uuid4().hex[:8]}"
    fake.methods[method_id] = {"id": method_id, "name": "Same day", "fee": 2500, "active": True, "version": 3}
    shop.place((sku_id, 1), delivery_method_id=method_id)
    # catalog for the SKU, logistics for the method, crm for the membership: none had arrived
    assert len(fake.calls) == 3
    fake.down |= {"catalog", "logistics", "crm"}
    order = shop.place((sku_id, 1), delivery_method_id=method_id)
    assert (order["subtotal"], order["delivery_fee"]) == (18800, 2500)
    assert len(fake.calls) == 3
    shop.send(method_changed(2, delivery_method_id=method_id, name="Same day", fee=0))  # older than the answer
    assert shop.place((sku_id, 1), delivery_method_id=method_id)["delivery_fee"] == 2500


def test_a_saved_address_comes_from_crms_events_and_a_deleted_one_stays_deleted(shop, fake, keys):
    address_id = str(uuid.uuid4())
    fields = {k: v for k, v in ADDRESS.items()}
    shop.send(AddressSaved(address_id=address_id, customer_id=shop.customer_id, version=1, **fields))
    shop.send(AddressSaved(address_id=address_id, customer_id=shop.customer_id, version=2,
                           **(fields | {"detail": "文二路 8 号"})))
    fake.down.add("crm")
    order = shop.place(address_id=address_id)
    assert order["shipping_address"]["detail"] == "文二路 8 号"
    other = keys.headers(str(uuid.uuid4()))
    res = shop.client.post("/api/orders", headers=other, json={
        "items": [{"sku_id": fake.sku(), "quantity": 1}], "delivery_method_id": "standard", "address_id": address_id})
    assert res.status_code == 422 and list(res.json["error"]["details"]["fields"]) == ["address_id"]
    shop.send(AddressDeleted(address_id=address_id, customer_id=shop.customer_id, version=3))
    shop.send(AddressSaved(address_id=address_id, customer_id=shop.customer_id, version=2, **fields))  # late
    res = shop.place(address_id=address_id, expect=422)
    assert list(res["error"]["details"]["fields"]) == ["address_id"]
