"""The storefront's catalog side: home, search, product page, cart (kept in the session)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for

from . import api
from .auth import safe_next
from .i18n import gettext, to_fen

bp = Blueprint("shop", __name__)

SORTS = ("newest", "sales", "price_asc", "price_desc")
CART_LINES = 30     # distinct SKUs a cart holds (an order takes at most 50 lines)
MAX_QUANTITY = 99   # of one SKU per order, as order refuses more


@bp.get("/")
def home():
    categories, newest, bestselling = api.get_all(
        ("/api/catalog/categories", None), ("/api/catalog/products", {"sort": "newest", "per_page": 8}),
        ("/api/catalog/products", {"sort": "sales", "per_page": 8}))
    roots = [c for c in categories if not c["parent_id"]]
    return render_template("shop/home.html", categories=roots, newest=newest["items"], bestselling=bestselling["items"])


@bp.get("/search")
def search():
    args = request.args
    query = {"q": args.get("q", "").strip(), "category_id": args.get("category_id"),
             "sort": args.get("sort") if args.get("sort") in SORTS else "newest",
             "size": args.get("size", "").strip(), "color": args.get("color", "").strip(),
             "page": args.get("page", type=int) or 1, "per_page": 24}
    try:
        query["min_price"], query["max_price"] = to_fen(args.get("min_price")), to_fen(args.get("max_price"))
    except ValueError:
        flash(gettext("Prices are amounts in yuan, such as 199 or 199.50"), "error")
        query["min_price"] = query["max_price"] = None
    found, categories = api.get_all(("/api/catalog/products", query), ("/api/catalog/categories", None))
    return render_template("shop/search.html", found=found, args=args, categories=categories, sorts=SORTS,
                           page=query["page"])


@bp.get("/products/<product_id>")
def product(product_id: str):
    item = api.get(f"/api/catalog/products/{product_id}")
    if item["status"] == "draft":
        abort(404)
    reviews = [r for page in api.get_all(*[("/api/crm/reviews", {"sku_id": s["id"], "per_page": 10})
                                           for s in item["skus"]]) for r in page["items"]]
    reviews.sort(key=lambda r: r["created_at"], reverse=True)
    return render_template("shop/product.html", product=item, reviews=reviews[:20])


def cart() -> dict[str, int]:
    return dict(session.get("cart") or {})


def cart_read() -> tuple[str, dict]:
    """The read (for api.get_all) of the cart's SKUs: live prices and stock from catalog."""
    return "/api/catalog/skus", {"ids": ",".join(cart())}


def cart_lines(skus: list[dict] | None = None) -> tuple[list[dict], int]:
    """The cart's lines with live prices and stock, and their subtotal in fen."""
    items = cart()
    if not items:
        return [], 0
    if skus is None:
        skus = api.get_all(cart_read())[0]
    lines = [{"sku": s, "quantity": items[s["id"]], "line_total": s["price"] * items[s["id"]],
              "available": s["status"] == "listed" and s.get("product_status") == "listed"
              and s["stock"] >= items[s["id"]]} for s in skus if s["id"] in items]
    return lines, sum(line["line_total"] for line in lines)


def save_cart(items: dict[str, int]) -> None:
    session["cart"] = {k: v for k, v in items.items() if v > 0}


@bp.get("/cart")
def view_cart():
    lines, subtotal = cart_lines()
    return render_template("shop/cart.html", lines=lines, subtotal=subtotal)


@bp.post("/cart/add")
def add_to_cart():
    sku_id = request.form.get("sku_id", "")
    quantity = request.form.get("quantity", type=int) or 1
    items = cart()
    if not sku_id:
        flash(gettext("Choose a size first"), "error")
        return redirect(safe_next(url_for("shop.home")))
    if sku_id not in items and len(items) >= CART_LINES:
        flash(gettext("Your cart is full"), "error")
        return redirect(url_for("shop.view_cart"))
    items[sku_id] = max(1, min(MAX_QUANTITY, items.get(sku_id, 0) + quantity))
    save_cart(items)
    flash(gettext("Added to your cart"), "ok")
    return redirect(url_for("shop.view_cart"))


@bp.post("/cart/update")
def update_cart():
    items = cart()
    for sku_id in list(items):
        quantity = request.form.get(f"q_{sku_id}", type=int)
        if quantity is not None:
            items[sku_id] = max(0, min(MAX_QUANTITY, quantity))
    if request.form.get("remove") in items:
        items.pop(request.form["remove"])
    save_cart(items)
    return redirect(url_for("shop.view_cart"))
