"""logistics follows orders from order's events. Each event is delivered twice: the second
delivery must change nothing."""
import uuid

from sqlalchemy import select

from logistics.handlers import HANDLERS
from logistics.models import OrderRecord, Shipment
from mall_shared.consumer import deliver
from mall_shared.testing import outbox_events

from .conftest import order_placed, status_changed


def twice(db, env) -> None:
    assert deliver(db, HANDLERS, env) is True
    assert deliver(db, HANDLERS, env) is False


def shipment_of(db, order_id) -> Shipment | None:
    with db.transaction() as session:
        return session.scalar(select(Shipment).where(Shipment.order_id == order_id))


def order_of(db, order_id) -> OrderRecord:
    with db.transaction() as session:
        return session.get(OrderRecord, order_id)


def test_a_placed_order_is_remembered_without_a_shipment(db):
    order_id, customer = str(uuid.uuid4()), str(uuid.uuid4())
    twice(db, order_placed(order_id, customer))
    order = order_of(db, order_id)
    assert (order.customer_id, order.status, order.delivery_method_id) == (customer, "PENDING", "standard")
    assert order.shipping_address["province"] == "上海市"
    assert shipment_of(db, order_id) is None


def test_a_paid_order_gets_one_shipment_awaiting_dispatch_with_the_address_copied(db):
    order_id, customer = str(uuid.uuid4()), str(uuid.uuid4())
    twice(db, order_placed(order_id, customer))
    twice(db, status_changed(order_id, customer, "AWAITING_PAYMENT"))
    twice(db, status_changed(order_id, customer, "PAID"))
    # The same fact in a different event (a republished status change) changes nothing either.
    assert deliver(db, HANDLERS, status_changed(order_id, customer, "PAID"))
    shipment = shipment_of(db, order_id)
    assert (shipment.status, shipment.customer_id, shipment.delivery_method_id) == ("awaiting_dispatch", customer,
                                                                                     "standard")
    assert shipment.shipping_address["detail"] == "世纪大道 100 号"
    assert outbox_events(db, order_id) == []


def test_a_late_status_never_moves_the_order_back(db):
    order_id, customer = str(uuid.uuid4()), str(uuid.uuid4())
    twice(db, order_placed(order_id, customer))
    twice(db, status_changed(order_id, customer, "PROCESSING"))
    twice(db, status_changed(order_id, customer, "PAID"))
    assert order_of(db, order_id).status == "PROCESSING"


def test_a_status_change_that_overtakes_order_placed_is_completed_by_it(db):
    order_id, customer = str(uuid.uuid4()), str(uuid.uuid4())
    twice(db, status_changed(order_id, customer, "PAID"))
    assert shipment_of(db, order_id).shipping_address is None
    twice(db, order_placed(order_id, customer))
    shipment = shipment_of(db, order_id)
    assert shipment.shipping_address["city"] == "上海市" and shipment.delivery_method_id == "standard"
    assert order_of(db, order_id).status == "PAID"


def test_cancelling_a_paid_order_cancels_its_shipment(db):
    order_id, customer = str(uuid.uuid4()), str(uuid.uuid4())
    twice(db, order_placed(order_id, customer))
    twice(db, status_changed(order_id, customer, "PAID"))
    twice(db, status_changed(order_id, customer, "CANCELLED"))
    assert shipment_of(db, order_id).status == "cancelled"


def test_cancelling_an_order_whose_parcel_left_does_not_raise_or_change_it(db, client, staff, place_order):
    order_id, customer = place_order("PROCESSING")
    res = client.post("/api/logistics/shipments", headers=staff,
                      json={"order_id": order_id, "carrier": "zto", "tracking_number": str(uuid.uuid4().int)[:13]})
    assert res.status_code == 201
    twice(db, status_changed(order_id, customer, "CANCELLED"))
    assert shipment_of(db, order_id).status == "shipped"


def test_cancelling_an_unpaid_order_creates_nothing(db):
    order_id, customer = str(uuid.uuid4()), str(uuid.uuid4())
    twice(db, order_placed(order_id, customer))
    twice(db, status_changed(order_id, customer, "CANCELLED"))
    assert shipment_of(db, order_id) is None
    assert order_of(db, order_id).status == "CANCELLED"
