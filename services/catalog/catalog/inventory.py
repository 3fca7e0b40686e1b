"""Inventory use cases: stock changes, reservations for orders, and the listing rules that
follow stock (auto-delist on depletion, relist on restock). Same conventions as services.py."""
from __future__ import annotations

import logging

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from mall_shared.api import Conflict, NotFound
from mall_shared.db import lock
from mall_shared.events import (
    Line,
    ProductDelisted,
    ProductListed,
    StockAdjusted,
    StockDepleted,
    StockRejected,
    StockReleased,
    StockReplenished,
    StockReserved,
)
from mall_shared.outbox import emit

from .models import CancelledOrder, Category, Product, Reservation, Sku, StockMovement

log = logging.getLogger(__name__)


class SkuNotFound(NotFound):
    code, message = "sku_not_found", "SKU not found"


def get_skus(session: Session, ids: list[str], staff: bool = False) -> list[Sku]:
    """SKUs by id; a draft product's are staff's business only (not on sale, nobody else's to see)."""
    stmt = select(Sku).where(Sku.id.in_(ids)).order_by(Sku.id)
    if not staff:
        stmt = stmt.join(Product).where(Product.status != "draft")
    return list(session.scalars(stmt))


def _lock_skus(session: Session, ids: list[str]) -> dict[str, Sku]:
    # Lock in id order so two transactions touching the same SKUs never deadlock.
    skus = session.scalars(select(Sku).where(Sku.id.in_(sorted(set(ids)))).order_by(Sku.id)
                           .with_for_update(of=Sku)).all()
    return {s.id: s for s in skus}


def product_listed(session: Session, product: Product) -> ProductListed:
    """The fact of a product going on sale, with what a subscriber needs to group its sales."""
    category = session.get(Category, product.category_id)
    return ProductListed(product_id=product.id, name=product.name, category_id=product.category_id,
                         category_name=category.name if category else None, sku_ids=[s.id for s in product.skus])


def _after_stock_change(session: Session, sku: Sku) -> None:
    """Delist what ran out and relist what came back, emitting the facts."""
    change = sku.refresh_status()
    product = sku.product
    if change == "depleted":
        emit(session, StockDepleted(sku_id=sku.id, product_id=product.id, stock=sku.available))
        if not _has_stock_locked(session, product) and product.delist("out_of_stock"):
            emit(session, ProductDelisted(product_id=product.id, reason="out_of_stock"))
    elif change == "replenished":
        emit(session, StockReplenished(sku_id=sku.id, product_id=product.id, stock=sku.available))
        if product.status == "delisted" and product.delisted_reason == "out_of_stock" and product.put_on_sale():
            emit(session, product_listed(session, product))


def _has_stock_locked(session: Session, product: Product) -> bool:
    # Two SKUs of one product may run out in concurrent transactions: lock the product and
    # re-read its SKUs so exactly one of them sees "nothing left" and delists it.
    session.execute(select(Product.id).where(Product.id == product.id).with_for_update())
    skus = session.scalars(select(Sku).where(Sku.product_id == product.id)
                           .execution_options(populate_existing=True)).all()
    return any(s.available > 0 for s in skus)


def change_stock(session: Session, sku_id: str, kind: str, quantity: int, reason: str | None) -> Sku:
    """Receive goods or adjust a count (with a reason); stock never goes below what is promised."""
    sku = _lock_skus(session, [sku_id]).get(sku_id)
    if sku is None:
        raise SkuNotFound()
    if sku.available + quantity < 0:
        raise Conflict(f"Only {sku.available} available; cannot remove {-quantity}", code="insufficient_stock",
                       details={"available": sku.available})
    sku.on_hand += quantity
    movement = "received" if kind == "receive" else "adjusted"
    session.add(StockMovement(sku_id=sku.id, kind=movement, quantity=quantity, reason=reason))
    _after_stock_change(session, sku)
    emit(session, StockAdjusted(sku_id=sku.id, product_id=sku.product_id, kind=movement, quantity=quantity,
                                stock=sku.available))
    return sku


def list_movements(session: Session, sku_id: str) -> Select:
    if session.get(Sku, sku_id) is None:
        raise SkuNotFound()
    return select(StockMovement).where(StockMovement.sku_id == sku_id).order_by(StockMovement.at.desc(),
                                                                                 StockMovement.id)


def reserve_stock(session: Session, order_id: str, lines: list[Line]) -> bool:
    """Reserve every line of an order, or none: StockReserved, else StockRejected with why."""
    lock(session, "order", order_id)  # a cancel handled at the same time waits, then releases what we hold
    if session.scalar(select(Reservation.id).where(Reservation.order_id == order_id).limit(1)):
        return True  # already decided for this order
    if session.get(CancelledOrder, order_id):
        return False  # cancelled before it reached us: nothing to hold
    wanted: dict[str, int] = {}
    for line in lines:
        wanted[line.sku_id] = wanted.get(line.sku_id, 0) + line.quantity
    skus = _lock_skus(session, list(wanted))
    problems = []
    for sku_id, qty in wanted.items():
        sku = skus.get(sku_id)
        if sku is None:
            problems.append((sku_id, f"SKU {sku_id} does not exist"))
        elif sku.product.status != "listed" or sku.status != "listed":
            problems.append((sku_id, f"SKU {sku.code} is not on sale"))
        elif sku.available < qty:
            problems.append((sku_id, f"SKU {sku.code}: {qty} requested, {sku.available} available"))
    # order prices an order from its copy of our prices; a change that copy had not heard of yet
    # must not sell at a price we no longer ask: the order is refused, to be placed again.
    repriced = [(line.sku_id, f"SKU {skus[line.sku_id].code}: ordered at {line.unit_price}, "
                              f"the price is now {skus[line.sku_id].price}")
                for line in lines if line.sku_id in skus and line.unit_price is not None
                and line.unit_price != skus[line.sku_id].price]
    if problems or repriced:
        kind = "price_changed" if repriced else "insufficient_stock"
        reason = f"{kind}: " + "; ".join(why for _, why in repriced + problems)
        emit(session, StockRejected(order_id=order_id, reason=reason[:1000],
                                    sku_ids=list(dict.fromkeys(s for s, _ in repriced + problems))))
        return False
    for sku_id, qty in wanted.items():
        sku = skus[sku_id]
        sku.reserved += qty
        session.add(Reservation(order_id=order_id, sku_id=sku_id, quantity=qty))
        session.add(StockMovement(sku_id=sku_id, kind="reserved", quantity=qty, order_id=order_id))
        _after_stock_change(session, sku)
    emit(session, StockReserved(order_id=order_id, lines=[Line(sku_id=s, quantity=q) for s, q in wanted.items()],
                                stock={s: skus[s].available for s in wanted}))
    return True


def _settle(session: Session, order_id: str, to: str) -> list[tuple[Sku, Reservation]]:
    held = session.scalars(select(Reservation).where(Reservation.order_id == order_id,
                                                     Reservation.status == "reserved")).all()
    skus = _lock_skus(session, [r.sku_id for r in held])
    for r in held:
        sku = skus[r.sku_id]
        sku.reserved -= r.quantity
        r.status = to
        session.add(StockMovement(sku_id=sku.id, kind=to, quantity=r.quantity, order_id=order_id))
    return [(skus[r.sku_id], r) for r in held]


def release_stock(session: Session, order_id: str) -> None:
    """An order was cancelled: its reserved stock is for sale again."""
    lock(session, "order", order_id)  # a reservation under way commits first, then we release it
    if not session.scalar(select(Reservation.id).where(Reservation.order_id == order_id).limit(1)):
        session.merge(CancelledOrder(order_id=order_id))
    settled = _settle(session, order_id, "released")
    for sku, _ in settled:
        _after_stock_change(session, sku)
    if settled:
        emit(session, StockReleased(order_id=order_id,
                                    lines=[Line(sku_id=s.id, quantity=r.quantity) for s, r in settled],
                                    stock={s.id: s.available for s, _ in settled}))


def sell_stock(session: Session, order_id: str) -> None:
    """An order was completed: what it reserved is now sold."""
    lock(session, "order", order_id)
    for sku, r in _settle(session, order_id, "sold"):
        sku.sold += r.quantity
        sku.product.sales += r.quantity


class NotSoldYet(RuntimeError):
    """A return of units whose sale has not reached catalog yet: the consumer retries it later."""


def return_stock(session: Session, order_id: str, return_id: str, lines: list[Line]) -> None:
    """Staff received a return (售后): the units are no longer sold and are for sale again.
    Never more than the order sold of a SKU, and once per return."""
    sold = {r.sku_id: r for r in session.scalars(select(Reservation).where(Reservation.order_id == order_id))}
    if any(line.sku_id in sold and sold[line.sku_id].status == "reserved" for line in lines):
        raise NotSoldYet(f"order {order_id} is not completed here yet")
    skus = _lock_skus(session, [line.sku_id for line in lines if line.sku_id in sold])
    reason = f"return {return_id}"  # checked under the SKUs' locks: a concurrent copy waits, then sees it
    if session.scalar(select(StockMovement.id).where(StockMovement.kind == "returned",
                                                     StockMovement.order_id == order_id,
                                                     StockMovement.reason == reason).limit(1)):
        return
    for line in lines:
        held, sku = sold.get(line.sku_id), skus.get(line.sku_id)
        already = sum(session.scalars(select(StockMovement.quantity).where(
            StockMovement.kind == "returned", StockMovement.order_id == order_id, StockMovement.sku_id == line.sku_id)))
        quantity = min(line.quantity, held.quantity - already) if held and held.status == "sold" and sku else 0
        if quantity <= 0:
            log.warning("return %s of order %s: %s x%s was not sold by it; ignored", return_id, order_id,
                        line.sku_id, line.quantity)
            continue
        sku.sold -= quantity
        sku.product.sales -= quantity
        session.add(StockMovement(sku_id=sku.id, kind="returned", quantity=quantity, reason=reason,
                                  order_id=order_id))
        _after_stock_change(session, sku)
        emit(session, StockAdjusted(sku_id=sku.id, product_id=sku.product_id, kind="returned", quantity=quantity,
                                    stock=sku.available))


def low_stock(session: Session) -> Select:
    available = Sku.on_hand - Sku.reserved - Sku.sold
    return select(Sku).where(available <= Sku.low_stock_threshold).order_by(available, Sku.code)

