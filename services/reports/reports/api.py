"""reports' HTTP API (staff only): each report as JSON, or as CSV with `Accept: text/csv` or
`?format=csv`. Thin views: validate the range, read one report in a transaction, answer."""
from __future__ import annotations

import csv
import io

from flask import Response, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint

from mall_shared.api import settings, transaction
from mall_shared.auth import requires

from . import queries
from .schemas import GroupedArgs, LimitArgs, RangeArgs, StockArgs, TopArgs

blp = Blueprint("reports", __name__, url_prefix="/api/reports", description="Sales analytics (staff)")
blueprints = [blp]
# Documented so (no schema: each report has its own columns), a report is not read as an error body.
REPORT = "The report as JSON (`report`, `from`, `to`, totals, `rows`), or its rows as CSV"


def answer(name: str, args: dict, report: dict) -> Response:
    """The report as JSON, or its rows as a CSV download."""
    start, end = args["from_"].isoformat(), args["to"].isoformat()
    wants_csv = args.get("format") == "csv" or (
        args.get("format") is None
        and request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv")
    if not wants_csv:
        extra = {k: args[k] for k in ("group_by", "sort", "limit") if k in args}
        return jsonify({"report": name, "from": start, "to": end, **extra, **report})
    out = io.StringIO()
    rows = report["rows"]
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}-{start}-{end}.csv"'})


@blp.route("/sales")
class Sales(MethodView):
    @requires("staff")
    @blp.arguments(GroupedArgs, location="query")
    @blp.response(200, description=REPORT)
    def get(self, args):
        """Sales per day, week or month: GMV, paid orders, average order value, refunds, net sales"""
        with transaction() as session:
            return answer("sales", args, queries.sales(session, args["from_"], args["to"], args["group_by"]))


@blp.route("/products")
class TopProducts(MethodView):
    @requires("staff")
    @blp.arguments(TopArgs, location="query")
    @blp.response(200, description=REPORT)
    def get(self, args):
        """Top products by units or revenue"""
        with transaction() as session:
            return answer("products", args, queries.top_products(session, args["from_"], args["to"], args["sort"],
                                                                 args["limit"]))


@blp.route("/categories")
class TopCategories(MethodView):
    @requires("staff")
    @blp.arguments(TopArgs, location="query")
    @blp.response(200, description=REPORT)
    def get(self, args):
        """Top categories by units or revenue"""
        with transaction() as session:
            return answer("categories", args, queries.top_categories(session, args["from_"], args["to"],
                                                                     args["sort"], args["limit"]))


@blp.route("/funnel")
class Funnel(MethodView):
    @requires("staff")
    @blp.arguments(RangeArgs, location="query")
    @blp.response(200, description=REPORT)
    def get(self, args):
        """The funnel of orders placed in the range: placed → awaiting payment → paid → shipped → completed"""
        with transaction() as session:
            return answer("funnel", args, queries.funnel(session, args["from_"], args["to"]))


@blp.route("/cancellations")
class Cancellations(MethodView):
    @requires("staff")
    @blp.arguments(RangeArgs, location="query")
    @blp.response(200, description=REPORT)
    def get(self, args):
        """Why orders placed in the range were cancelled"""
        with transaction() as session:
            return answer("cancellations", args, queries.cancellations(session, args["from_"], args["to"]))


@blp.route("/payment-methods")
class PaymentMethods(MethodView):
    @requires("staff")
    @blp.arguments(RangeArgs, location="query")
    @blp.response(200, description=REPORT)
    def get(self, args):
        """The payment-method mix"""
        with transaction() as session:
            return answer("payment-methods", args, queries.payment_methods(session, args["from_"], args["to"]))


@blp.route("/carriers")
class Carriers(MethodView):
    @requires("staff")
    @blp.arguments(RangeArgs, location="query")
    @blp.response(200, description=REPORT)
    def get(self, args):
        """Carriers: parcels shipped and delivered, delivery times (shipped → delivered, p50/p90 hours)"""
        with transaction() as session:
            return answer("carriers", args, queries.carriers(session, args["from_"], args["to"]))


@blp.route("/customers")
class Customers(MethodView):
    @requires("staff")
    @blp.arguments(GroupedArgs, location="query")
    @blp.response(200, description=REPORT)
    def get(self, args):
        """Buyers per period, new or returning, and registrations"""
        with transaction() as session:
            return answer("customers", args, queries.customers(session, args["from_"], args["to"], args["group_by"]))


@blp.route("/tiers")
class Tiers(MethodView):
    @requires("staff")
    @blp.arguments(RangeArgs, location="query")
    @blp.response(200, description=REPORT)
    def get(self, args):
        """Members per tier, now"""
        with transaction() as session:
            return answer("tiers", args, queries.tiers(session))


@blp.route("/stock")
class Stock(MethodView):
    @requires("staff")
    @blp.arguments(StockArgs, location="query")
    @blp.response(200, description=REPORT)
    def get(self, args):
        """Stock alerts: SKUs sold out or running low, with days of cover at the range's selling rate"""
        with transaction() as session:
            return answer("stock", args, queries.stock(session, args["from_"], args["to"], args["low_stock"],
                                                       args["cover_days"]))


@blp.route("/product-views")
class ProductViews(MethodView):
    @requires("staff")
    @blp.arguments(LimitArgs, location="query")
    @blp.response(200, description=REPORT)
    def get(self, args):
        """Product-page views → orders, per product"""
        with transaction() as session:
            return answer("product-views", args, queries.product_views(session, args["from_"], args["to"],
                                                                       args["limit"]))


@blp.route("/lag")
class Lag(MethodView):
    @requires("staff")
    @blp.response(200, description="The worker's lag: events waiting, the last one handled")
    def get(self):
        """How far the reports worker is behind the bus: events waiting in its queue, last handled"""
        with transaction() as session:
            return jsonify(queries.worker_lag(session, settings()))
