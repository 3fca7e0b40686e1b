"""The storefront's order side: checkout, paying, my orders with their timeline and tracking,
confirming receipt, reviews and returns."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from . import api
from .auth import attempt, login_required
from .i18n import gettext
from .shop import cart, save_cart

bp = Blueprint("orders", __name__)

METHODS = ("alipay", "wechat_pay", "card")
ADDRESS_FIELDS = ("name", "phone", "province", "city", "district", "detail", "postal_code")


def sync_cart() -> None:
    """order's `/api/cart` prices what is bought (campaigns, a coupon, points): before checkout it
    is made to hold what the session's cart holds (the session keeps the cart for anonymous visits)."""
    items = cart()
    for line in api.get("/api/cart")["lines"]:
        if line["sku_id"] not in items:
            api.delete(f"/api/cart/items/{line['sku_id']}")
    for sku_id, quantity in items.items():
        api.call("PUT", f"/api/cart/items/{sku_id}", json={"quantity": quantity})


def _offer(form) -> dict:
    """The coupon and points the shopper chose, as the cart and checkout take them."""
    points = form.get("points", "").strip()
    return {"coupon_id": form.get("coupon_id") or None, "points": int(points) if points.isdigit() else 0}


@bp.route("/checkout", methods=["GET", "POST"])
@login_required
def checkout():
    if not cart():
        flash(gettext("Your cart is empty"), "error")
        return redirect(url_for("shop.view_cart"))
    form = request.form if request.method == "POST" else {}
    offer = _offer(form)
    sync_cart()
    addresses, methods, wallet = api.get_all(("/api/crm/me/addresses", None),
                                             ("/api/logistics/delivery-methods", None),
                                             ("/api/promotions/me/coupons", None))
    method_id = form.get("delivery_method_id") or (methods[0]["id"] if methods else None)
    try:
        priced = api.get("/api/cart", delivery_method_id=method_id, **offer)
    except api.ApiError as exc:  # a coupon or points the cart refuses: shown, and priced without them
        flash(exc.readable(), "error")
        offer = {"coupon_id": None, "points": 0}
        priced = api.get("/api/cart")
    page = {"cart": priced, "addresses": addresses, "methods": methods, "form": form, "offer": offer,
            "coupons": [c for c in wallet["items"] if c["applies_to_cart"]]}
    if request.method == "GET" or form.get("action") == "quote":
        return render_template("shop/checkout.html", **page)
    body = {"delivery_method_id": form.get("delivery_method_id", ""), **{k: v for k, v in offer.items() if v}}
    address = {k: form.get(k, "").strip() for k in ADDRESS_FIELDS}
    address["postal_code"] = address["postal_code"] or None
    try:
        if form.get("address_id") and form["address_id"] != "new":
            body["address_id"] = form["address_id"]
        elif form.get("save_address"):  # into the address book first, then ordered with it
            body["address_id"] = api.post("/api/crm/me/addresses", address | {"is_default": not addresses})["id"]
        else:
            body["shipping_address"] = address
        order = api.post("/api/cart/checkout", body)
    except api.ApiError as exc:
        flash(exc.readable(), "error")
        return render_template("shop/checkout.html", **page), 400 if exc.status < 500 else exc.status
    save_cart({})  # order emptied its cart with the order; the session's follows
    return redirect(url_for("orders.pay", order_id=order["id"]))


@bp.get("/orders")
@login_required
def my_orders():
    page = request.args.get("page", type=int) or 1
    found = api.get("/api/orders", status=request.args.get("status"), page=page, per_page=10)
    return render_template("shop/orders.html", found=found, page=page)


@bp.get("/orders/<order_id>")
@login_required
def order(order_id: str):
    item, tracking, returns = api.get_all((f"/api/orders/{order_id}", None),
                                          (f"/api/logistics/orders/{order_id}/tracking?", None),
                                          ("/api/logistics/returns", {"order_id": order_id}))
    return render_template("shop/order.html", order=item, tracking=tracking, returns=returns["items"])


@bp.get("/orders/<order_id>/status")
@login_required
def order_status(order_id: str):
    """Polled by the page (htmx) while the order or its payment is settling: reload once it moved on."""
    status = api.get(f"/api/orders/{order_id}")["status"]
    if status != request.args.get("seen"):
        return "", 200, {"HX-Refresh": "true"}
    return render_template("shop/_waiting.html", order_id=order_id, status=status)


@bp.route("/orders/<order_id>/pay", methods=["GET", "POST"])
@login_required
def pay(order_id: str):
    item = api.get(f"/api/orders/{order_id}")
    if request.method == "POST" and item["status"] == "AWAITING_PAYMENT":
        method = request.form.get("method")
        body = {"order_id": order_id, "method": method}
        try:
            if method == "card":
                card = api.post("/api/payments/cards", {
                    "number": request.form.get("number", ""), "cvc": request.form.get("cvc", ""),
                    "exp_month": request.form.get("exp_month", type=int),
                    "exp_year": request.form.get("exp_year", type=int)})
                body["card_token"] = card["id"]
            payment = api.post("/api/payments", body)
        except api.ApiError as exc:
            flash(exc.readable(), "error")
        else:
            return redirect(url_for("orders.payment", payment_id=payment["id"]))
    return render_template("shop/pay.html", order=item, methods=METHODS)


@bp.get("/payments/<payment_id>")
@login_required
def payment(payment_id: str):
    item = api.get(f"/api/payments/{payment_id}")
    return render_template("shop/payment.html", payment=item)


@bp.post("/payments/<payment_id>/sandbox")
@login_required
def sandbox(payment_id: str):
    """The sandbox provider's cashier (MALL_SANDBOX only): the provider notifies payment, as a real one does."""
    if not current_app.extensions["web_settings"].sandbox:
        return redirect(url_for("orders.payment", payment_id=payment_id))
    outcome = "success" if request.form.get("outcome") == "success" else "failure"
    result = api.post(f"/api/payments/{payment_id}/sandbox", {"outcome": outcome})
    return redirect(url_for("orders.order", order_id=result["payment"]["order_id"], paying=1))


@bp.post("/orders/<order_id>/cancel")
@login_required
def cancel(order_id: str):
    reason = request.form.get("reason", "").strip() or None
    attempt(lambda: api.post(f"/api/orders/{order_id}/cancel", {"reason": reason}), gettext("The order is cancelled"))
    return redirect(url_for("orders.order", order_id=order_id))


@bp.post("/orders/<order_id>/receipt")
@login_required
def confirm_receipt(order_id: str):
    shipment_id = request.form.get("shipment_id", "")
    attempt(lambda: api.post(f"/api/logistics/shipments/{shipment_id}/sign"),
            gettext("Thank you for confirming receipt"))
    return redirect(url_for("orders.order", order_id=order_id))


@bp.post("/orders/<order_id>/review")
@login_required
def review(order_id: str):
    body = {"order_id": order_id, "sku_id": request.form.get("sku_id", ""),
            "rating": request.form.get("rating", type=int), "text": request.form.get("text", "").strip()}
    attempt(lambda: api.post("/api/crm/reviews", body), gettext("Thank you for your review"))
    return redirect(url_for("orders.order", order_id=order_id))


@bp.post("/orders/<order_id>/return")
@login_required
def request_return(order_id: str):
    form = request.form
    lines = [{"sku_id": key[2:], "quantity": int(value)} for key, value in form.items()
             if key.startswith("r_") and value.isdigit() and int(value) > 0]
    if not lines:
        flash(gettext("Choose what to return"), "error")
    else:
        attempt(lambda: api.post("/api/logistics/returns", {"order_id": order_id, "lines": lines,
                                                            "reason": form.get("reason", "").strip()}),
                gettext("Your return request is sent"))
    return redirect(url_for("orders.order", order_id=order_id))


@bp.post("/returns/<return_id>/ship")
@login_required
def ship_return(return_id: str):
    form = request.form
    attempt(lambda: api.post(f"/api/logistics/returns/{return_id}/ship", {
        "carrier": form.get("carrier", ""), "tracking_number": form.get("tracking_number", "").strip()}),
        gettext("Return shipment recorded"))
    return redirect(url_for("orders.order", order_id=form.get("order_id", "")))

