"""Coupons: staff's templates, customers' wallets, and a coupon's life with one order —
locked by the unpaid order at checkout, used when it is paid, released when it is cancelled.

Every change that two requests could race for is one conditional UPDATE: a copy is claimed only
while `claimed < total_quantity`, and a wallet coupon is locked only while it is `available`, so
the database decides who wins, never a read made before the write.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from mall_shared import events
from mall_shared.api import Conflict, Forbidden, NotFound
from mall_shared.db import iso
from mall_shared.outbox import emit

from . import pricing
from .models import CouponTemplate, WalletCoupon
from .offers import change_offer, create_offer, get_offer, running

AVAILABLE, LOCKED, USED = "available", "locked", "used"


class CouponNotFound(NotFound):
    code, message = "coupon_not_found", "Coupon not found"


class CouponNotYours(Forbidden):
    code, message = "coupon_not_yours", "This coupon is in another customer's wallet"


class CouponUsed(Conflict):
    code, message = "coupon_used", "This coupon is used, or locked by an unpaid order"


class CouponExpired(Conflict):
    code, message = "coupon_expired", "This coupon is not valid now"


class CouponSoldOut(Conflict):
    code, message = "coupon_sold_out", "Every copy of this coupon has been claimed"


class CouponLimitReached(Conflict):
    code, message = "coupon_limit_reached", "You hold as many of this coupon as one customer may"


# ---- staff: templates ------------------------------------------------------------------------
def create_template(session: Session, data: dict) -> CouponTemplate:
    """A new coupon template, on offer from `starts_at` to `ends_at`."""
    return create_offer(session, CouponTemplate, data | {"claimed": 0})


def get_template(session: Session, template_id: str, lock: bool = False) -> CouponTemplate:
    return get_offer(session, CouponTemplate, template_id, CouponNotFound, lock)


def update_template(session: Session, template_id: str, data: dict) -> CouponTemplate:
    """Change a template's name, window, quantity or `active` (never below what was claimed)."""
    template = get_template(session, template_id, lock=True)
    if data.get("total_quantity", template.total_quantity) < template.claimed:
        raise Conflict("Fewer copies than were already claimed", code="quantity_below_claimed",
                       details={"claimed": template.claimed})
    return change_offer(template, data)


def list_templates(active: bool | None) -> Select:
    stmt = select(CouponTemplate)
    if active is not None:
        stmt = stmt.where(CouponTemplate.active.is_(active))
    return stmt.order_by(CouponTemplate.created_at.desc(), CouponTemplate.id)


# ---- customers: claim and wallet -------------------------------------------------------------
def claim_coupon(session: Session, template_id: str, customer_id: str, now: datetime) -> WalletCoupon:
    """One copy into the customer's wallet, while copies last and within their own limit."""
    template = get_template(session, template_id)
    if not running(template, now):
        raise CouponExpired("This coupon cannot be claimed now", details={
            "starts_at": template.starts_at.isoformat(), "ends_at": template.ends_at.isoformat()})
    # The conditional UPDATE takes the template's row lock: concurrent claims of it queue here, so
    # the count below sees every earlier claim, and a claim over a limit rolls its copy back.
    taken = session.execute(update(CouponTemplate).where(
        CouponTemplate.id == template_id, CouponTemplate.claimed < CouponTemplate.total_quantity)
        .values(claimed=CouponTemplate.claimed + 1)).rowcount
    if not taken:
        raise CouponSoldOut(details={"total_quantity": template.total_quantity})
    held = session.scalar(select(func.count()).select_from(WalletCoupon).where(
        WalletCoupon.template_id == template_id, WalletCoupon.customer_id == customer_id))
    if held >= template.per_customer_limit:
        raise CouponLimitReached(details={"limit": template.per_customer_limit})
    coupon = WalletCoupon(template_id=template_id, customer_id=customer_id, status=AVAILABLE, claimed_at=now)
    session.add(coupon)
    session.flush()
    emit(session, events.CouponClaimed(coupon_id=coupon.id, template_id=template_id, customer_id=customer_id,
                                       at=iso(now)))
    return coupon


def wallet(session: Session, customer_id: str) -> list[WalletCoupon]:
    """The customer's coupons, newest first."""
    return list(session.scalars(select(WalletCoupon).where(WalletCoupon.customer_id == customer_id)
                                .order_by(WalletCoupon.claimed_at.desc(), WalletCoupon.id)))


def terms(template: CouponTemplate) -> pricing.Coupon:
    return pricing.Coupon(kind=template.kind, value=template.value, threshold=template.threshold,
                          max_off=template.max_off, scope=template.scope, scope_ids=tuple(template.scope_ids or ()))


def usable(session: Session, coupon_id: str, customer_id: str, now: datetime) -> WalletCoupon:
    """A coupon the customer may spend now, or the reason they may not."""
    coupon = session.get(WalletCoupon, coupon_id)
    if coupon is None:
        raise CouponNotFound()
    if coupon.customer_id != customer_id:
        raise CouponNotYours()
    if coupon.status != AVAILABLE:
        raise CouponUsed(details={"status": coupon.status})
    if not running(coupon.template, now):
        raise CouponExpired(details={"ends_at": coupon.template.ends_at.isoformat()})
    return coupon


# ---- a coupon's life with an order -----------------------------------------------------------
def lock_coupon(session: Session, coupon_id: str, order_id: str) -> None:
    """Lock it for the unpaid order; two orders placed at once with one coupon: one wins."""
    if not session.execute(update(WalletCoupon).where(WalletCoupon.id == coupon_id, WalletCoupon.status == AVAILABLE)
                           .values(status=LOCKED, order_id=order_id)).rowcount:
        raise CouponUsed()


def _locked_by(session: Session, order_id: str) -> WalletCoupon | None:
    # Only that order changes the coupon it locked, and the caller holds the order's row lock.
    return session.scalar(select(WalletCoupon).where(WalletCoupon.order_id == order_id))


def use_coupon(session: Session, order_id: str, at: datetime) -> None:
    """The order was paid: its coupon is spent."""
    coupon = _locked_by(session, order_id)
    if coupon is not None and coupon.status == LOCKED:
        coupon.status = USED
        emit(session, events.CouponUsed(coupon_id=coupon.id, template_id=coupon.template_id,
                                 customer_id=coupon.customer_id, order_id=order_id, at=iso(at)))


def release_coupon(session: Session, order_id: str, at: datetime, reason: str | None) -> None:
    """The order was cancelled (by someone, or unpaid in time): its coupon is back in the wallet."""
    coupon = _locked_by(session, order_id)
    if coupon is not None:
        coupon.status, coupon.order_id = AVAILABLE, None
        emit(session, events.CouponReleased(coupon_id=coupon.id, template_id=coupon.template_id,
                                     customer_id=coupon.customer_id, order_id=order_id, at=iso(at), reason=reason))

