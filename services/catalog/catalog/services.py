"""Catalog's use cases: `verb_noun(session, ...)`, no Flask, no broker, no commit — the caller
owns the transaction, so each state change and the events it emits commit together."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from mall_shared.api import Conflict, NotFound
from mall_shared.events import ProductDelisted
from mall_shared.outbox import emit

from . import inventory
from .inventory import SkuNotFound
from .models import Category, Product, ReviewRating, Sku, StockMovement

log = logging.getLogger(__name__)


class CategoryNotFound(NotFound):
    code, message = "category_not_found", "Category not found"


class ProductNotFound(NotFound):
    code, message = "product_not_found", "Product not found"


# ---- categories ------------------------------------------------------------------------------
def create_category(session: Session, name: str, parent_id: str | None = None, sort_order: int = 0) -> Category:
    """A category under an existing parent (or at the top); names are unique among siblings."""
    if parent_id is not None and session.get(Category, parent_id) is None:
        raise CategoryNotFound(details={"field": "parent_id"})
    same_parent = Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id
    clash = select(Category.id).where(Category.name == name, same_parent)
    if session.scalar(clash):
        raise Conflict(f"A category named {name!r} already exists here", code="category_exists")
    category = Category(name=name, parent_id=parent_id, sort_order=sort_order)
    session.add(category)
    session.flush()
    return category


def list_categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.sort_order, Category.name)))


def get_category(session: Session, category_id: str) -> Category:
    category = session.get(Category, category_id)
    if category is None:
        raise CategoryNotFound()
    return category


def descendant_ids(session: Session, category_id: str) -> set[str]:
    """A category and everything below it (categories are few: walk them in memory)."""
    children: dict[str | None, list[str]] = {}
    for cid, parent in session.execute(select(Category.id, Category.parent_id)):
        children.setdefault(parent, []).append(cid)
    found, stack = set(), [category_id]
    while stack:
        cid = stack.pop()
        if cid not in found:
            found.add(cid)
            stack.extend(children.get(cid, []))
    return found


def update_category(session: Session, category_id: str, changes: dict) -> Category:
    """Rename, reorder or move a category; never under itself or its own descendants."""
    category = get_category(session, category_id)
    if "parent_id" in changes and changes["parent_id"] is not None:
        if changes["parent_id"] in descendant_ids(session, category_id):
            raise Conflict("A category cannot move under itself or its descendants", code="category_cycle")
        get_category(session, changes["parent_id"])
    name = changes.get("name", category.name)
    parent_id = changes.get("parent_id", category.parent_id)
    same_parent = Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id
    if session.scalar(select(Category.id).where(Category.name == name, same_parent, Category.id != category.id)):
        raise Conflict(f"A category named {name!r} already exists here", code="category_exists")
    for key, value in changes.items():
        setattr(category, key, value)
    return category


def delete_category(session: Session, category_id: str) -> None:
    """Only an empty category goes: no subcategories, no products."""
    category = get_category(session, category_id)
    if session.scalar(select(Category.id).where(Category.parent_id == category_id).limit(1)):
        raise Conflict("The category has subcategories", code="category_not_empty")
    if session.scalar(select(Product.id).where(Product.category_id == category_id).limit(1)):
        raise Conflict("The category has products", code="category_not_empty")
    session.delete(category)


# ---- products --------------------------------------------------------------------------------
def create_product(session: Session, data: dict) -> Product:
    """A draft product with its SKUs; each SKU's initial stock is recorded as received."""
    if session.get(Category, data["category_id"]) is None:
        raise CategoryNotFound(details={"field": "category_id"})
    codes = [s["code"] for s in data["skus"]]
    taken = session.scalars(select(Sku.code).where(Sku.code.in_(codes))).all()
    if taken:
        raise Conflict(f"SKU code already in use: {', '.join(sorted(taken))}", code="sku_code_taken",
                       details={"codes": sorted(taken)})
    product = Product(**{k: v for k, v in data.items() if k != "skus"})
    session.add(product)
    session.flush()
    for sku in data["skus"]:
        add_sku(session, product.id, sku)
    session.flush()
    session.refresh(product, ["skus"])  # load the collection now: the response is built after commit
    return product


def get_product(session: Session, product_id: str, staff: bool = False) -> Product:
    product = session.get(Product, product_id)
    if product is None or (product.status == "draft" and not staff):
        raise ProductNotFound()
    return product


def search_products(session: Session, args: dict, staff: bool = False) -> Select:
    """Customers see listed products only; staff may filter by any status. A category
    includes its subcategories."""
    stmt = select(Product)
    status = args.get("status") if staff else "listed"
    if status:
        stmt = stmt.where(Product.status == status)
    if args.get("q"):
        escaped = args["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        stmt = stmt.where(Product.name.ilike(pattern, escape="\\") | Product.brand.ilike(pattern, escape="\\"))
    if args.get("category_id"):
        stmt = stmt.where(Product.category_id.in_(descendant_ids(session, args["category_id"])))
    if args.get("min_price") is not None:
        stmt = stmt.where(Product.min_price >= args["min_price"])
    if args.get("max_price") is not None:
        stmt = stmt.where(Product.min_price <= args["max_price"])
    # Size and colour: a product with one SKU of that size and colour (on sale, for customers).
    facets = [Sku.attributes[f].as_string() == args[f] for f in ("size", "color") if args.get(f)]
    if facets:
        sellable = [Sku.status == "listed"] if status == "listed" else []
        stmt = stmt.where(exists().where(Sku.product_id == Product.id, *facets, *sellable))
    # A listed product always has a SKU in stock (catalog delists it the moment none has), so
    # the SKU check is needed only for what staff see in other states.
    if args.get("in_stock") and status != "listed":
        available = Sku.on_hand - Sku.reserved - Sku.sold
        stmt = stmt.where(exists().where(Sku.product_id == Product.id, available > 0))
    order = {
        "newest": [Product.created_at.desc()],
        "sales": [Product.sales.desc()],
        "price_asc": [Product.min_price.asc()],
        "price_desc": [Product.min_price.desc()],
    }[args.get("sort", "newest")]
    return stmt.order_by(*order, Product.id)


def update_product(session: Session, product_id: str, changes: dict) -> Product:
    """Edit a product's description fields; its SKUs are edited one by one."""
    product = get_product(session, product_id, staff=True)
    if "category_id" in changes:
        get_category(session, changes["category_id"])
    for key, value in changes.items():
        setattr(product, key, value)
    return product


def add_sku(session: Session, product_id: str, data: dict) -> Sku:
    """A new variant of an existing product; its initial stock is recorded as received."""
    product = get_product(session, product_id, staff=True)
    if session.scalar(select(Sku.id).where(Sku.code == data["code"])):
        raise Conflict(f"SKU code already in use: {data['code']}", code="sku_code_taken")
    sku = Sku(product=product, code=data["code"], attributes=data["attributes"], price=data["price"],
              currency=data["currency"], on_hand=data["stock"], low_stock_threshold=data["low_stock_threshold"],
              status="listed" if data["stock"] > 0 else "delisted")
    session.add(sku)
    session.flush()
    product.refresh_min_price()
    if data["stock"]:
        session.add(StockMovement(sku_id=sku.id, kind="received", quantity=data["stock"], reason="initial stock"))
    return sku


def update_sku(session: Session, sku_id: str, changes: dict) -> Sku:
    """Change a SKU's price, attributes or threshold. A new price applies to new orders only:
    an order keeps the unit price it was placed at."""
    sku = session.get(Sku, sku_id)
    if sku is None:
        raise SkuNotFound()
    for key, value in changes.items():
        setattr(sku, key, value)
    sku.product.refresh_min_price()
    return sku


def list_product(session: Session, product_id: str) -> Product:
    """Put a product on sale (上架): it needs at least one SKU in stock."""
    product = get_product(session, product_id, staff=True)
    if product.put_on_sale():
        emit(session, inventory.product_listed(session, product))
    return product


def delist_product(session: Session, product_id: str) -> Product:
    """Take a product off sale by hand (下架); it stays off until staff list it again."""
    product = get_product(session, product_id, staff=True)
    if product.delist("manual"):
        emit(session, ProductDelisted(product_id=product.id, reason="manual"))
    return product


# ---- ratings ---------------------------------------------------------------------------------
def record_rating(session: Session, review_id: str, sku_id: str, rating: int, at: str | None,
                  hidden: bool = False) -> None:
    """A review was posted, edited (same review_id, later `at`) or hidden: keep its product's
    summary equal to the sum and count of its visible reviews' latest ratings. A hidden review
    stays hidden; an older or repeated fact changes nothing."""
    sku = session.get(Sku, sku_id)
    if sku is None:
        log.warning("rating of review %s names unknown SKU %s: ignored", review_id, sku_id)
        return
    # The product row is the lock: two workers' facts about its reviews apply one after the other.
    product = session.scalars(select(Product).where(Product.id == sku.product_id).with_for_update()
                              .execution_options(populate_existing=True)).one()
    when = datetime.fromisoformat(at.replace("Z", "+00:00")) if at else None
    row = session.get(ReviewRating, review_id)
    if row is None:
        row = ReviewRating(review_id=review_id, product_id=product.id, sku_id=sku_id)
        session.add(row)
    elif row.hidden or (not hidden and when and row.at and when < row.at):
        return
    else:  # take its earlier rating out of the summary
        product.rating_count, product.rating_total = product.rating_count - 1, product.rating_total - row.rating
    row.rating, row.hidden, row.at = rating, hidden, when
    if not hidden:
        product.rating_count, product.rating_total = product.rating_count + 1, product.rating_total + rating
