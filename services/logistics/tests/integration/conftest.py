"""An order as logistics learns it from order's events, at the status a test needs."""
import uuid

import pytest

from logistics.handlers import HANDLERS
from mall_shared.consumer import deliver
from mall_shared.events import Address, Line, OrderPlaced, OrderStatusChanged, envelope

ADDRESS = Address(name="张三", phone="13800138000", province="上海市", city="上海市", district="浦东新区",
                  detail="世纪大道 100 号", postal_code="200120")
PATH = ("AWAITING_PAYMENT", "PAID", "PROCESSING", "SHIPPED", "COMPLETED")


def order_placed(order_id: str, customer_id: str) -> dict:
    return envelope(OrderPlaced(order_id=order_id, customer_id=customer_id, lines=[Line("sku-42", 2, 39900)],
                                total=80800, subtotal=79800, delivery_fee=1000, shipping_address=ADDRESS,
                                delivery_method_id="standard"), "order")


def status_changed(order_id: str, customer_id: str, status: str, previous: str | None = None) -> dict:
    return envelope(OrderStatusChanged(order_id=order_id, customer_id=customer_id, status=status,
                                       previous_status=previous, at="2026-11-25T08:00:00Z"), "order")


def tracking_number(prefix: str = "SF") -> str:
    return prefix + str(uuid.uuid4().int)[:12]


@pytest.fixture
def place_order(db):
    """place_order(status) → (order_id, customer_id): OrderPlaced, then each status up to `status`."""

    def place(status: str = "PROCESSING", customer_id: str | None = None) -> tuple[str, str]:
        order_id, customer_id = str(uuid.uuid4()), customer_id or str(uuid.uuid4())
        assert deliver(db, HANDLERS, order_placed(order_id, customer_id))
        previous = "PENDING"
        for step in PATH[: PATH.index(status) + 1] if status != "PENDING" else ():
            assert deliver(db, HANDLERS, status_changed(order_id, customer_id, step, previous))
            previous = step
        return order_id, customer_id

    return place


@pytest.fixture
def ship(client, staff, place_order):
    """ship() → (shipment, customer headers): a PROCESSING order handed to SF."""

    def _ship(carrier: str = "sf", number: str | None = None) -> tuple[dict, str]:
        order_id, customer_id = place_order("PROCESSING")
        body = {"order_id": order_id, "carrier": carrier, "tracking_number": number or tracking_number()}
        res = client.post("/api/logistics/shipments", headers=staff, json=body)
        assert res.status_code == 201, res.json
        return res.json, customer_id

    return _ship
