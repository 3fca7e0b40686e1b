"""SkuChanged, published from one place: whatever use case changes what a buyer of a SKU sees
(its price, code, attributes or sold-out listing, or its product's name or listing), the
flush that writes it also bumps the SKU's version and emits the SKU's whole state, in the same
transaction. No use case has to remember to publish, so none can forget."""
from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from mall_shared.db import new_id
from mall_shared.events import SkuChanged
from mall_shared.outbox import emit

from .models import Product, Sku

SKU_FIELDS = ("price", "currency", "code", "attributes", "status")
PRODUCT_FIELDS = ("name", "status")


def _changed(obj, names: tuple[str, ...]) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in names)


def _available(sku: Sku) -> int:  # a new SKU's counters are still unset before its INSERT
    return (sku.on_hand or 0) - (sku.reserved or 0) - (sku.sold or 0)


@event.listens_for(Session, "before_flush")
def publish_sku_changes(session: Session, _context, _instances) -> None:
    if session.info.get("service") != "catalog":
        return
    changed: dict[int, Sku] = {}
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Sku) and (obj in session.new or _changed(obj, SKU_FIELDS)):
            changed[id(obj)] = obj
        elif isinstance(obj, Product) and obj not in session.new and _changed(obj, PRODUCT_FIELDS):
            changed.update((id(sku), sku) for sku in obj.skus)
    for sku in changed.values():
        sku.id = sku.id or new_id()
        sku.version = (sku.version or 0) + 1
        product = sku.product
        emit(session, SkuChanged(
            sku_id=sku.id, product_id=product.id, product_name=product.name, code=sku.code, price=sku.price,
            currency=sku.currency or "CNY", status=sku.status, product_status=product.status or "draft",
            sold_out=_available(sku) <= 0, version=sku.version, attributes=dict(sku.attributes or {})))
