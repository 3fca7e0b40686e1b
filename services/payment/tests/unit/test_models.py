"""The payment state machine and the order read model, on plain objects."""
import pytest

from payment.models import IllegalTransition, OrderRecord, Payment, RefundTooLarge


def payment(status="pending", amount=1000, refunded=0) -> Payment:
    return Payment(id="p1", order_id="o1", customer_id="c1", method="alipay", status=status, amount=amount,
                   refunded_amount=refunded)


def test_a_confirmation_is_recorded_once():
    p = payment()
    assert p.succeed("T1") is True
    assert p.succeed("T2") is False
    assert (p.status, p.provider_ref) == ("succeeded", "T1")


def test_a_failed_payment_cannot_succeed_later():
    p = payment()
    assert p.fail("closed") is True
    assert p.succeed("T1") is False
    assert p.status == "failed"


def test_partial_refunds_add_up_to_a_full_refund():
    p = payment("succeeded")
    p.refund(300)
    assert (p.status, p.refundable) == ("partially_refunded", 700)
    p.refund(700)
    assert (p.status, p.refundable) == ("refunded", 0)


@pytest.mark.parametrize("amount", [0, -1, 1001])
def test_a_refund_never_exceeds_what_is_left(amount):
    with pytest.raises(RefundTooLarge):
        payment("succeeded").refund(amount)


def test_an_unpaid_payment_cannot_be_refunded():
    with pytest.raises(RefundTooLarge):
        payment("pending").refund(1)


def test_the_transition_table_refuses_illegal_moves():
    p = payment("refunded", refunded=1000)
    with pytest.raises(IllegalTransition):
        p._move("succeeded")


def test_an_order_is_payable_once_placed_and_reserved_and_not_cancelled_or_paid():
    order = OrderRecord(order_id="o1", reserved=False, cancelled=False, total=None)
    assert not order.payable
    order.total = 1000
    assert not order.payable
    order.reserved = True
    assert order.payable
    order.paid_payment_id = "p1"
    assert not order.payable and order.accepts("p1") and not order.accepts("p2")
    order.paid_payment_id, order.cancelled = None, True
    assert not order.payable and not order.accepts("p1")
