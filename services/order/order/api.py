"""order's HTTP API. Thin views: validate, open a transaction, call one use case, return."""
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from mall_shared.api import page_schema, paginate, transaction
from mall_shared.auth import require, requires
from mall_shared.db import utcnow

from . import campaigns, cart, coupons, services
from .promo_schemas import (
    CampaignListArgs,
    CampaignSchema,
    CartArgs,
    CartItemSchema,
    CartSchema,
    ClaimedSchema,
    CouponListArgs,
    CouponTemplateSchema,
    CouponUpdateSchema,
    UpdateSchema,
    WalletSchema,
)
from .schemas import CancelSchema, CheckoutSchema, OrderListArgs, OrderSchema, PlaceOrderSchema

orders = Blueprint("orders", __name__, url_prefix="/api/orders", description="Orders")
carts = Blueprint("cart", __name__, url_prefix="/api/cart", description="The shopping cart, priced live")
promotions = Blueprint("promotions", __name__, url_prefix="/api/promotions",
                       description="Coupons and campaigns (满减, flash-sale prices, member prices)")
blueprints = [orders, carts, promotions]


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
                                        authorization=request.headers["Authorization"],
                                        coupon_id=data.get("coupon_id"), points=data["points"])


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


# ---- cart ------------------------------------------------------------------------------------
@carts.route("")
class Cart(MethodView):
    @requires("customer")
    @carts.arguments(CartArgs, location="query")
    @carts.response(200, CartSchema)
    def get(self, args):
        """The cart: live prices, each line's state, and the breakdown for a delivery, coupon and points"""
        identity = require("customer")
        with transaction() as session:
            return cart.view_cart(session, identity.id, args, request.headers["Authorization"])


@carts.route("/items/<sku_id>")
class CartItem(MethodView):
    @requires("customer")
    @carts.arguments(CartItemSchema)
    @carts.response(204)
    def put(self, data, sku_id):
        """Put a quantity of a SKU in the cart"""
        with transaction() as session:
            cart.set_item(session, require("customer").id, sku_id, data["quantity"])

    @requires("customer")
    @carts.response(204)
    def delete(self, sku_id):
        """Take a SKU out of the cart"""
        with transaction() as session:
            cart.remove_item(session, require("customer").id, sku_id)


@carts.route("/checkout")
class Checkout(MethodView):
    @requires("customer")
    @carts.arguments(CheckoutSchema)
    @carts.response(201, OrderSchema)
    def post(self, data):
        """Place the order of the whole cart; the cart empties only if the order is placed"""
        identity = require("customer")
        with transaction() as session:
            return cart.checkout_cart(session, identity.id, data, request.headers["Authorization"])


# ---- coupons ---------------------------------------------------------------------------------
@promotions.route("/coupons")
class Coupons(MethodView):
    @requires("staff")
    @promotions.arguments(CouponListArgs, location="query")
    @promotions.response(200, page_schema(CouponTemplateSchema))
    def get(self, args):
        """Coupon templates (staff)"""
        with transaction() as session:
            return paginate(session, coupons.list_templates(args.get("active")), args["page"], args["per_page"])

    @requires("staff")
    @promotions.arguments(CouponTemplateSchema)
    @promotions.response(201, CouponTemplateSchema)
    def post(self, data):
        """Create a coupon template: amount or percent off, threshold, window, quantities, scope (staff)"""
        with transaction() as session:
            return coupons.create_template(session, data)


@promotions.route("/coupons/<template_id>")
class CouponDetail(MethodView):
    @requires("staff")
    @promotions.response(200, CouponTemplateSchema)
    def get(self, template_id):
        """A coupon template (staff)"""
        with transaction() as session:
            return coupons.get_template(session, template_id)

    @requires("staff")
    @promotions.arguments(CouponUpdateSchema)
    @promotions.response(200, CouponTemplateSchema)
    def patch(self, data, template_id):
        """Change a template's name, window, quantity or active (staff)"""
        with transaction() as session:
            return coupons.update_template(session, template_id, data)

    @requires("staff")
    @promotions.response(200, CouponTemplateSchema)
    def delete(self, template_id):
        """Withdraw a template: no more claims, and claimed copies no longer apply (staff)"""
        with transaction() as session:
            return coupons.update_template(session, template_id, {"active": False})


@promotions.route("/coupons/<template_id>/claim")
class ClaimCoupon(MethodView):
    @requires("customer")
    @promotions.response(201, ClaimedSchema)
    def post(self, template_id):
        """Claim a copy of a coupon into one's wallet"""
        identity = require("customer")
        with transaction() as session:
            return coupons.claim_coupon(session, template_id, identity.id, utcnow())


@promotions.route("/me/coupons")
class Wallet(MethodView):
    @requires("customer")
    @promotions.response(200, WalletSchema)
    def get(self):
        """One's coupons, each saying whether (and how much) it applies to the cart now"""
        identity = require("customer")
        with transaction() as session:
            return {"items": cart.wallet_for_cart(session, identity.id, request.headers["Authorization"])}


# ---- campaigns -------------------------------------------------------------------------------
@promotions.route("/campaigns")
class Campaigns(MethodView):
    @requires("customer")
    @promotions.arguments(CampaignListArgs, location="query")
    @promotions.response(200, page_schema(CampaignSchema))
    def get(self, args):
        """Campaigns; customers see those running now, staff all (filter by kind, running)"""
        running = utcnow() if args.get("running") or not require("customer").is_staff else None
        with transaction() as session:
            return paginate(session, campaigns.list_campaigns(args.get("kind"), running), args["page"],
                            args["per_page"])

    @requires("staff")
    @promotions.arguments(CampaignSchema)
    @promotions.response(201, CampaignSchema)
    def post(self, data):
        """Create a campaign: 满减 tiers, a flash-sale SKU price, or member-tier discounts (staff)"""
        with transaction() as session:
            return campaigns.create_campaign(session, data)


@promotions.route("/campaigns/<campaign_id>")
class CampaignDetail(MethodView):
    @requires("staff")
    @promotions.response(200, CampaignSchema)
    def get(self, campaign_id):
        """A campaign (staff)"""
        with transaction() as session:
            return campaigns.get_campaign(session, campaign_id)

    @requires("staff")
    @promotions.arguments(UpdateSchema)
    @promotions.response(200, CampaignSchema)
    def patch(self, data, campaign_id):
        """Change a campaign's name, window or active (staff)"""
        with transaction() as session:
            return campaigns.update_campaign(session, campaign_id, data)
