"""crm's review API: customers review what they received; staff hide. Thin views."""
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from mall_shared.api import page_schema, paginate, transaction
from mall_shared.auth import current_identity, require, requires

from . import reviews
from .schemas import HideSchema, NewReviewSchema, ReviewQueryArgs, ReviewSchema, ReviewUpdateSchema

blp = Blueprint("reviews", __name__, url_prefix="/api/crm/reviews", description="Product reviews")


@blp.route("")
class Reviews(MethodView):
    @blp.arguments(ReviewQueryArgs, location="query")
    @blp.response(200, page_schema(ReviewSchema))
    def get(self, args):
        """Reviews of a SKU, newest first (staff may include hidden ones)"""
        who = current_identity()
        hidden = args["include_hidden"] and bool(who and who.is_staff)
        with transaction() as session:
            stmt = reviews.review_list(args.get("sku_id"), include_hidden=hidden)
            page = paginate(session, stmt, args["page"], args["per_page"])
            return {**page, "items": [reviews.shown_to(r, who) for r in page["items"]]}

    @requires("customer")
    @blp.arguments(NewReviewSchema)
    @blp.response(201, ReviewSchema)
    def post(self, data):
        """Review a SKU of one of my completed orders (one review per order line)"""
        with transaction() as session:
            return reviews.post_review(session, require().id, data["order_id"], data["sku_id"], data["rating"],
                                       data["text"])


@blp.route("/<review_id>")
class ReviewDetail(MethodView):
    @blp.response(200, ReviewSchema)
    def get(self, review_id):
        """A review"""
        with transaction() as session:
            who = current_identity()
            return reviews.shown_to(reviews.get_review(session, review_id, who), who)

    @requires("customer")
    @blp.arguments(ReviewUpdateSchema)
    @blp.response(200, ReviewSchema)
    def patch(self, changes, review_id):
        """Edit my review's rating or text, within the edit window"""
        days = current_app.extensions["crm_config"].review_edit_days
        with transaction() as session:
            return reviews.edit_review(session, require().id, review_id, changes, days)


@blp.route("/<review_id>/hide")
class HideReview(MethodView):
    @requires("staff")
    @blp.arguments(HideSchema)
    @blp.response(200, ReviewSchema)
    def post(self, data, review_id):
        """Hide a review from the product page (staff)"""
        with transaction() as session:
            return reviews.hide_review(session, review_id, data["reason"])
