"""Refunds that happen once, whatever crashes or retries: record first, call the provider
outside any transaction, settle idempotently.

1. `record_refund` (in the caller's transaction) holds the amount on the payment and records the
   refund `pending` under a stable id, which is the provider's idempotency key (Alipay's
   `out_request_no`, WeChat Pay's `out_refund_no`, the card acquirer's refund id).
2. `settle_refund` (after that commit) asks the provider, with no transaction open, then marks
   the refund `completed` and emits RefundCompleted, once, under a row lock.
A crash between 1 and 2, or between the provider's answer and 2's commit, leaves the refund
pending: the worker's `settle_pending_refunds` asks again with the same id, which the provider
answers without refunding twice. A refund the provider refuses while staff wait for it is
`failed` and its amount released; one asked for by an event stays pending and is retried.
"""
from __future__ import annotations

import logging
import os
import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from mall_shared.db import Database
from mall_shared.events import RefundCompleted
from mall_shared.outbox import emit

from . import alipay, card, wechat
from .alipay import ProviderError
from .config import PaymentConfig
from .models import OrderRecord, Payment, ProviderUnavailable, Refund

log = logging.getLogger(__name__)


def refund_interval() -> float:
    """How often (s) the worker settles pending refunds (PAYMENT_REFUND_INTERVAL)."""
    return float(os.environ.get("PAYMENT_REFUND_INTERVAL") or 1)


def record_refund(session: Session, payment: Payment, amount: int, reason: str,
                  return_id: str | None = None, points: int | None = None) -> Refund:
    """Hold `amount` of the payment (never more than is left) and record the refund, pending."""
    payment.refund(amount)
    refund = Refund(payment_id=payment.id, order_id=payment.order_id, amount=amount, currency=payment.currency,
                    reason=reason, status="pending", return_id=return_id, points=points)
    session.add(refund)
    session.flush()
    return refund


def _provider_refund(cfg: PaymentConfig, method: str, payment_id: str, paid: int, amount: int,
                     refund_id: str) -> str:
    if method == "alipay":
        return alipay.refund(cfg, payment_id, amount, refund_id)
    if method == "card":
        return card.refund(cfg, payment_id, amount, refund_id)
    return wechat.refund(cfg, payment_id, amount, paid, refund_id)


def settle_refund(db: Database, cfg: PaymentConfig, refund_id: str, give_up: bool = False) -> Refund:
    """Ask the provider for a recorded refund and settle it. `give_up`: a provider refusal fails
    the refund and releases its amount (ProviderUnavailable is raised); else it stays pending."""
    with db.transaction() as session:
        refund = session.get(Refund, refund_id)
        if refund.status != "pending":
            return refund
        payment = session.get(Payment, refund.payment_id)
        call = (payment.method, payment.id, payment.amount, refund.amount, refund.id)
    try:
        provider_ref = _provider_refund(cfg, *call)  # no transaction open while the provider answers
    except ProviderError as exc:
        log.warning("refund %s of payment %s failed: %s", refund_id, call[1], exc)
        if not give_up:
            return refund
        with db.transaction() as session:
            refund = session.get(Refund, refund_id, with_for_update=True)
            if refund.status == "pending":
                refund.status = "failed"
                session.get(Payment, refund.payment_id, with_for_update=True).release_refund(refund.amount)
        raise ProviderUnavailable(f"{call[0]} could not refund", code=f"{call[0]}_unavailable") from exc
    _park_for_a_crash_test(cfg, refund_id)
    with db.transaction() as session:
        refund = session.get(Refund, refund_id, with_for_update=True)
        if refund.status == "pending":  # a concurrent settler may have been first: once only
            refund.status, refund.provider_ref = "completed", provider_ref
            emit(session, RefundCompleted(refund_id=refund.id, payment_id=refund.payment_id, order_id=refund.order_id,
                                          amount=refund.amount, currency=refund.currency, return_id=refund.return_id,
                                          points=refund.points))
        return refund


def _park_for_a_crash_test(cfg: PaymentConfig, refund_id: str) -> None:
    """Test only, in sandbox mode: with `PAYMENT_TEST_PARK_AFTER_REFUND=<file>`, the first refund the
    provider has granted parks its process right here, before the commit, having written its id to
    <file>, until the chaos test kills it with -9. Once the file exists, refunds go on."""
    marker = os.environ.get("PAYMENT_TEST_PARK_AFTER_REFUND")
    if not (cfg.sandbox and marker):
        return
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.write(fd, refund_id.encode())
    os.close(fd)
    log.warning("refund %s granted by the provider: parked before the commit (%s)", refund_id, marker)
    threading.Event().wait()


def settle_pending_refunds(db: Database, cfg: PaymentConfig, limit: int = 100) -> int:
    """Settle the refunds still pending (recorded by an event handler, or left by a crash)."""
    with db.transaction() as session:
        ids = session.scalars(select(Refund.id).where(Refund.status == "pending")
                              .order_by(Refund.created_at).limit(limit)).all()
    return sum(settle_refund(db, cfg, refund_id).status == "completed" for refund_id in ids)


def settling_job(db: Database, cfg: PaymentConfig):
    """The worker's periodic job (its session is unused: the provider is called between commits)."""

    def settle_refunds(_session: Session) -> None:
        settle_pending_refunds(db, cfg)

    return settle_refunds


def refund_return(session: Session, order_id: str, return_id: str, amount: int, points: int = 0) -> Refund | None:
    """A return (售后) was received: refund its amount (what its units paid) from the order's
    payment, once per return and never more than is left of the payment (then what is left);
    its RefundCompleted carries the return's points, for crm to give back."""
    order = session.get(OrderRecord, order_id)
    paid_id = order.paid_payment_id if order is not None else None
    payment = session.get(Payment, paid_id, with_for_update=True) if paid_id else None
    if payment is None:
        log.warning("return %s of order %s not refunded: no paid payment is known", return_id, order_id)
        return None
    # Checked with the payment locked: a second ReturnReceived waits here, then sees the first's refund.
    if session.scalar(select(Refund.id).where(Refund.return_id == return_id)) is not None:
        return None
    if amount > payment.refundable:
        log.warning("return %s asks %d but only %d is left of payment %s: refunding what is left", return_id,
                    amount, payment.refundable, payment.id)
        amount = payment.refundable
    if amount <= 0:
        return None
    return record_refund(session, payment, amount, f"return {return_id}", return_id=return_id, points=points)


def list_refunds(session: Session, payment: Payment) -> list[Refund]:
    return list(session.scalars(select(Refund).where(Refund.payment_id == payment.id).order_by(Refund.created_at)))
