"""crm's customer service API: tickets and their message threads. Thin views."""
from flask.views import MethodView
from flask_smorest import Blueprint

from mall_shared.api import page_schema, paginate, transaction
from mall_shared.auth import require, requires

from . import tickets
from .schemas import (
    TicketAssignSchema,
    TicketDetailSchema,
    TicketMessageSchema,
    TicketQueryArgs,
    TicketSchema,
    TicketStatusSchema,
)

blp = Blueprint("tickets", __name__, url_prefix="/api/crm/tickets", description="Customer service tickets")


@blp.route("")
class Tickets(MethodView):
    @requires("customer")
    @blp.arguments(TicketQueryArgs, location="query")
    @blp.response(200, page_schema(TicketSchema))
    def get(self, args):
        """My tickets, newest first; for staff the queue, oldest first, by status, assignee and age"""
        who = require()
        stmt = tickets.ticket_list(who, args.get("status"), args.get("assigned"), args.get("older_than_hours"))
        with transaction() as session:
            return paginate(session, stmt, args["page"], args["per_page"])

    @requires("customer")
    @blp.arguments(TicketSchema)
    @blp.response(201, TicketDetailSchema)
    def post(self, data):
        """Open a ticket, maybe about one of my orders, with its first message"""
        with transaction() as session:
            return tickets.open_ticket(session, require().id, data["subject"], data["category"], data["message"],
                                       data["order_id"])


@blp.route("/<ticket_id>")
class TicketDetail(MethodView):
    @requires("customer")
    @blp.response(200, TicketDetailSchema)
    def get(self, ticket_id):
        """A ticket with its message thread"""
        with transaction() as session:
            return tickets.get_ticket(session, require(), ticket_id)


@blp.route("/<ticket_id>/messages")
class TicketMessages(MethodView):
    @requires("customer")
    @blp.arguments(TicketMessageSchema)
    @blp.response(201, TicketDetailSchema)
    def post(self, data, ticket_id):
        """Reply in the thread (a staff reply waits for the customer; a customer reply reopens)"""
        with transaction() as session:
            return tickets.post_message(session, require(), ticket_id, data["body"])


@blp.route("/<ticket_id>/status")
class TicketStatus(MethodView):
    @requires("customer")
    @blp.arguments(TicketStatusSchema)
    @blp.response(200, TicketDetailSchema)
    def post(self, data, ticket_id):
        """Move a ticket: staff resolve it, the customer closes or reopens it"""
        with transaction() as session:
            return tickets.change_ticket_status(session, require(), ticket_id, data["status"])


@blp.route("/<ticket_id>/assign")
class TicketAssign(MethodView):
    @requires("staff")
    @blp.arguments(TicketAssignSchema)
    @blp.response(200, TicketDetailSchema)
    def post(self, data, ticket_id):
        """Take a ticket, or hand it to another staff member (staff)"""
        who = require()
        with transaction() as session:
            return tickets.assign_ticket(session, ticket_id, data["assignee_id"] or who.id, who)
