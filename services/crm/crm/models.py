"""crm's own tables and the rules that live on them.

Membership points are a ledger: the balance is always the sum of its entries, never a counter
that a redelivered event could bump twice. Each entry that stems from an event has a unique
`key` (award per order, reversal per refund), so a different event with the same meaning
cannot repeat it either.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from mall_shared.api import Conflict
from mall_shared.db import NAMING, BigId, UTCDateTime, bus_tables, new_id, utcnow

ROLES = ("customer", "staff", "admin")
MOBILE = re.compile(r"^1[3-9]\d{9}$")  # a mainland China mobile number


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime}


bus_tables(Base.metadata)


# ---- accounts --------------------------------------------------------------------------------
def password_problems(password: str) -> list[str]:
    """Why a password is refused (empty when it is acceptable): 8..128 long, letters and digits."""
    problems = []
    if not 8 <= len(password) <= 128:
        problems.append("must be 8 to 128 characters long")
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        problems.append("must contain both letters and digits")
    return problems


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    mobile: Mapped[str | None] = mapped_column(String(11), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16), default="customer", index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RefreshToken(Base):
    """Opaque refresh tokens, stored as SHA-256 digests. One `family` per login: presenting a
    token that was already rotated means it leaked, so the whole family is revoked."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    family: Mapped[str] = mapped_column(String(36), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


class RevokedToken(Base):
    """An access token (`jti`) or a whole login (`sid`, its refresh-token family) that no longer
    counts, kept until the last access token it could cover has expired. `seq` lets the gateway
    fetch only what is new."""

    __tablename__ = "revoked_tokens"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_id: Mapped[str] = mapped_column(String(36), unique=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class LoginThrottle(Base):
    """Failed logins of one login name (email or mobile) from one client, whether or not such an
    account exists (so it never tells who has one). Keyed by a digest of both: a stranger's
    failures slow only the stranger, never lock the account's owner out from their own client."""

    __tablename__ = "login_throttles"

    login: Mapped[str] = mapped_column(String(270), primary_key=True)  # sha256(login, client)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column()

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    def record_failure(self, now: datetime, free_failures: int, max_backoff: int) -> None:
        """After `free_failures` failures each further one waits twice as long as the one before
        (1 s, 2 s, 4 s, …, at most `max_backoff`); a success clears the row."""
        self.failures = (self.failures or 0) + 1
        if self.failures >= free_failures:
            self.locked_until = now + timedelta(seconds=min(2 ** (self.failures - free_failures), max_backoff))


# ---- address book ----------------------------------------------------------------------------
class Address(Base):
    __tablename__ = "addresses"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    province: Mapped[str] = mapped_column(String(50))
    city: Mapped[str] = mapped_column(String(50))
    district: Mapped[str] = mapped_column(String(50))
    detail: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=0)  # grows with every AddressSaved


# ---- purchase history (a read model of order's events) ---------------------------------------
# Events may arrive out of order (retries, several consumers): a status only moves forward,
# and a final status is never overwritten.
STATUS_RANK = {"PENDING": 0, "AWAITING_PAYMENT": 1, "PAID": 2, "PROCESSING": 3, "SHIPPED": 4,
               "COMPLETED": 9, "CANCELLED": 9}


class PurchaseRecord(Base):
    __tablename__ = "purchase_records"
    __table_args__ = (Index("ix_purchase_records_customer_placed", "customer_id", "placed_at"),)

    order_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(20), default="PENDING")
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    lines: Mapped[list] = mapped_column(JSON, default=list)
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    # Points spent on the order (OrderPlaced.points_used) and where they stand: None until crm
    # decided, then held | rejected | void (cancelled before they were held) | spent | returned
    # (all given back on cancel). `points_returned`: how many were given back so far.
    points_used: Mapped[int] = mapped_column(BigInteger, default=0)
    points_state: Mapped[str | None] = mapped_column(String(16))
    points_returned: Mapped[int] = mapped_column(BigInteger, default=0)

    def move_to(self, status: str, reason: str | None = None) -> bool:
        """Take a newer status; ignore one that is older or after a final one. True if changed."""
        if STATUS_RANK.get(status, 0) <= STATUS_RANK.get(self.status, 0):
            return False
        self.status, self.updated_at = status, utcnow()
        if status == "CANCELLED":
            self.cancel_reason = reason
        return True


class PurchaseRefund(Base):
    __tablename__ = "purchase_refunds"

    refund_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(36), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    return_id: Mapped[str | None] = mapped_column(String(36))  # a return's refund: gives back `points`
    points: Mapped[int | None] = mapped_column(BigInteger)
    # The spent points this refund gave back; None until the order's points were settled for it.
    points_returned: Mapped[int | None] = mapped_column(BigInteger)


# ---- membership ------------------------------------------------------------------------------
TIERS = ("regular", "silver", "gold", "diamond")
TIER_LABELS = {"regular": "普通", "silver": "银卡", "gold": "金卡", "diamond": "钻石"}


def points_for(total: int, per_yuan: int) -> int:
    """Points for an order: `per_yuan` per whole yuan (100 fen) of its total."""
    return max(total, 0) // 100 * per_yuan


def tier_for(points: int, thresholds: tuple[int, ...]) -> str:
    tier = TIERS[0]
    for name, threshold in zip(TIERS, thresholds, strict=True):
        if points >= threshold:
            tier = name
    return tier


def next_tier(points: int, thresholds: tuple[int, ...]) -> tuple[str | None, int | None]:
    """The tier above the current one and the points still missing (None at the top)."""
    for name, threshold in zip(TIERS, thresholds, strict=True):
        if points < threshold:
            return name, threshold - points
    return None, None


def points_to_reverse(awarded: int, base: int, refunded_total: int, reversed_so_far: int, balance: int) -> int:
    """How many points a refund takes back: the refunded share of what the order earned, less
    what earlier refunds took already, never more than the balance (it never goes below zero)."""
    if awarded <= 0 or base <= 0:
        return 0
    target = min(awarded, awarded * min(refunded_total, base) // base)
    return max(0, min(target - reversed_so_far, balance))


def points_share(used: int, total: int, refunded: int) -> int:
    """The points of an order's refunded share: `used` × refunded / total, rounded half up, all
    of them once the whole total is refunded (a refund without a return's own `points`)."""
    if used <= 0:
        return 0
    if total <= 0 or refunded >= total:
        return used
    return (2 * used * max(refunded, 0) + total) // (2 * total)


class Membership(Base):
    """One row per member: the current tier (to notice a crossing) and a lock to serialize
    changes to one member's ledger. The balance lives in the ledger."""

    __tablename__ = "memberships"

    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tier: Mapped[str] = mapped_column(String(16), default="regular")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=0)  # grows with every MembershipChanged


class PointsEntry(Base):
    __tablename__ = "points_entries"
    __table_args__ = (Index("ix_points_entries_customer_at", "customer_id", "at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(String(36))
    # What makes this entry happen once: "award:<order>", "refund:<refund>", "adjust:<id>",
    # "hold:<order>", "spend:<order>", "return:cancel:<order>", "return:refund:<refund>".
    key: Mapped[str] = mapped_column(String(80), unique=True)
    order_id: Mapped[str | None] = mapped_column(String(36), index=True)
    # earn (awarded, reversed on a refund, adjusted by staff: the tier follows their sum), or
    # points redeemed on an order: hold, spend, return (given back).
    kind: Mapped[str] = mapped_column(String(16), default="earn")
    points: Mapped[int] = mapped_column(BigInteger)  # the change of the spendable balance
    held: Mapped[int] = mapped_column(BigInteger, default=0)  # the change of the points held for orders
    reason: Mapped[str] = mapped_column(String(200))
    # The amount in fen the entry is based on (the order total, the refund amount).
    amount: Mapped[int | None] = mapped_column(BigInteger)
    by: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(default=utcnow)


# ---- customer service ------------------------------------------------------------------------
TICKET_CATEGORIES = ("order", "payment", "delivery", "return", "account", "other")
TICKET_STATUSES = ("open", "pending_customer", "resolved", "closed")
# The ticket state machine: (from, to) -> who may make that move by hand. Messages move it too:
# a staff reply asks the customer (pending_customer), a customer reply reopens it (open).
TICKET_TRANSITIONS = {
    ("open", "pending_customer"): "staff",
    ("open", "resolved"): "staff",
    ("pending_customer", "open"): "customer",
    ("pending_customer", "resolved"): "staff",
    ("resolved", "open"): "customer",
    ("open", "closed"): "customer",
    ("pending_customer", "closed"): "customer",
    ("resolved", "closed"): "customer",
}


class TicketClosed(Conflict):
    code, message = "ticket_closed", "The ticket is closed"


class IllegalTicketTransition(Conflict):
    code = "illegal_ticket_transition"


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status_created_at", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    order_id: Mapped[str | None] = mapped_column(String(36))
    category: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="open")
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    messages: Mapped[list[TicketMessage]] = relationship(order_by="TicketMessage.at", lazy="selectin")

    def move_to(self, status: str, staff: bool) -> bool:
        """A hand-made status change by a customer or staff (staff may do what customers may).
        True if it changed; the same status again is a no-op."""
        if status == self.status:
            return False
        allowed = TICKET_TRANSITIONS.get((self.status, status))
        if allowed is None or (allowed == "staff" and not staff):
            raise IllegalTicketTransition(f"A ticket cannot go from {self.status} to {status}"
                                          + ("" if allowed is None else " by the customer"))
        self.status, self.updated_at = status, utcnow()
        return True

    def on_message(self, staff: bool) -> None:
        """A message arrived: a staff reply awaits the customer, a customer reply reopens."""
        if self.status == "closed":
            raise TicketClosed()
        target = "pending_customer" if staff else "open"
        if self.status != target and (self.status, target) in TICKET_TRANSITIONS:
            self.status = target
        self.updated_at = utcnow()


class TicketMessage(Base):
    __tablename__ = "ticket_messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    author_id: Mapped[str] = mapped_column(String(36))
    author_role: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


# ---- reviews ---------------------------------------------------------------------------------
def review_problem(record: PurchaseRecord | None, customer_id: str, sku_id: str) -> str | None:
    """Why a customer may not review this SKU of this order (None when they may): only for a
    line of one of their own COMPLETED orders."""
    if record is None or record.customer_id != customer_id:
        return "order_not_found"
    if record.status != "COMPLETED":
        return "order_not_completed"
    if sku_id not in {line.get("sku_id") for line in record.lines or []}:
        return "sku_not_in_order"
    return None


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("order_id", "sku_id"), Index("ix_reviews_sku_status", "sku_id", "status"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(String(36), index=True)
    order_id: Mapped[str] = mapped_column(String(36))
    sku_id: Mapped[str] = mapped_column(String(36))
    rating: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="visible")  # visible, hidden
    hidden_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def editable(self, now: datetime, window_days: int) -> bool:
        return self.status == "visible" and now <= self.created_at + timedelta(days=window_days)
