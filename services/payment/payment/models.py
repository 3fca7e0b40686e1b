"""payment's own tables and the rules that live on them.

`OrderRecord` is payment's read model of the orders it may be paid for, built from events
(OrderPlaced, StockReserved, OrderCancelled); they may arrive in any order, so each fact has
its own column and "payable" is computed from them all.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mall_shared.api import Conflict, Unavailable
from mall_shared.db import NAMING, UTCDateTime, bus_tables, new_id, utcnow

METHODS = ("alipay", "wechat_pay", "card")

# The payment state machine: from each status, where it may go next.
TRANSITIONS: dict[str, set[str]] = {
    "pending": {"succeeded", "failed"},
    "succeeded": {"partially_refunded", "refunded"},
    "partially_refunded": {"partially_refunded", "refunded"},
    "failed": set(),
    "refunded": set(),
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime}


bus_tables(Base.metadata)


class IllegalTransition(Conflict):
    code = "illegal_payment_transition"


class ProviderUnavailable(Unavailable):
    code, message = "payment_unavailable", "The notify endpoint could not be reached"


class RefundTooLarge(Conflict):
    code, message = "refund_exceeds_paid", "A refund cannot exceed what was paid less what was refunded"


class OrderRecord(Base):
    __tablename__ = "orders"

    order_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(36), index=True)
    total: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    reserved: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    paid_payment_id: Mapped[str | None] = mapped_column(String(36))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def payable(self) -> bool:
        """Placed (we know its total), stock reserved, not cancelled and not paid yet."""
        return self.total is not None and self.reserved and not self.cancelled and self.paid_payment_id is None

    def accepts(self, payment_id: str) -> bool:
        """Whether a payment that just succeeded may keep the money (else it is refunded)."""
        return not self.cancelled and self.paid_payment_id in (None, payment_id)


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_order_id_method_status", "order_id", "method", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(String(36), index=True)
    customer_id: Mapped[str] = mapped_column(String(36), index=True)
    method: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), default="pending")
    amount: Mapped[int] = mapped_column(BigInteger)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    provider_ref: Mapped[str | None] = mapped_column(String(64))  # e.g. Alipay's trade_no
    card_brand: Mapped[str | None] = mapped_column(String(16))  # card payments: all that is kept
    card_last4: Mapped[str | None] = mapped_column(String(4))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    pay_params = None  # what the client needs to pay; built per request, never stored

    @property
    def refundable(self) -> int:
        return self.amount - self.refunded_amount if self.status in ("succeeded", "partially_refunded") else 0

    def _move(self, status: str) -> None:
        if status not in TRANSITIONS[self.status]:
            raise IllegalTransition(f"A {self.status} payment cannot become {status}")
        self.status = status

    def succeed(self, provider_ref: str | None) -> bool:
        """Record the provider's confirmation. Returns False when it was already recorded."""
        if self.status != "pending":
            return False
        self._move("succeeded")
        self.provider_ref = provider_ref
        return True

    def fail(self, reason: str) -> bool:
        """Record the provider's refusal. Returns False when the payment was no longer pending."""
        if self.status != "pending":
            return False
        self._move("failed")
        self.failure_reason = reason[:200]
        return True

    def refund(self, amount: int) -> None:
        """Give back `amount` fen; never more than was paid less what was refunded already."""
        if amount <= 0 or amount > self.refundable:
            raise RefundTooLarge(details={"refundable": self.refundable})
        self.refunded_amount += amount
        self._move("refunded" if self.refunded_amount == self.amount else "partially_refunded")

    def release_refund(self, amount: int) -> None:
        """A refund the provider refused never happened: its amount is refundable again."""
        self.refunded_amount -= amount
        self.status = "partially_refunded" if self.refunded_amount else "succeeded"


class Refund(Base):
    __tablename__ = "refunds"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    order_id: Mapped[str] = mapped_column(String(36), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="completed")
    provider_ref: Mapped[str | None] = mapped_column(String(64))
    return_id: Mapped[str | None] = mapped_column(String(36), unique=True)  # the return (售后) it pays for: once
    points: Mapped[int | None] = mapped_column(BigInteger)  # the return's points, for crm to give back
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """Every provider notification as it arrived, verified or not: the audit trail."""

    __tablename__ = "notifications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    provider: Mapped[str] = mapped_column(String(16))
    payment_id: Mapped[str | None] = mapped_column(String(64), index=True)
    raw: Mapped[dict] = mapped_column(JSON)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str] = mapped_column(Text)  # what we did with it, or why it was rejected
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class CardToken(Base):
    """A tokenized card: brand, last four digits and expiry, never the number."""

    __tablename__ = "card_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(String(36), index=True)
    brand: Mapped[str] = mapped_column(String(16))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)
    sandbox_outcome: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
