"""The admin console's catalog: the category tree, products and SKUs, stock and its ledger."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from . import api
from .auth import attempt, staff_required
from .i18n import gettext, to_fen

bp = Blueprint("admin_catalog", __name__, url_prefix="/admin")

SKU_ROWS = 4  # blank SKU rows on the new-product form


def category_tree(categories: list[dict]) -> list[tuple[int, dict]]:
    """The categories in tree order, each with its depth (parents before children)."""
    children: dict[str | None, list[dict]] = {}
    for c in sorted(categories, key=lambda c: (c.get("sort_order", 0), c["name"])):
        children.setdefault(c["parent_id"], []).append(c)
    known = {c["id"] for c in categories}
    out: list[tuple[int, dict]] = []

    def walk(parent, depth):
        for c in children.get(parent, []):
            out.append((depth, c))
            walk(c["id"], depth + 1)
    walk(None, 0)
    for orphan_parent in set(children) - known - {None}:  # a parent we cannot see: show them at the top
        walk(orphan_parent, 0)
    return out


@bp.route("/categories", methods=["GET", "POST"])
@staff_required
def categories():
    if request.method == "POST":
        body = {"name": request.form.get("name", "").strip(), "parent_id": request.form.get("parent_id") or None,
                "sort_order": request.form.get("sort_order", type=int) or 0}
        attempt(lambda: api.post("/api/catalog/categories", body), gettext("Category created"))
        return redirect(url_for("admin_catalog.categories"))
    return render_template("admin/categories.html", tree=category_tree(api.get("/api/catalog/categories")))


@bp.post("/categories/<category_id>")
@staff_required
def edit_category(category_id: str):
    if request.form.get("delete"):
        attempt(lambda: api.delete(f"/api/catalog/categories/{category_id}"), gettext("Category deleted"))
    else:
        body = {"name": request.form.get("name", "").strip(), "parent_id": request.form.get("parent_id") or None}
        attempt(lambda: api.patch(f"/api/catalog/categories/{category_id}", body), gettext("Saved"))
    return redirect(url_for("admin_catalog.categories"))


@bp.get("/products")
@staff_required
def products():
    page = request.args.get("page", type=int) or 1
    found = api.get("/api/catalog/products", q=request.args.get("q", "").strip(), status=request.args.get("status"),
                    page=page, per_page=20)
    return render_template("admin/products.html", found=found, page=page)


def _product_fields(form) -> dict:
    return {"name": form.get("name", "").strip(), "description": form.get("description", "").strip(),
            "category_id": form.get("category_id", ""), "brand": form.get("brand", "").strip() or None,
            "images": [u.strip() for u in form.get("images", "").splitlines() if u.strip()]}


def _sku_rows(form) -> list[dict]:
    """The SKU rows filled in on the form (a blank code means an unused row)."""
    rows = []
    for i in range(SKU_ROWS):
        code = form.get(f"sku{i}_code", "").strip()
        if not code:
            continue
        attributes = {k: form.get(f"sku{i}_{k}", "").strip() for k in ("size", "color")}
        rows.append({"code": code, "attributes": {k: v for k, v in attributes.items() if v},
                     "price": to_fen(form.get(f"sku{i}_price")), "stock": form.get(f"sku{i}_stock", type=int) or 0})
    return rows


@bp.route("/products/new", methods=["GET", "POST"])
@staff_required
def new_product():
    cats = category_tree(api.get("/api/catalog/categories"))
    form = request.form
    if request.method == "POST":
        try:
            body = _product_fields(form) | {"skus": _sku_rows(form)}
            product = api.post("/api/catalog/products", body)
        except ValueError:
            flash(gettext("Prices are amounts in yuan, such as 199 or 199.50"), "error")
        except api.ApiError as exc:
            flash(exc.readable(), "error")
        else:
            flash(gettext("Product created as a draft: list it to put it on sale"), "ok")
            return redirect(url_for("admin_catalog.product", product_id=product["id"]))
    return render_template("admin/product_new.html", cats=cats, form=form, rows=range(SKU_ROWS))


@bp.get("/products/<product_id>")
@staff_required
def product(product_id: str):
    product, categories = api.get_all((f"/api/catalog/products/{product_id}", None),
                                      ("/api/catalog/categories", None))
    return render_template("admin/product.html", p=product, cats=category_tree(categories))


@bp.post("/products/<product_id>")
@staff_required
def edit_product(product_id: str):
    attempt(lambda: api.patch(f"/api/catalog/products/{product_id}", _product_fields(request.form)),
            gettext("Saved"))
    return redirect(url_for("admin_catalog.product", product_id=product_id))


@bp.post("/products/<product_id>/<action>")
@staff_required
def product_action(product_id: str, action: str):
    if action in ("list", "delist"):
        attempt(lambda: api.post(f"/api/catalog/products/{product_id}/{action}"),
                gettext("On sale") if action == "list" else gettext("Off sale"))
    elif action == "sku":
        form = request.form
        try:
            body = {"code": form.get("code", "").strip(), "price": to_fen(form.get("price")),
                    "stock": form.get("stock", type=int) or 0,
                    "attributes": {k: form.get(k, "").strip() for k in ("size", "color") if form.get(k, "").strip()}}
        except ValueError:
            flash(gettext("Prices are amounts in yuan, such as 199 or 199.50"), "error")
        else:
            attempt(lambda: api.post(f"/api/catalog/products/{product_id}/skus", body), gettext("SKU added"))
    return redirect(url_for("admin_catalog.product", product_id=product_id))


@bp.post("/skus/<sku_id>/price")
@staff_required
def sku_price(sku_id: str):
    try:
        body = {"price": to_fen(request.form.get("price")),
                "low_stock_threshold": request.form.get("low_stock_threshold", type=int) or 0}
    except ValueError:
        flash(gettext("Prices are amounts in yuan, such as 199 or 199.50"), "error")
    else:
        attempt(lambda: api.patch(f"/api/catalog/skus/{sku_id}", body), gettext("Saved"))
    return redirect(url_for("admin_catalog.product", product_id=request.form.get("product_id", "")))


@bp.post("/skus/<sku_id>/stock")
@staff_required
def stock(sku_id: str):
    form = request.form
    body = {"kind": form.get("kind", "receive"), "quantity": form.get("quantity", type=int),
            "reason": form.get("reason", "").strip() or None}
    attempt(lambda: api.post(f"/api/catalog/skus/{sku_id}/stock", body), gettext("Stock updated"))
    return redirect(url_for("admin_catalog.product", product_id=form.get("product_id", "")))


@bp.get("/skus/<sku_id>/movements")
@staff_required
def movements(sku_id: str):
    page = request.args.get("page", type=int) or 1
    sku, found = api.get_all(("/api/catalog/skus", {"ids": sku_id}),
                             (f"/api/catalog/skus/{sku_id}/movements", {"page": page, "per_page": 50}))
    return render_template("admin/movements.html", sku=sku[0] if sku else {"id": sku_id}, found=found, page=page)
