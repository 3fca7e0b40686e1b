"""The shopper's own account: profile, address book, membership, customer-service tickets."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from . import api
from .auth import attempt, login_required
from .i18n import gettext
from .shop_orders import ADDRESS_FIELDS

bp = Blueprint("account", __name__, url_prefix="/account")

TICKET_CATEGORIES = ("order", "payment", "delivery", "return", "account", "other")


@bp.get("/")
@login_required
def profile():
    me, membership = api.get_all(("/api/crm/me", None), ("/api/crm/me/membership", None))
    return render_template("shop/account.html", me=me, membership=membership)


@bp.post("/")
@login_required
def update_profile():
    form = request.form
    changes = {"name": form.get("name", "").strip()}
    for key in ("email", "mobile"):
        changes[key] = form.get(key, "").strip() or None
    attempt(lambda: api.patch("/api/crm/me", changes), gettext("Profile saved"))
    return redirect(url_for("account.profile"))


@bp.route("/addresses", methods=["GET", "POST"])
@login_required
def addresses():
    if request.method == "POST":
        body = {k: request.form.get(k, "").strip() for k in ADDRESS_FIELDS}
        body["postal_code"] = body["postal_code"] or None
        body["is_default"] = bool(request.form.get("is_default"))
        attempt(lambda: api.post("/api/crm/me/addresses", body), gettext("Address saved"))
        return redirect(url_for("account.addresses"))
    return render_template("shop/addresses.html", addresses=api.get("/api/crm/me/addresses"))


@bp.post("/addresses/<address_id>/default")
@login_required
def default_address(address_id: str):
    attempt(lambda: api.patch(f"/api/crm/me/addresses/{address_id}", {"is_default": True}))
    return redirect(url_for("account.addresses"))


@bp.post("/addresses/<address_id>/delete")
@login_required
def delete_address(address_id: str):
    attempt(lambda: api.delete(f"/api/crm/me/addresses/{address_id}"), gettext("Address removed"))
    return redirect(url_for("account.addresses"))


@bp.route("/tickets", methods=["GET", "POST"])
@login_required
def tickets():
    if request.method == "POST":
        form = request.form
        body = {"category": form.get("category", ""), "subject": form.get("subject", "").strip(),
                "message": form.get("message", "").strip(), "order_id": form.get("order_id", "").strip() or None}
        try:
            ticket = api.post("/api/crm/tickets", body)
        except api.ApiError as exc:
            flash(exc.readable(), "error")
        else:
            return redirect(url_for("account.ticket", ticket_id=ticket["id"]))
    found = api.get("/api/crm/tickets", page=request.args.get("page", type=int) or 1)
    return render_template("shop/tickets.html", found=found, categories=TICKET_CATEGORIES,
                           order_id=request.args.get("order_id", ""))


@bp.get("/tickets/<ticket_id>")
@login_required
def ticket(ticket_id: str):
    return render_template("shop/ticket.html", ticket=api.get(f"/api/crm/tickets/{ticket_id}"))


@bp.post("/tickets/<ticket_id>/reply")
@login_required
def reply(ticket_id: str):
    body = request.form.get("body", "").strip()
    attempt(lambda: api.post(f"/api/crm/tickets/{ticket_id}/messages", {"body": body}))
    return redirect(url_for("account.ticket", ticket_id=ticket_id))


@bp.post("/tickets/<ticket_id>/close")
@login_required
def close_ticket(ticket_id: str):
    attempt(lambda: api.post(f"/api/crm/tickets/{ticket_id}/status", {"status": "closed"}))
    return redirect(url_for("account.ticket", ticket_id=ticket_id))
