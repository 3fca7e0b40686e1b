"""Points spent on an order, through the saga: held when it is placed (or refused), spent when it
is paid, given back when it is cancelled or refunded. Every event is delivered twice (the second
delivery changes nothing), and some arrive out of order or at the same instant on two workers."""
import threading

import pytest

from crm.handlers import HANDLERS
from mall_shared.consumer import deliver
from mall_shared.events import Line, OrderCancelled, OrderPlaced, OrderStatusChanged, RefundCompleted, envelope
from mall_shared.testing import outbox_events

from .test_handlers import new_id, twice
from .test_points import adjust


@pytest.fixture
def member(client, register, staff):
    """A registered customer with 1,000 spendable points: (customer id, bearer headers)."""
    profile, headers, _ = register()
    assert adjust(client, staff, profile["id"], 1000).status_code == 201
    return profile["id"], headers


def placed(customer_id, order_id, points_used, total=10000):
    return OrderPlaced(order_id=order_id, customer_id=customer_id, total=total, points_used=points_used,
                       points_discount=points_used, lines=[Line("sku-1", 2, 5000, paid=total // 2, points=0)])


def place(db, customer_id, points_used, total=10000) -> str:
    order_id = new_id()
    twice(db, placed(customer_id, order_id, points_used, total))
    return order_id


def status(customer_id, order_id, new):
    return OrderStatusChanged(order_id=order_id, customer_id=customer_id, status=new, previous_status=None,
                              at="2026-12-02T06:00:00Z")


def pay(db, customer_id, order_id):
    twice(db, status(customer_id, order_id, "AWAITING_PAYMENT"))
    twice(db, status(customer_id, order_id, "PAID"))


def cancelled(customer_id, order_id, total=10000):
    return OrderCancelled(order_id=order_id, customer_id=customer_id, total=total, reason="customer_cancelled")


def refund(order_id, amount, return_id=None, points=None, refund_id=None):
    return RefundCompleted(refund_id=refund_id or new_id(), payment_id="pay-1", order_id=order_id, amount=amount,
                           return_id=return_id, points=points)


def card(client, headers) -> dict:
    res = client.get("/api/crm/me/membership", headers=headers)
    assert res.status_code == 200, res.json
    return res.json


def facts(db, order_id, *types) -> list[dict]:
    """The data of the order's events of these types, oldest first."""
    return [e["data"] for e in outbox_events(db, order_id) if e["type"] in types]


def returned(db, order_id) -> list[tuple[int, str]]:
    return [(d["points"], d["reason"]) for d in facts(db, order_id, "PointsReturned")]


def test_placing_an_order_holds_its_points_and_tells_order_the_spendable_balance(client, db, member):
    customer_id, headers = member
    order_id = place(db, customer_id, 300)
    (held,) = facts(db, order_id, "PointsHeld")
    assert held == {"order_id": order_id, "customer_id": customer_id, "points": 300, "balance": 700}
    (changed,) = facts(db, order_id, "MembershipChanged")
    assert (changed["balance"], changed["tier"]) == (700, "silver")  # the tier follows the points earned
    now = card(client, headers)
    assert (now["balance"], now["points"], now["held"], now["earned"]) == (700, 700, 300, 1000)
    entry = now["ledger"][0]
    assert (entry["kind"], entry["order_id"], entry["points"], entry["held"]) == ("hold", order_id, -300, 300)


def test_more_points_than_the_balance_are_refused_and_nothing_is_held(client, db, member):
    customer_id, headers = member
    first = place(db, customer_id, 800)
    second = place(db, customer_id, 201)
    (rejected,) = facts(db, second, "PointsRejected")
    assert (rejected["points"], rejected["reason"]) == (201, "insufficient_points")
    assert facts(db, second, "PointsHeld", "MembershipChanged") == []
    assert facts(db, first, "PointsHeld")[0]["balance"] == 200
    assert (card(client, headers)["balance"], card(client, headers)["held"]) == (200, 800)


def test_an_unknown_customer_points_are_refused(db):
    order_id = place(db, new_id(), 100)
    assert [r["reason"] for r in facts(db, order_id, "PointsRejected")] == ["unknown_customer"]


def test_an_order_without_points_holds_nothing(db, member):
    customer_id, _ = member
    order_id = place(db, customer_id, 0)
    pay(db, customer_id, order_id)
    twice(db, cancelled(customer_id, order_id))
    assert facts(db, order_id, "PointsHeld", "PointsRejected", "PointsReturned", "MembershipChanged") == []


def test_paying_spends_the_held_points_and_leaves_the_balance_as_it_is(client, db, member):
    customer_id, headers = member
    order_id = place(db, customer_id, 300)
    pay(db, customer_id, order_id)
    now = card(client, headers)
    assert (now["balance"], now["held"], now["earned"], now["tier"]) == (700, 0, 1000, "silver")
    assert [(e["kind"], e["points"], e["held"]) for e in now["ledger"][:2]] == [("spend", 0, -300), ("hold", -300, 300)]
    assert len(facts(db, order_id, "MembershipChanged")) == 1  # the hold changed the balance; the spend did not


def test_cancelling_an_unpaid_order_gives_back_what_it_held(client, db, member):
    customer_id, headers = member
    order_id = place(db, customer_id, 300)
    twice(db, cancelled(customer_id, order_id))
    twice(db, status(customer_id, order_id, "CANCELLED"))  # the same meaning, another event
    assert returned(db, order_id) == [(300, "order_cancelled")]
    assert facts(db, order_id, "PointsReturned")[0]["balance"] == 1000
    assert (card(client, headers)["balance"], card(client, headers)["held"]) == (1000, 0)
    (order,) = client.get("/api/crm/me/orders", headers=headers).json["items"]
    assert (order["status"], order["points_used"], order["points_returned"]) == ("CANCELLED", 300, 300)


def test_cancelling_a_paid_order_gives_back_all_points_not_back_yet(client, db, member):
    customer_id, headers = member
    order_id = place(db, customer_id, 300)
    pay(db, customer_id, order_id)
    twice(db, refund(order_id, 2000), "payment")
    twice(db, cancelled(customer_id, order_id))
    twice(db, refund(order_id, 8000), "payment")  # the rest of the total, refunded for the cancel
    assert returned(db, order_id) == [(60, "refund"), (240, "order_cancelled")]
    assert card(client, headers)["balance"] == 1000


def test_partial_refunds_give_back_the_refunded_share_cumulatively_and_all_at_the_end(client, db, member):
    customer_id, headers = member
    order_id = place(db, customer_id, 333)
    pay(db, customer_id, order_id)
    for amount in (3000, 3000, 4000):
        twice(db, refund(order_id, amount), "payment")
    # round(333 × 3000 / 10000) = 100, round(333 × 6000 / 10000) − 100 = 100, then the rest: 133
    assert [points for points, _ in returned(db, order_id)] == [100, 100, 133]
    assert [d["refund_id"] is not None for d in facts(db, order_id, "PointsReturned")] == [True] * 3
    assert card(client, headers)["balance"] == 1000


def test_a_returns_refund_gives_back_exactly_its_points_and_never_more_than_were_spent(client, db, member):
    customer_id, headers = member
    order_id = place(db, customer_id, 300)
    pay(db, customer_id, order_id)
    twice(db, refund(order_id, 4000, return_id=new_id(), points=120), "payment")
    twice(db, refund(order_id, 1000), "payment")  # round(300 × 5000 / 10000) − 120 = 30
    twice(db, refund(order_id, 5000, return_id=new_id(), points=500), "payment")  # only 150 are left
    assert [points for points, _ in returned(db, order_id)] == [120, 30, 150]
    twice(db, cancelled(customer_id, order_id))
    assert [points for points, _ in returned(db, order_id)] == [120, 30, 150]
    assert card(client, headers)["balance"] == 1000


def test_an_order_cancelled_before_crm_saw_it_placed_holds_nothing(client, db, member):
    customer_id, headers = member
    order_id = new_id()
    twice(db, cancelled(customer_id, order_id))
    twice(db, placed(customer_id, order_id, 300))
    assert facts(db, order_id, "PointsHeld", "PointsRejected", "PointsReturned", "MembershipChanged") == []
    assert (card(client, headers)["balance"], card(client, headers)["held"]) == (1000, 0)


def test_a_refund_handled_before_the_paid_status_is_settled_once_the_order_reads_paid(client, db, member):
    customer_id, headers = member
    order_id = place(db, customer_id, 300)
    twice(db, refund(order_id, 5000), "payment")
    assert returned(db, order_id) == []  # held, not spent yet: nothing to give back from
    pay(db, customer_id, order_id)
    assert returned(db, order_id) == [(150, "refund")]
    assert (card(client, headers)["balance"], card(client, headers)["held"]) == (850, 0)


def test_the_membership_version_grows_by_one_with_each_change_of_the_balance(client, db, member):
    customer_id, headers = member
    order_id = place(db, customer_id, 300)
    twice(db, cancelled(customer_id, order_id))
    versions = [(d["version"], d["balance"]) for d in facts(db, customer_id, "MembershipChanged")]
    versions += [(d["version"], d["balance"]) for d in facts(db, order_id, "MembershipChanged")]
    assert versions == [(1, 1000), (2, 700), (3, 1000)]
    assert card(client, headers)["version"] == 3


def at_once(db, events) -> None:
    """Deliver the events at the same instant, each on its own thread (two workers)."""
    barrier = threading.Barrier(len(events))
    errors: list[BaseException] = []

    def handle(evt):
        barrier.wait()
        try:
            assert deliver(db, HANDLERS, envelope(evt, "order")) is True
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=handle, args=(evt,)) for evt in events]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_a_hold_and_a_cancel_of_the_same_order_at_once_never_leave_a_hold_behind(client, db, member):
    customer_id, headers = member
    for _ in range(10):
        order_id = new_id()
        at_once(db, [placed(customer_id, order_id, 300), cancelled(customer_id, order_id)])
        held, back = facts(db, order_id, "PointsHeld"), returned(db, order_id)
        assert (len(held), back) in ((0, []), (1, [(300, "order_cancelled")]))
        assert (card(client, headers)["balance"], card(client, headers)["held"]) == (1000, 0)


def test_a_refund_and_a_cancel_of_the_same_paid_order_at_once_give_back_every_point_once(client, db, member):
    customer_id, headers = member
    for _ in range(10):
        order_id = place(db, customer_id, 300)
        pay(db, customer_id, order_id)
        at_once(db, [refund(order_id, 10000), cancelled(customer_id, order_id)])
        assert sum(points for points, _ in returned(db, order_id)) == 300
        assert (card(client, headers)["balance"], card(client, headers)["held"]) == (1000, 0)


def test_two_orders_spending_most_of_the_balance_at_once_hold_it_once(client, db, member):
    customer_id, headers = member
    first, second = new_id(), new_id()
    at_once(db, [placed(customer_id, first, 600), placed(customer_id, second, 600)])
    outcomes = sorted(e["type"] for order_id in (first, second) for e in outbox_events(db, order_id)
                      if e["type"] in ("PointsHeld", "PointsRejected"))
    assert outcomes == ["PointsHeld", "PointsRejected"]
    assert (card(client, headers)["balance"], card(client, headers)["held"]) == (400, 600)
