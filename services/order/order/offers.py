"""What coupon templates and campaigns share: staff create them, look them up and change their
name, window or `active` flag; both apply only inside their window (`starts_at` ≤ now < `ends_at`)
while active."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from mall_shared.api import Conflict, NotFound

from .models import Campaign, CouponTemplate

Offer = CouponTemplate | Campaign


def create_offer(session: Session, model: type[Offer], data: dict) -> Offer:
    offer = model(**data, active=True)
    session.add(offer)
    session.flush()
    return offer


def get_offer(session: Session, model: type[Offer], offer_id: str, missing: type[NotFound],
              lock: bool = False) -> Offer:
    offer = session.get(model, offer_id, with_for_update=lock)
    if offer is None:
        raise missing()
    return offer


def change_offer(offer: Offer, data: dict) -> Offer:
    for name, value in data.items():
        setattr(offer, name, value)
    if offer.ends_at <= offer.starts_at:
        raise Conflict("It must end after it starts", code="invalid_window")
    return offer


def running(offer: Offer, now: datetime) -> bool:
    return offer.active and offer.starts_at <= now < offer.ends_at
