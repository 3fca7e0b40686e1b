"""order's copies of what checkout needs from catalog, logistics and crm, fed by their events.

`apply_*` keep each row at the newest version its owner published (late and repeated events
change nothing). The lookups read the copy; for a row that has not arrived yet (a SKU created
before order listened, the seeded delivery methods, a cold start) they ask the owner once and
keep its answer, which carries the same version numbers as the events.
"""
from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from mall_shared.api import Unavailable
from mall_shared.db import upsert_newer
from mall_shared.events import (
    AddressDeleted,
    AddressSaved,
    DeliveryMethodChanged,
    MembershipChanged,
    ProductListed,
    SkuChanged,
    current_envelope,
)

from . import clients
from .models import CatalogSku, DeliveryOption, Membership, ProductCategory, SavedAddress

ADDRESS_FIELDS = ("name", "phone", "province", "city", "district", "detail", "postal_code")


# ---- from events -----------------------------------------------------------------------------
def apply_sku(session: Session, event: SkuChanged) -> None:
    values = asdict(event) | {"attributes": event.attributes or {}}
    upsert_newer(session, CatalogSku.__table__, values)


def apply_delivery_method(session: Session, event: DeliveryMethodChanged) -> None:
    upsert_newer(session, DeliveryOption.__table__, {
        "id": event.delivery_method_id, "name": event.name, "fee": event.fee, "currency": event.currency,
        "active": event.active, "regions": event.regions, "version": event.version})


def apply_membership(session: Session, event: MembershipChanged) -> None:
    upsert_newer(session, Membership.__table__, asdict(event))


def apply_product_category(session: Session, event: ProductListed) -> None:
    """ProductListed carries no version: the newest listing (the envelope's time) wins."""
    at = (current_envelope.get() or {}).get("time") or ""
    upsert_newer(session, ProductCategory.__table__, {"product_id": event.product_id,
                                                      "category_id": event.category_id, "at": at}, version="at")


def apply_address(session: Session, event: AddressSaved) -> None:
    _keep_address(session, event.address_id, event.customer_id, event.version, asdict(event))


def apply_address_deleted(session: Session, event: AddressDeleted) -> None:
    _keep_address(session, event.address_id, event.customer_id, event.version, None)


def _keep_address(session: Session, address_id: str, customer_id: str, version: int, fields: dict | None) -> None:
    """`fields` None: the address left the book, and the row stays as a tombstone, so that a late
    AddressSaved cannot bring it back."""
    upsert_newer(session, SavedAddress.__table__, {
        "id": address_id, "customer_id": customer_id, "deleted": fields is None, "version": version,
        **{f: (fields or {}).get(f) for f in ADDRESS_FIELDS}})


# ---- lookups for checkout --------------------------------------------------------------------
def skus(session: Session, ids: list[str]) -> dict[str, CatalogSku]:
    """The SKUs among `ids` that catalog knows, by id.

    A sold-out SKU is refused from the copy alone (the flash-sale path). A copy that says a SKU
    is off sale for another reason is confirmed with catalog first: a product is usually ordered
    right after it was listed, and that listing may still be on its way here."""
    found = _skus(session, ids)
    unknown = [i for i in ids if i not in found]
    unsure = [i for i in ids if i in found and not (found[i].sellable or found[i].sold_out)]
    if unknown or unsure:
        try:
            answer = clients.fetch_skus(unknown + unsure)
        except Unavailable:
            if unknown:
                raise
            return found  # catalog cannot confirm: the copy's "off sale" stands
        for sku in answer.values():
            upsert_newer(session, CatalogSku.__table__, {
                "sku_id": sku["id"], "product_id": sku["product_id"], "product_name": sku.get("product_name") or "",
                "code": sku["code"], "attributes": sku.get("attributes") or {}, "price": sku["price"],
                "currency": sku.get("currency", "CNY"), "status": sku["status"],
                "product_status": sku.get("product_status") or "draft", "sold_out": sku.get("stock", 0) <= 0,
                "version": sku.get("version", 0)})
        found |= _skus(session, unknown + unsure)
    return found


def _skus(session: Session, ids: list[str]) -> dict[str, CatalogSku]:
    rows = session.scalars(select(CatalogSku).where(CatalogSku.sku_id.in_(ids))
                           .execution_options(populate_existing=True))
    return {row.sku_id: row for row in rows}


def delivery_method(session: Session, method_id: str) -> DeliveryOption | None:
    """A delivery method with its fee, or None when logistics has no such method."""
    if (found := session.get(DeliveryOption, method_id)) is not None:
        return found
    method = clients.fetch_delivery_method(method_id)
    if method is None:
        return None
    if not isinstance(method.get("fee"), int) or method["fee"] < 0:
        raise Unavailable("The logistics service gave no valid fee", code="logistics_unavailable")
    upsert_newer(session, DeliveryOption.__table__, {
        "id": method["id"], "name": method.get("name") or method["id"], "fee": method["fee"],
        "currency": method.get("currency", "CNY"), "active": method.get("active", True),
        "regions": method.get("regions"), "version": method.get("version", 0)})
    return session.get(DeliveryOption, method_id, populate_existing=True)


def address(session: Session, customer_id: str, address_id: str, authorization: str) -> dict | None:
    """One of the customer's saved addresses as a dict of the address fields, or None when it is
    not in their book (another customer's reads the same)."""
    row = session.get(SavedAddress, address_id)
    if row is None:
        saved = clients.fetch_address(address_id, authorization)  # with the customer's own token
        if saved is None:
            return None
        _keep_address(session, address_id, customer_id, saved.get("version", 0), saved)
        row = session.get(SavedAddress, address_id, populate_existing=True)
    if row is None or row.deleted or row.customer_id != customer_id:
        return None
    return {f: getattr(row, f) for f in ADDRESS_FIELDS}


def membership(session: Session, customer_id: str, authorization: str, needed: bool) -> Membership | None:
    """The customer's tier and spendable points. A customer order has not heard of yet (no
    MembershipChanged since they joined) is asked of crm once, and the answer kept. If crm cannot
    answer, an order that spends no points goes on at regular prices (`needed` False); one that
    spends points cannot be checked, and waits."""
    if (found := session.get(Membership, customer_id)) is not None or not authorization:
        return found
    try:
        answer = clients.fetch_membership(authorization)
    except Unavailable:
        if needed:
            raise
        return None
    if answer is None:
        return None
    upsert_newer(session, Membership.__table__, {
        "customer_id": customer_id, "tier": answer.get("tier") or "regular",
        "balance": int(answer.get("balance", answer.get("points")) or 0), "version": answer.get("version", 0)})
    return session.get(Membership, customer_id, populate_existing=True)
