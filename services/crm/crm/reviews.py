"""Reviews: only for a SKU of one of the customer's COMPLETED orders, one per order line,
editable by the author for a while, hidden by staff. catalog learns ratings from ReviewPosted /
ReviewHidden, never from these tables. No Flask, no commit."""
from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mall_shared.api import Conflict, Forbidden, NotFound
from mall_shared.auth import Identity
from mall_shared.db import utcnow
from mall_shared.events import ReviewHidden, ReviewPosted
from mall_shared.outbox import emit

from .models import PurchaseRecord, Review, review_problem

PROBLEMS = {
    "order_not_found": (NotFound, "No such order in your purchase history"),
    "order_not_completed": (Conflict, "Only a completed (received) order can be reviewed"),
    "sku_not_in_order": (Conflict, "This SKU is not part of the order"),
}


class ReviewNotFound(NotFound):
    code, message = "review_not_found", "Review not found"


class ReviewExists(Conflict):
    code, message = "review_exists", "This order line has been reviewed already"


class ReviewLocked(Forbidden):
    code, message = "review_not_editable", "The review can no longer be edited"


def _fact(review: Review, cls):
    return cls(review_id=review.id, sku_id=review.sku_id, rating=review.rating, customer_id=review.customer_id,
               order_id=review.order_id, at=review.updated_at.isoformat().replace("+00:00", "Z"))


def post_review(session: Session, customer_id: str, order_id: str, sku_id: str, rating: int, text: str) -> Review:
    """Review a line of one of my completed orders, once (ReviewPosted)."""
    problem = review_problem(session.get(PurchaseRecord, order_id), customer_id, sku_id)
    if problem:
        error, message = PROBLEMS[problem]
        raise error(message, code=problem)
    review = Review(customer_id=customer_id, order_id=order_id, sku_id=sku_id, rating=rating, text=text,
                    status="visible")
    try:
        with session.begin_nested():  # the unique (order, sku) index settles a double submit
            session.add(review)
    except IntegrityError as exc:
        raise ReviewExists() from exc
    emit(session, _fact(review, ReviewPosted))
    return review


def get_review(session: Session, review_id: str, who: Identity | None = None) -> Review:
    """A visible review for anyone; a hidden one only for its author and staff."""
    review = session.get(Review, review_id)
    if review is None:
        raise ReviewNotFound()
    if review.status != "visible" and not (who and (who.is_staff or who.id == review.customer_id)):
        raise ReviewNotFound()
    return review


def edit_review(session: Session, customer_id: str, review_id: str, changes: dict, window_days: int) -> Review:
    """The author changes rating or text within the edit window (ReviewPosted again)."""
    review = session.get(Review, review_id, with_for_update=True)
    if review is None or review.customer_id != customer_id:
        raise ReviewNotFound()
    if not review.editable(utcnow(), window_days):
        raise ReviewLocked()
    for key, value in changes.items():
        setattr(review, key, value)
    review.updated_at = utcnow()
    emit(session, _fact(review, ReviewPosted))
    return review


def hide_review(session: Session, review_id: str, reason: str) -> Review:
    """Staff hide a review; it leaves the rating summary (ReviewHidden, once)."""
    review = session.get(Review, review_id, with_for_update=True)
    if review is None:
        raise ReviewNotFound()
    if review.status != "hidden":
        review.status, review.hidden_reason, review.updated_at = "hidden", reason, utcnow()
        emit(session, _fact(review, ReviewHidden))
    return review


def review_list(sku_id: str | None = None, customer_id: str | None = None, include_hidden: bool = False) -> Select:
    stmt = select(Review)
    if sku_id:
        stmt = stmt.where(Review.sku_id == sku_id)
    if customer_id:
        stmt = stmt.where(Review.customer_id == customer_id)
    if not include_hidden:
        stmt = stmt.where(Review.status == "visible")
    return stmt.order_by(Review.created_at.desc(), Review.id)


PUBLIC_FIELDS = ("id", "sku_id", "rating", "text", "status", "created_at", "updated_at")


def shown_to(review: Review, who: Identity | None) -> Review | dict:
    """What a viewer sees of a review: its author and staff all of it; anyone else not who wrote
    it nor which order it was for (a customer id and an order id are nobody else's business)."""
    if who and (who.is_staff or who.id == review.customer_id):
        return review
    return {name: getattr(review, name) for name in PUBLIC_FIELDS}
