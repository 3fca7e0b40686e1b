"""crm's use cases for profiles, the address book and the purchase history:
`verb_noun(session, ...)`, no Flask, no commit — the caller owns the transaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from mall_shared.api import Conflict, NotFound, paginate
from mall_shared.auth import Identity
from mall_shared.db import lock, locked_row, utcnow
from mall_shared.events import AddressDeleted, AddressSaved
from mall_shared.outbox import emit

from . import membership, tickets
from .accounts import AccountExists, get_account, login_taken
from .config import CrmConfig
from .models import Account, Address, PurchaseRecord, PurchaseRefund

MAX_ADDRESSES = 20
ADDRESS_FIELDS = ("name", "phone", "province", "city", "district", "detail", "postal_code")
OVERVIEW_ROWS = 20


class AddressNotFound(NotFound):
    code, message = "address_not_found", "Address not found"


# ---- profile ---------------------------------------------------------------------------------
def update_profile(session: Session, account_id: str, changes: dict) -> Account:
    """Change name, email or mobile; an email or mobile may belong to one account only."""
    account = get_account(session, account_id)
    if "email" in changes and changes["email"]:
        changes["email"] = changes["email"].lower()
    email, mobile = changes.get("email", account.email), changes.get("mobile", account.mobile)
    if not email and not mobile:
        raise Conflict("An account needs an email or a mobile number to log in", code="login_required")
    if login_taken(session, changes.get("email"), changes.get("mobile"), exclude=account.id):
        raise AccountExists()
    for key, value in changes.items():
        setattr(account, key, value)
    return account


# ---- address book ----------------------------------------------------------------------------
def list_addresses(session: Session, customer_id: str) -> list[Address]:
    stmt = select(Address).where(Address.customer_id == customer_id)
    return list(session.scalars(stmt.order_by(Address.is_default.desc(), Address.created_at.desc())))


def get_address(session: Session, customer_id: str, address_id: str) -> Address:
    """One of the customer's own addresses; another customer's reads as not found."""
    address = session.get(Address, address_id)
    if address is None or address.customer_id != customer_id:
        raise AddressNotFound()
    return address


def _make_default(session: Session, address: Address) -> None:
    session.execute(update(Address).where(Address.customer_id == address.customer_id, Address.id != address.id)
                    .values(is_default=False))
    address.is_default = True


def add_address(session: Session, customer_id: str, data: dict) -> Address:
    """Save an address; the first one, or one marked so, becomes the only default."""
    get_account(session, customer_id)
    count = session.scalar(select(func.count()).where(Address.customer_id == customer_id))
    if count >= MAX_ADDRESSES:
        raise Conflict(f"An address book holds at most {MAX_ADDRESSES} addresses", code="address_book_full")
    make_default = data.pop("is_default", False) or count == 0
    address = Address(customer_id=customer_id, is_default=False, **data)
    session.add(address)
    session.flush()
    if make_default:
        _make_default(session, address)
    _address_saved(session, address)
    return address


def update_address(session: Session, customer_id: str, address_id: str, changes: dict) -> Address:
    address = get_address(session, customer_id, address_id)
    make_default = changes.pop("is_default", None)
    for key, value in changes.items():
        setattr(address, key, value)
    if make_default:
        _make_default(session, address)
    # Unsetting the only default is ignored: there is always one while the book is not empty.
    if changes:
        _address_saved(session, address)
    return address


def _address_saved(session: Session, address: Address) -> None:
    """Tell order (which checks out with `address_id` from its copy) the address as it is now."""
    address.version = (address.version or 0) + 1
    emit(session, AddressSaved(address_id=address.id, customer_id=address.customer_id, version=address.version,
                               **{f: getattr(address, f) for f in ADDRESS_FIELDS}))


def delete_address(session: Session, customer_id: str, address_id: str) -> None:
    """Remove an address; if it was the default, the newest remaining one takes over."""
    address = get_address(session, customer_id, address_id)
    session.delete(address)
    session.flush()
    emit(session, AddressDeleted(address_id=address.id, customer_id=customer_id, version=(address.version or 0) + 1))
    if address.is_default:
        newest = session.scalar(select(Address).where(Address.customer_id == customer_id)
                                .order_by(Address.created_at.desc()).limit(1))
        if newest is not None:
            newest.is_default = True


# ---- purchase history ------------------------------------------------------------------------
def _record(session: Session, order_id: str, customer_id: str, at: datetime | None = None) -> PurchaseRecord:
    """The order's history row, locked, created by whichever of its events arrives first: two
    workers handling two of its events at once take turns on it (the points saga relies on it)."""
    lock(session, "order", order_id)  # first, in every handler of an order's events: see record_refund
    record = session.get(PurchaseRecord, order_id, with_for_update=True)
    if record is None:
        record = locked_row(session, PurchaseRecord, order_id=order_id, customer_id=customer_id, status="PENDING",
                            total=0, currency="CNY", lines=[], placed_at=at or utcnow(), updated_at=utcnow(),
                            refunded=refunded_total(session, order_id))  # a refund may come first
    return record


def record_order_placed(session: Session, order_id: str, customer_id: str, total: int, currency: str,
                        lines: list[dict], placed_at: datetime, points_used: int = 0) -> PurchaseRecord:
    """Fill in what was bought; a status that arrived earlier is kept."""
    record = _record(session, order_id, customer_id, placed_at)
    record.total, record.currency, record.lines, record.placed_at = total, currency, lines, placed_at
    record.points_used = points_used
    return record


def record_order_status(session: Session, order_id: str, customer_id: str, status: str,
                        reason: str | None = None, total: int | None = None) -> PurchaseRecord:
    record = _record(session, order_id, customer_id)
    if total is not None and not record.total:
        record.total = total
    record.move_to(status, reason)
    return record


def record_refund(session: Session, refund_id: str, order_id: str, amount: int, return_id: str | None = None,
                  points: int | None = None) -> bool:
    """Add a refund (a return's: with its points) to the order's history once (by refund id),
    with the order's row locked. True if it was new. Under the order's lock first, as `_record`: a
    completion handled at the same time (its points, a history row not committed yet, which a row
    lock cannot wait for) commits before we look, or waits and then sees this refund."""
    lock(session, "order", order_id)
    if session.get(PurchaseRefund, refund_id) is not None:
        return False
    session.add(PurchaseRefund(refund_id=refund_id, order_id=order_id, amount=amount, return_id=return_id,
                               points=points))
    record = session.get(PurchaseRecord, order_id, with_for_update=True)
    if record is not None:
        record.refunded += amount
        record.updated_at = utcnow()
    session.flush()
    return True


def locked_record(session: Session, order_id: str) -> PurchaseRecord | None:
    """The order's history row, locked (None while no event of the order has arrived)."""
    return session.get(PurchaseRecord, order_id, with_for_update=True)


def refunded_total(session: Session, order_id: str) -> int:
    # int(): PostgreSQL sums a bigint column as numeric (a Decimal).
    return int(session.scalar(select(func.coalesce(func.sum(PurchaseRefund.amount), 0))
                              .where(PurchaseRefund.order_id == order_id)))


def refunds_of(session: Session, order_id: str) -> list[PurchaseRefund]:
    stmt = select(PurchaseRefund).where(PurchaseRefund.order_id == order_id)
    return list(session.scalars(stmt.order_by(PurchaseRefund.at, PurchaseRefund.refund_id)))


def purchases(customer_id: str) -> Select:
    """A customer's orders, newest first."""
    return (select(PurchaseRecord).where(PurchaseRecord.customer_id == customer_id)
            .order_by(PurchaseRecord.placed_at.desc(), PurchaseRecord.order_id))


# ---- staff view of a customer ----------------------------------------------------------------
def customer_list(query: str | None = None) -> Select:
    """Customer accounts, newest first, optionally those whose name, email or mobile contains `query`."""
    stmt = select(Account).where(Account.role == "customer")
    if query:
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        stmt = stmt.where(Account.name.ilike(pattern, escape="\\") | Account.email.ilike(pattern, escape="\\")
                          | Account.mobile.ilike(pattern, escape="\\"))
    return stmt.order_by(Account.created_at.desc(), Account.id)


def customer_overview(session: Session, customer_id: str, config: CrmConfig, staff: Identity) -> dict:
    """Profile, latest orders, points and latest tickets of one customer, for staff."""
    profile = get_account(session, customer_id)
    orders = paginate(session, purchases(customer_id), 1, OVERVIEW_ROWS)
    queue = paginate(session, tickets.ticket_list(staff, customer_id=customer_id), 1, OVERVIEW_ROWS)
    return {"profile": profile, "orders": orders["items"], "orders_total": orders["total"],
            "membership": membership.membership_summary(session, customer_id, config),
            "tickets": queue["items"], "tickets_total": queue["total"]}
