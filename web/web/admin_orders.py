"""The admin console's orders: filter, detail, process, ship, cancel, refund; and returns (售后)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from . import api
from .auth import attempt, staff_required
from .i18n import gettext, to_fen

bp = Blueprint("admin_orders", __name__, url_prefix="/admin")

ORDER_STATUSES = ("PENDING", "AWAITING_PAYMENT", "PAID", "PROCESSING", "SHIPPED", "COMPLETED", "CANCELLED")
RETURN_STATUSES = ("requested", "approved", "shipped", "received", "refunded", "refused")


@bp.get("/orders")
@staff_required
def orders():
    args = request.args
    page = args.get("page", type=int) or 1
    found = api.get("/api/orders", status=args.get("status"), customer_id=args.get("customer_id", "").strip(),
                    created_from=args.get("created_from"), created_to=args.get("created_to"), page=page, per_page=20)
    return render_template("admin/orders.html", found=found, page=page, statuses=ORDER_STATUSES)


@bp.get("/orders/<order_id>")
@staff_required
def order(order_id: str):
    item, payments, tracking, carriers, returns = api.get_all(
        (f"/api/orders/{order_id}", None), ("/api/payments", {"order_id": order_id}),
        (f"/api/logistics/orders/{order_id}/tracking?", None), ("/api/logistics/carriers", None),
        ("/api/logistics/returns", {"order_id": order_id}))
    return render_template("admin/order.html", order=item, payments=payments["items"], tracking=tracking,
                           carriers=[c for c in carriers if c.get("active", True)], returns=returns["items"])


@bp.post("/orders/<order_id>/<action>")
@staff_required
def order_action(order_id: str, action: str):
    form = request.form
    if action == "process":
        attempt(lambda: api.post(f"/api/orders/{order_id}/process"), gettext("Picking and packing"))
    elif action == "ship":
        body = {"order_id": order_id, "carrier": form.get("carrier", ""),
                "tracking_number": form.get("tracking_number", "").strip()}
        attempt(lambda: api.post("/api/logistics/shipments", body), gettext("Shipped"))
    elif action == "cancel":
        attempt(lambda: api.post(f"/api/orders/{order_id}/cancel", {"reason": form.get("reason", "").strip() or None}),
                gettext("The order is cancelled"))
    elif action == "refund":
        try:
            body = {"amount": to_fen(form.get("amount")),
                    "reason": form.get("reason", "").strip() or "requested by staff"}
        except ValueError:
            flash(gettext("Prices are amounts in yuan, such as 199 or 199.50"), "error")
        else:
            attempt(lambda: api.post(f"/api/payments/{form.get('payment_id', '')}/refunds", body),
                    gettext("Refund sent"))
    elif action == "track":
        body = {"status": form.get("status", ""), "location": form.get("location", "").strip() or None}
        attempt(lambda: api.post(f"/api/logistics/shipments/{form.get('shipment_id', '')}/events", body),
                gettext("Tracking updated"))
    return redirect(url_for("admin_orders.order", order_id=order_id))


@bp.get("/returns")
@staff_required
def returns():
    status = request.args.get("status") or "requested"
    page = request.args.get("page", type=int) or 1
    found = api.get("/api/logistics/returns", status=status, page=page, per_page=20)
    return render_template("admin/returns.html", found=found, status=status, statuses=RETURN_STATUSES, page=page)


@bp.post("/returns/<return_id>/<action>")
@staff_required
def return_action(return_id: str, action: str):
    if action in ("approve", "receive"):
        attempt(lambda: api.post(f"/api/logistics/returns/{return_id}/{action}"), gettext("Done"))
    elif action == "refuse":
        reason = request.form.get("reason", "").strip()
        attempt(lambda: api.post(f"/api/logistics/returns/{return_id}/refuse", {"reason": reason}), gettext("Done"))
    return redirect(url_for("admin_orders.returns", status=request.form.get("status") or "requested"))
