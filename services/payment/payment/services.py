"""payment's use cases: `verb_noun(session, ...)`, no Flask, no broker, no commit — the caller
owns the transaction, so each state change and the events it emits commit together."""
from __future__ import annotations

import logging

import requests
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from mall_shared.api import Conflict, NotFound
from mall_shared.auth import Identity
from mall_shared.db import Database
from mall_shared.events import PaymentConfirmed, PaymentFailed
from mall_shared.outbox import emit

from . import alipay, card, wechat
from .alipay import ProviderError
from .config import PaymentConfig
from .models import CardToken, OrderRecord, Payment, ProviderUnavailable
from .refunds import record_refund

log = logging.getLogger(__name__)


class PaymentNotFound(NotFound):
    code, message = "payment_not_found", "Payment not found"


class OrderNotFound(NotFound):
    code, message = "order_not_found", "Order not found"


class OrderNotPayable(Conflict):
    code, message = "order_not_payable", "The order cannot be paid now"


class CardTokenNotFound(NotFound):
    code, message = "card_token_not_found", "Card token not found"


class CardExpired(Conflict):
    code, message = "card_expired", "The card has expired"


class SandboxDisabled(NotFound):
    code, message = "sandbox_disabled", "The sandbox provider is off (MALL_SANDBOX is not set)"


class MethodUnavailable(Conflict):
    code, message = "method_unavailable", "This payment method is not available"


# ---- the order read model (fed by events) ----------------------------------------------------
def _order(session: Session, order_id: str) -> OrderRecord:
    """The order's record, locked; created empty when its first event is not this one."""
    order = session.get(OrderRecord, order_id, with_for_update=True)
    if order is None:
        order = OrderRecord(order_id=order_id, reserved=False, cancelled=False)
        session.add(order)
    return order


def record_order_placed(session: Session, order_id: str, customer_id: str, total: int, currency: str) -> None:
    """Remember who may pay for the order and how much (the amount never comes from a client)."""
    order = _order(session, order_id)
    order.customer_id, order.total, order.currency = customer_id, total, currency


def learn_order(session: Session, customer_id: str, order: dict) -> None:
    """Take what the order service says about one of the caller's orders awaiting payment
    (its status is authoritative: it only awaits payment once stock is reserved)."""
    if order.get("customer_id") != customer_id or order.get("status") != "AWAITING_PAYMENT":
        return
    if not isinstance(order.get("total"), int):
        return
    record = _order(session, order["id"])
    if record.cancelled or record.paid_payment_id:
        return
    record.customer_id, record.total = customer_id, order["total"]
    record.currency, record.reserved = order.get("currency", "CNY"), True


def mark_order_payable(session: Session, order_id: str) -> None:
    """Stock is reserved: the order may now be paid (unless it was cancelled meanwhile)."""
    _order(session, order_id).reserved = True


def cancel_order(session: Session, order_id: str, reason: str) -> None:
    """A cancelled order is no longer payable; money already taken for it is refunded in full
    (recorded here, asked of the provider after the commit)."""
    order = _order(session, order_id)
    order.cancelled = True
    paid = session.scalars(select(Payment).where(Payment.order_id == order_id).order_by(Payment.created_at)
                           .with_for_update()).all()
    for payment in paid:
        if payment.refundable:
            record_refund(session, payment, payment.refundable, f"order cancelled: {reason}"[:200])


# ---- payments --------------------------------------------------------------------------------
def _pay_params(cfg: PaymentConfig, payment: Payment) -> dict:
    subject = f"mall order {payment.order_id}"
    try:
        if payment.method == "alipay":
            return {"order_string": alipay.order_string(cfg, payment.id, payment.amount, subject)}
        return wechat.prepay(cfg, payment.id, payment.amount, subject)
    except ProviderError as exc:
        log.warning("%s: %s", payment.method, exc)
        raise ProviderUnavailable(f"{payment.method} could not be reached", code=f"{payment.method}_unavailable") \
            from exc


def create_payment(session: Session, cfg: PaymentConfig, customer_id: str, order_id: str, method: str,
                   card_token: str | None = None) -> Payment:
    """Start paying an order of one's own, for the order's total. A pending payment of the same
    order and method is reused, so retrying the checkout does not pile up payments. A card is
    charged at once, so its payment comes back succeeded or failed."""
    order = session.get(OrderRecord, order_id, with_for_update=True)
    if order is not None and order.customer_id is not None and order.customer_id != customer_id:
        raise OrderNotFound()
    if order is None or not order.payable:
        raise OrderNotPayable(details={"order_id": order_id})
    if method == "card":
        return _pay_by_card(session, cfg, order, customer_id, card_token)
    payment = session.scalar(select(Payment).where(
        Payment.order_id == order_id, Payment.method == method, Payment.status == "pending").limit(1))
    if payment is None:
        payment = Payment(order_id=order_id, customer_id=customer_id, method=method, status="pending",
                          amount=order.total, refunded_amount=0, currency=order.currency)
        session.add(payment)
        session.flush()
    payment.pay_params = _pay_params(cfg, payment)
    return payment


def create_card_token(session: Session, cfg: PaymentConfig, customer_id: str, number: str,
                      exp_month: int, exp_year: int) -> CardToken:
    """Tokenize a checked card number; only brand, last four digits and expiry are kept."""
    try:
        kept = card.tokenize(cfg, number)
    except card.CardUnavailable as exc:
        raise MethodUnavailable("No card acquirer is configured") from exc
    token = CardToken(customer_id=customer_id, brand=kept.brand, last4=kept.last4, exp_month=exp_month,
                      exp_year=exp_year, sandbox_outcome=kept.sandbox_outcome)
    session.add(token)
    session.flush()
    return token


def _pay_by_card(session: Session, cfg: PaymentConfig, order: OrderRecord, customer_id: str,
                 token_id: str | None) -> Payment:
    token = session.get(CardToken, token_id or "")
    if token is None or token.customer_id != customer_id:
        raise CardTokenNotFound(details={"field": "card_token"})
    if card.expired(token.exp_month, token.exp_year):
        raise CardExpired(details={"field": "card_token"})
    payment = Payment(order_id=order.order_id, customer_id=customer_id, method="card", status="pending",
                      amount=order.total, refunded_amount=0, currency=order.currency,
                      card_brand=token.brand, card_last4=token.last4)
    session.add(payment)
    session.flush()
    try:
        approved, detail = card.charge(cfg, token.sandbox_outcome, payment.amount, payment.id)
    except card.CardUnavailable as exc:
        raise MethodUnavailable("No card acquirer is configured") from exc
    if approved:
        confirm_payment(session, cfg, payment, detail)
    else:
        fail_payment(session, payment, detail)
    payment.pay_params = {"card": {"brand": token.brand, "last4": token.last4}}
    return payment


def get_payment(session: Session, viewer: Identity, payment_id: str, lock: bool = False) -> Payment:
    """A payment its owner or staff may see; anyone else is told it does not exist."""
    payment = session.get(Payment, payment_id, with_for_update=lock)
    if payment is None or not (viewer.is_staff or payment.customer_id == viewer.id):
        raise PaymentNotFound()
    return payment


def list_payments(viewer: Identity, order_id: str | None = None) -> Select:
    """Customers see their own payments; staff see all. Newest first."""
    stmt = select(Payment)
    if not viewer.is_staff:
        stmt = stmt.where(Payment.customer_id == viewer.id)
    if order_id:
        stmt = stmt.where(Payment.order_id == order_id)
    return stmt.order_by(Payment.created_at.desc(), Payment.id)


def confirm_payment(session: Session, cfg: PaymentConfig, payment: Payment, provider_ref: str | None) -> str:
    """The provider took the money. If the order was cancelled or paid otherwise meanwhile,
    the money goes back at once."""
    if not payment.succeed(provider_ref):
        return f"duplicate: payment already {payment.status}"
    order = _order(session, payment.order_id)
    emit(session, PaymentConfirmed(payment_id=payment.id, order_id=payment.order_id, method=payment.method,
                                   amount=payment.amount, currency=payment.currency))
    if not order.accepts(payment.id):
        record_refund(session, payment, payment.amount, "order cancelled or already paid")
        return "succeeded, refunded: order no longer payable"
    order.paid_payment_id = payment.id
    return "succeeded"


def fail_payment(session: Session, payment: Payment, reason: str) -> str:
    """The provider closed the trade unpaid."""
    if not payment.fail(reason):
        return f"ignored: payment already {payment.status}"
    emit(session, PaymentFailed(payment_id=payment.id, order_id=payment.order_id, method=payment.method,
                                amount=payment.amount, reason=reason, currency=payment.currency))
    return "failed"


# ---- the sandbox provider ----------------------------------------------------------------------
def simulate_provider(db: Database, cfg: PaymentConfig, viewer: Identity, payment_id: str, outcome: str) -> dict:
    """Play the provider's server: post its signed notification to our notify endpoint over
    HTTP. Our transaction ends before the post, because the endpoint locks the same payment."""
    if not cfg.sandbox:
        raise SandboxDisabled()
    from . import sandbox  # only the sandbox code path touches the sandbox and its key

    with db.transaction() as session:
        payment = get_payment(session, viewer, payment_id)
        if payment.method == "card":
            raise MethodUnavailable("The card acquirer answers at once: there is no notification to send")
        method, amount = payment.method, payment.amount
    try:
        if method == "alipay":
            status, text = sandbox.deliver(cfg, sandbox.notification(cfg, payment_id, amount, outcome))
        else:
            status, text = sandbox.deliver_wechat(cfg, *sandbox.wechat_notification(cfg, payment_id, amount, outcome))
    except requests.RequestException as exc:
        raise ProviderUnavailable(details={"reason": exc.__class__.__name__}) from exc
    with db.transaction() as session:
        payment = get_payment(session, viewer, payment_id)
    return {"provider_answer": {"status_code": status, "body": text[:200]}, "payment": payment}
