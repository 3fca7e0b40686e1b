"""order's HTTP API. Thin views: validate, open a transaction, call one use case, return."""
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from mall_shared.api import page_schema, paginate, transaction
from mall_shared.auth import require, requires

from . import services
from .schemas import CancelSchema, OrderListArgs, OrderSchema, PlaceOrderSchema

orders = Blueprint("orders", __name__, url_prefix="/api/orders", description="Orders")
blueprints = [orders]


@orders.route("")
class Orders(MethodView):
    @requires("customer")
    @orders.arguments(OrderListArgs, location="query")
    @orders.response(200, page_schema(OrderSchema))
    def get(self, args):
        """List orders: a customer's own; staff see all and filter by customer, status and date"""
        identity = require("customer")
        with transaction() as session:
            return paginate(session, services.list_orders(identity, args), args["page"], args["per_page"])

    @requires("customer")
    @orders.arguments(PlaceOrderSchema)
    @orders.response(201, OrderSchema)
    def post(self, data):
        """Place an order: catalog's prices, logistics' fee and a saved crm address (order's own
        copies of them), totals by the server"""
        identity = require("customer")
        with transaction() as session:
            return services.place_order(session, identity.id, data["items"], data["delivery_method_id"],
                                        shipping_address=data.get("shipping_address"),
                                        address_id=data.get("address_id"),
                                        authorization=request.headers["Authorization"])


@orders.route("/<order_id>")
class OrderDetail(MethodView):
    @requires("customer")
    @orders.response(200, OrderSchema)
    def get(self, order_id):
        """An order with its lines and history (its customer or staff)"""
        with transaction() as session:
            return services.get_order(session, order_id, require("customer"))


@orders.route("/<order_id>/process")
class ProcessOrder(MethodView):
    @requires("staff")
    @orders.response(200, OrderSchema)
    def post(self, order_id):
        """Start picking and packing a paid order (staff)"""
        with transaction() as session:
            return services.process_order(session, order_id, require("staff"))


@orders.route("/<order_id>/cancel")
class CancelOrder(MethodView):
    @requires("customer")
    @orders.arguments(CancelSchema, required=False)
    @orders.response(200, OrderSchema)
    def post(self, data, order_id):
        """Cancel an order until staff process it (its customer or staff); a paid order is refunded"""
        with transaction() as session:
            return services.cancel_order(session, order_id, require("customer"), data.get("reason"))
