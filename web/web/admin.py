"""The admin console's home and people side: dashboard, customers, tickets, carriers and delivery methods."""
from __future__ import annotations

from datetime import datetime, time

from flask import Blueprint, redirect, render_template, request, url_for

from . import api
from .auth import attempt, staff_required
from .i18n import SHANGHAI, gettext, to_fen

bp = Blueprint("admin", __name__, url_prefix="/admin")

@bp.get("/")
@staff_required
def dashboard():
    start = datetime.combine(datetime.now(SHANGHAI).date(), time(), tzinfo=SHANGHAI).isoformat()
    found, to_process, low_stock, open_tickets = api.get_all(
        ("/api/orders", {"created_from": start, "per_page": 100}), ("/api/orders", {"status": "PAID", "per_page": 5}),
        ("/api/catalog/skus/low-stock", {"per_page": 5}), ("/api/crm/tickets", {"status": "open", "per_page": 5}))
    today, page = found["items"], 1
    while page * 100 < found["total"] and page < 20:  # the rest of today's orders (reports will replace this)
        page += 1
        today += api.get("/api/orders", created_from=start, page=page, per_page=100)["items"]
    sales = sum(o["total"] for o in today if o["status"] not in ("PENDING", "CANCELLED", "AWAITING_PAYMENT"))
    return render_template("admin/dashboard.html", orders_today=found["total"], sales_today=sales,
                           to_process=to_process, low_stock=low_stock, open_tickets=open_tickets)


@bp.get("/customers")
@staff_required
def customers():
    page = request.args.get("page", type=int) or 1
    found = api.get("/api/crm/customers", q=request.args.get("q", "").strip(), page=page, per_page=20)
    return render_template("admin/customers.html", found=found, page=page)


@bp.get("/customers/<customer_id>")
@staff_required
def customer(customer_id: str):
    return render_template("admin/customer.html", c=api.get(f"/api/crm/customers/{customer_id}"))


@bp.post("/customers/<customer_id>/points")
@staff_required
def adjust_points(customer_id: str):
    body = {"points": request.form.get("points", type=int), "reason": request.form.get("reason", "").strip()}
    attempt(lambda: api.post(f"/api/crm/customers/{customer_id}/points", body), gettext("Points adjusted"))
    return redirect(url_for("admin.customer", customer_id=customer_id))


@bp.get("/tickets")
@staff_required
def tickets():
    status = request.args.get("status") or "open"
    found = api.get("/api/crm/tickets", status=status, page=request.args.get("page", type=int) or 1)
    return render_template("admin/tickets.html", found=found, status=status)


@bp.get("/tickets/<ticket_id>")
@staff_required
def ticket(ticket_id: str):
    return render_template("admin/ticket.html", ticket=api.get(f"/api/crm/tickets/{ticket_id}"))


@bp.post("/tickets/<ticket_id>/<action>")
@staff_required
def ticket_action(ticket_id: str, action: str):
    calls = {
        "reply": lambda: api.post(f"/api/crm/tickets/{ticket_id}/messages", {"body": request.form.get("body", "")}),
        "resolve": lambda: api.post(f"/api/crm/tickets/{ticket_id}/status", {"status": "resolved"}),
        "assign": lambda: api.post(f"/api/crm/tickets/{ticket_id}/assign", {}),
    }
    if action in calls:
        attempt(calls[action], gettext("Done"))
    return redirect(url_for("admin.ticket", ticket_id=ticket_id))


@bp.get("/logistics")
@staff_required
def logistics():
    return render_template("admin/logistics.html", carriers=api.get("/api/logistics/carriers"),
                           methods=api.get("/api/logistics/delivery-methods", include_inactive="true"))


@bp.post("/logistics/carriers")
@staff_required
def add_carrier():
    form = request.form
    body = {k: form.get(k, "").strip() for k in ("id", "name", "tracking_pattern", "tracking_url_template")}
    attempt(lambda: api.post("/api/logistics/carriers", body), gettext("Carrier added"))
    return redirect(url_for("admin.logistics"))


@bp.post("/logistics/carriers/<carrier_id>/active")
@staff_required
def carrier_active(carrier_id: str):
    active = request.form.get("active") == "1"
    attempt(lambda: api.patch(f"/api/logistics/carriers/{carrier_id}", {"active": active}))
    return redirect(url_for("admin.logistics"))


@bp.post("/logistics/methods")
@staff_required
def save_method():
    form = request.form
    method_id = form.get("id", "").strip()
    try:
        fee = to_fen(form.get("fee")) or 0
    except ValueError:
        fee = -1  # the API refuses it with its own message
    body = {"name": form.get("name", "").strip(), "fee": fee,
            "est_days_min": form.get("est_days_min", type=int), "est_days_max": form.get("est_days_max", type=int),
            "regions": [r.strip() for r in form.get("regions", "").replace("，", ",").split(",") if r.strip()] or None,
            "active": form.get("active", "1") == "1"}
    if form.get("existing"):
        attempt(lambda: api.patch(f"/api/logistics/delivery-methods/{method_id}", body), gettext("Saved"))
    else:
        attempt(lambda: api.post("/api/logistics/delivery-methods", {"id": method_id, **body}), gettext("Saved"))
    return redirect(url_for("admin.logistics"))
