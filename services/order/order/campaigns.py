"""Campaigns staff run — 满减 tiers, flash-sale SKU prices, member-tier discounts — and what of
them applies to one customer's goods at one moment (the pricing step's `Rules`).

A flash-sale price holds `per_customer_limit` units per customer across their orders that were
not cancelled: one conditional upsert adds an order's units only while the sum stays within it,
so twenty orders at once from one customer cannot pass it; a cancelled order gives its units back.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from mall_shared.api import Conflict, NotFound
from mall_shared.db import conflict_insert

from . import pricing
from .config import config
from .models import Campaign, FlashPurchase, OrderLine
from .offers import change_offer, create_offer, get_offer

REDUCTION, FLASH_PRICE, MEMBER_PRICE = "reduction", "flash_price", "member_price"
KINDS = (REDUCTION, FLASH_PRICE, MEMBER_PRICE)


class CampaignNotFound(NotFound):
    code, message = "campaign_not_found", "Campaign not found"


class CampaignNotActive(Conflict):
    code, message = "campaign_not_active", "The flash-sale price you were shown is no longer on offer"


class CampaignLimitReached(Conflict):
    code, message = "campaign_limit_reached", "You already hold as many units of this flash sale as one customer may"


# ---- staff -----------------------------------------------------------------------------------
def create_campaign(session: Session, data: dict) -> Campaign:
    """A new campaign, running from `starts_at` to `ends_at` while `active`."""
    return create_offer(session, Campaign, data)


def get_campaign(session: Session, campaign_id: str, lock: bool = False) -> Campaign:
    return get_offer(session, Campaign, campaign_id, CampaignNotFound, lock)


def update_campaign(session: Session, campaign_id: str, data: dict) -> Campaign:
    """Change a campaign's name, window or `active` (what it offers is fixed once created)."""
    return change_offer(get_campaign(session, campaign_id, lock=True), data)


def list_campaigns(kind: str | None, running_at: datetime | None) -> Select:
    stmt = select(Campaign)
    if kind:
        stmt = stmt.where(Campaign.kind == kind)
    if running_at:
        stmt = _running(stmt, running_at)
    return stmt.order_by(Campaign.created_at.desc(), Campaign.id)


def _running(stmt: Select, now: datetime) -> Select:
    return stmt.where(Campaign.active.is_(True), Campaign.starts_at <= now, Campaign.ends_at > now)


# ---- what applies ----------------------------------------------------------------------------
def rules_for(session: Session, tier: str | None, sku_ids: list[str], now: datetime) -> tuple[pricing.Rules,
                                                                                     dict[str, Campaign]]:
    """The pricing rules in force for a customer of `tier` now, and the flash sale pricing each SKU."""
    running = session.scalars(_running(select(Campaign), now).where(or_(
        Campaign.kind != FLASH_PRICE, Campaign.sku_id.in_(sku_ids)))).all()
    cfg = config()
    member_percent = max([cfg.member_discounts.get(tier, 0)]
                         + [int(c.tiers.get(tier, 0)) for c in running if c.kind == MEMBER_PRICE])
    tiers = tuple((int(t), int(off)) for c in running if c.kind == REDUCTION for t, off in c.tiers)
    flash: dict[str, Campaign] = {}
    for c in running:
        if c.kind == FLASH_PRICE and (c.sku_id not in flash or c.price < flash[c.sku_id].price):
            flash[c.sku_id] = c
    rules = pricing.Rules(member_percent=min(member_percent, 100), reduction_tiers=tiers,
                          points_per_yuan=cfg.points_per_yuan, max_points_share=cfg.points_max_share)
    return rules, flash


def check_shown_prices(items: list[dict], flash: dict[str, Campaign]) -> None:
    """An item that names the flash sale it was shown must still be priced by it: outside its
    window (or withdrawn) the customer would pay another price than they saw."""
    for item in items:
        if item.get("campaign_id") and getattr(flash.get(item["sku_id"]), "id", None) != item["campaign_id"]:
            raise CampaignNotActive(details={"sku_id": item["sku_id"], "campaign_id": item["campaign_id"]})


# ---- a flash sale's per-customer limit -------------------------------------------------------
def hold_flash_units(session: Session, customer_id: str, campaign: Campaign, quantity: int) -> None:
    """Count an order's units of a flash sale against the customer's limit, or refuse it."""
    limit = campaign.per_customer_limit
    if limit is not None and quantity > limit:
        raise CampaignLimitReached(details={"campaign_id": campaign.id, "limit": limit, "requested": quantity})
    table = FlashPurchase.__table__
    stmt = conflict_insert(session, table).values(campaign_id=campaign.id, customer_id=customer_id, quantity=quantity)
    upsert = stmt.on_conflict_do_update(
        index_elements=["campaign_id", "customer_id"], set_={"quantity": table.c.quantity + stmt.excluded.quantity},
        where=(table.c.quantity + stmt.excluded.quantity <= limit) if limit is not None else None)
    if session.execute(upsert.returning(table.c.quantity)).first() is None:
        raise CampaignLimitReached(details={"campaign_id": campaign.id, "limit": limit, "requested": quantity})


def release_flash_units(session: Session, order_id: str, customer_id: str) -> None:
    """A cancelled order's flash-sale units no longer count against the customer's limit."""
    for campaign_id, quantity in session.execute(select(OrderLine.campaign_id, OrderLine.quantity).where(
            OrderLine.order_id == order_id, OrderLine.campaign_id.is_not(None))).all():
        session.execute(update(FlashPurchase).where(
            FlashPurchase.campaign_id == campaign_id, FlashPurchase.customer_id == customer_id)
            .values(quantity=FlashPurchase.quantity - quantity))
