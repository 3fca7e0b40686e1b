"""Customer service (售后/客服) tickets: a message thread between a customer and staff, maybe
about one of the customer's orders. No Flask, no commit."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from mall_shared.api import BadRequest, NotFound
from mall_shared.auth import Identity
from mall_shared.db import utcnow

from .accounts import get_account
from .models import PurchaseRecord, Ticket, TicketMessage


class TicketNotFound(NotFound):
    code, message = "ticket_not_found", "Ticket not found"


class OrderNotFound(NotFound):
    code, message = "order_not_found", "No such order in your purchase history"


class NotStaff(BadRequest):
    code, message = "assignee_not_staff", "Tickets are assigned to staff accounts only"


def open_ticket(session: Session, customer_id: str, subject: str, category: str, message: str,
                order_id: str | None = None) -> Ticket:
    """A customer opens a ticket with its first message; an order must be one of theirs."""
    get_account(session, customer_id)  # a valid token of an account that is gone: 404, not a broken row
    if order_id is not None:
        record = session.get(PurchaseRecord, order_id)
        if record is None or record.customer_id != customer_id:
            raise OrderNotFound()
    ticket = Ticket(customer_id=customer_id, subject=subject, category=category, order_id=order_id, status="open",
                    messages=[TicketMessage(author_id=customer_id, author_role="customer", body=message)])
    session.add(ticket)
    session.flush()
    return ticket


def get_ticket(session: Session, who: Identity, ticket_id: str, lock: bool = False) -> Ticket:
    """A ticket as the caller may see it: a customer only their own (others read as not found)."""
    ticket = session.get(Ticket, ticket_id, with_for_update=lock)
    if ticket is None or (not who.is_staff and ticket.customer_id != who.id):
        raise TicketNotFound()
    return ticket


def post_message(session: Session, who: Identity, ticket_id: str, body: str) -> Ticket:
    """Add to the thread; a staff reply waits for the customer, a customer reply reopens."""
    ticket = get_ticket(session, who, ticket_id, lock=True)
    ticket.on_message(staff=who.is_staff)
    ticket.messages.append(TicketMessage(author_id=who.id, author_role=who.role, body=body))
    session.flush()
    return ticket


def change_ticket_status(session: Session, who: Identity, ticket_id: str, status: str) -> Ticket:
    ticket = get_ticket(session, who, ticket_id, lock=True)
    ticket.move_to(status, staff=who.is_staff)
    return ticket


def assign_ticket(session: Session, ticket_id: str, assignee_id: str, who: Identity) -> Ticket:
    """Staff take a ticket or hand it to a colleague."""
    ticket = get_ticket(session, who, ticket_id, lock=True)
    if get_account(session, assignee_id).role not in ("staff", "admin"):
        raise NotStaff()
    ticket.assignee_id, ticket.updated_at = assignee_id, utcnow()
    return ticket


def ticket_list(who: Identity, status: str | None = None, assigned: str | None = None,
                older_than_hours: int | None = None, customer_id: str | None = None) -> Select:
    """A customer's own tickets, newest first; for staff the queue, oldest first."""
    stmt = select(Ticket)
    if status:
        stmt = stmt.where(Ticket.status == status)
    if not who.is_staff:
        return stmt.where(Ticket.customer_id == who.id).order_by(Ticket.created_at.desc(), Ticket.id)
    if customer_id:
        stmt = stmt.where(Ticket.customer_id == customer_id)
    if assigned == "me":
        stmt = stmt.where(Ticket.assignee_id == who.id)
    elif assigned == "unassigned":
        stmt = stmt.where(Ticket.assignee_id.is_(None))
    if older_than_hours:
        stmt = stmt.where(Ticket.created_at <= utcnow() - timedelta(hours=older_than_hours))
    return stmt.order_by(Ticket.created_at, Ticket.id)
