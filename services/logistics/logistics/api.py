"""logistics' HTTP API. Thin views: validate, open a transaction, call one use case, return."""
import logging

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError

from mall_shared import clients
from mall_shared.api import Conflict, NotFound, Unauthorized, page_schema, paginate, transaction
from mall_shared.auth import current_identity, require, requires

from . import carriers as carrier_io
from . import services
from .config import LogisticsConfig
from .schemas import (
    CarrierNotifySchema,
    CarrierPatchSchema,
    CarrierSchema,
    DeliveryMethodArgs,
    DeliveryMethodPatchSchema,
    DeliveryMethodSchema,
    NotifyResultSchema,
    ParcelSchema,
    RefuseReturnSchema,
    ReturnArgs,
    ReturnRequestSchema,
    ReturnSchema,
    SandboxPushSchema,
    ShipmentArgs,
    ShipmentSchema,
    ShipSchema,
    TrackingUpdateSchema,
)

log = logging.getLogger(__name__)

carriers = Blueprint("carriers", __name__, url_prefix="/api/logistics/carriers", description="Carriers")
methods = Blueprint("delivery_methods", __name__, url_prefix="/api/logistics/delivery-methods",
                    description="Delivery methods and their fees")
shipments = Blueprint("shipments", __name__, url_prefix="/api/logistics", description="Shipments and tracking")
notify = Blueprint("notify", __name__, url_prefix="/api/logistics/notify",
                   description="Carrier webhooks (no bearer token: the carrier's signature is the credential)")
returns = Blueprint("returns", __name__, url_prefix="/api/logistics/returns",
                    description="Returns (售后): asked for, approved or refused, shipped back, received, refunded")
blueprints = [carriers, methods, shipments, notify, returns]


def _config() -> LogisticsConfig:
    return current_app.extensions["logistics_config"]


def _is_staff() -> bool:
    identity = current_identity()
    return bool(identity and identity.is_staff)


@carriers.route("")
class Carriers(MethodView):
    @carriers.response(200, CarrierSchema(many=True))
    def get(self):
        """List carriers (staff also see inactive ones)"""
        with transaction() as session:
            return services.list_carriers(session, include_inactive=_is_staff())

    @requires("staff")
    @carriers.arguments(CarrierSchema)
    @carriers.response(201, CarrierSchema)
    def post(self, data):
        """Add a carrier (staff)"""
        with transaction() as session:
            return services.create_carrier(session, data)


@carriers.route("/<carrier_id>")
class CarrierDetail(MethodView):
    @requires("staff")
    @carriers.arguments(CarrierPatchSchema(partial=True))
    @carriers.response(200, CarrierSchema)
    def patch(self, data, carrier_id):
        """Change a carrier: name, tracking-number format, tracking URL, active (staff)"""
        with transaction() as session:
            return services.update_carrier(session, carrier_id, data)


@methods.route("")
class DeliveryMethods(MethodView):
    @methods.arguments(DeliveryMethodArgs, location="query")
    @methods.response(200, DeliveryMethodSchema(many=True))
    def get(self, args):
        """List delivery methods, optionally those serving a province"""
        with transaction() as session:
            return services.list_delivery_methods(session, args.get("province"),
                                                  include_inactive=args["include_inactive"] and _is_staff())

    @requires("staff")
    @methods.arguments(DeliveryMethodSchema)
    @methods.response(201, DeliveryMethodSchema)
    def post(self, data):
        """Add a delivery method (staff)"""
        with transaction() as session:
            return services.create_delivery_method(session, data)


@methods.route("/<method_id>")
class DeliveryMethodDetail(MethodView):
    # order calls this at checkout for the fee. A synchronous call rather than a read model
    # replicated from events: the fee is quoted to the customer at that moment, so it must be
    # the current one (a replica may lag a staff change), checkout already calls catalog for
    # prices, and a failed call is a clear 503 at checkout rather than a silently stale fee.
    @methods.response(200, DeliveryMethodSchema)
    def get(self, method_id):
        """A delivery method with its fee (also when inactive, so checkout can refuse it)"""
        with transaction() as session:
            return services.get_delivery_method(session, method_id)

    @requires("staff")
    @methods.arguments(DeliveryMethodPatchSchema(partial=True))
    @methods.response(200, DeliveryMethodSchema)
    def patch(self, data, method_id):
        """Change a delivery method: fee, days, regions, active (staff)"""
        with transaction() as session:
            return services.update_delivery_method(session, method_id, data)


@shipments.route("/shipments")
class Shipments(MethodView):
    @requires("staff")
    @shipments.arguments(ShipmentArgs, location="query")
    @shipments.response(200, page_schema(ShipmentSchema))
    def get(self, args):
        """Shipments, newest first, by status or order (staff)"""
        with transaction() as session:
            return paginate(session, services.search_shipments(args), args["page"], args["per_page"])

    @requires("staff")
    @shipments.arguments(ShipSchema)
    @shipments.response(201, ShipmentSchema)
    def post(self, data):
        """Ship a PROCESSING order: carrier and tracking number (staff)"""
        args = (data["order_id"], data["carrier"], data["tracking_number"])
        try:
            with transaction() as session:
                return services.ship_order(session, *args)
        except services.OrderNotReady:
            # Our copy may lag the order staff just processed: ask the order service.
            order = clients.get_order(data["order_id"], request.headers["Authorization"])
            if order is None or order.get("status") != services.SHIPPABLE_ORDER_STATUS:
                raise
        with transaction() as session:
            services.learn_order(session, order)
            return services.ship_order(session, *args)


@shipments.route("/shipments/<shipment_id>")
class ShipmentDetail(MethodView):
    @requires("customer")
    @shipments.response(200, ShipmentSchema)
    def get(self, shipment_id):
        """A shipment with its tracking timeline (its customer or staff)"""
        with transaction() as session:
            return services.get_shipment(session, shipment_id, require())


@shipments.route("/orders/<order_id>/tracking")
class OrderTracking(MethodView):
    @requires("customer")
    @shipments.response(200, ShipmentSchema)
    def get(self, order_id):
        """An order's shipment and tracking timeline (its customer or staff)"""
        with transaction() as session:
            return services.get_tracking(session, order_id, require())


@shipments.route("/shipments/<shipment_id>/events")
class ShipmentEvents(MethodView):
    @requires("staff")
    @shipments.arguments(TrackingUpdateSchema)
    @shipments.response(201, ShipmentSchema)
    def post(self, data, shipment_id):
        """Record a tracking update: picked up, in transit, out for delivery, exception, delivered (staff)"""
        with transaction() as session:
            return services.add_tracking_event(session, shipment_id, **data)


@shipments.route("/shipments/<shipment_id>/sign")
class SignShipment(MethodView):
    @requires("customer")
    @shipments.response(200, ShipmentSchema)
    def post(self, shipment_id):
        """Confirm receipt (确认收货): the customer who ordered"""
        with transaction() as session:
            return services.sign_shipment(session, shipment_id, require())


@shipments.route("/shipments/<shipment_id>/sandbox")
class SandboxPush(MethodView):
    @requires("staff")
    @shipments.arguments(SandboxPushSchema)
    @shipments.response(200, ShipmentSchema)
    def post(self, data, shipment_id):
        """Sandbox only: make the carrier push a signed tracking update to its webhook (staff)"""
        cfg = _config()
        if not cfg.sandbox:
            raise NotFound()
        identity = require()
        with transaction() as session:
            shipment = services.get_shipment(session, shipment_id, identity)
            carrier_id, tracking_number = shipment.carrier_id, shipment.tracking_number
        if carrier_id is None or tracking_number is None:
            raise Conflict("The shipment has not been shipped yet", code="not_shipped")
        # No transaction is held here: the push is handled by another request that locks the row.
        carrier_io.push_sandbox_update(cfg, carrier_id, tracking_number, **data)
        with transaction() as session:
            return services.get_shipment(session, shipment_id, identity)


@notify.route("/<carrier_id>")
class CarrierNotify(MethodView):
    @notify.doc(parameters=[{"in": "header", "name": carrier_io.SIGNATURE_HEADER, "required": True,
                             "schema": {"type": "string"}, "description": "hex HMAC-SHA256 of the raw body"}])
    @notify.response(200, NotifyResultSchema)
    def post(self, carrier_id):
        """A carrier's signed tracking push (verified before anything is read from it)"""
        raw = request.get_data(cache=False)
        with transaction() as session:
            services.get_carrier(session, carrier_id)
        key = carrier_io.carrier_key(_config(), carrier_id)
        if not carrier_io.signature_valid(key, raw, request.headers.get(carrier_io.SIGNATURE_HEADER)):
            log.warning("refused push for carrier %r from %s: invalid signature%s", carrier_id,
                        request.remote_addr, "" if key else " (no key configured)")
            raise Unauthorized("The carrier signature is missing or invalid", code="invalid_signature")
        try:
            push = CarrierNotifySchema().loads(raw)
        except ValidationError as exc:
            raise services.InvalidField(exc.normalized_messages()) from exc
        except ValueError as exc:  # not JSON at all
            raise services.InvalidField({"body": ["Not a JSON object"]}) from exc
        with transaction() as session:
            return services.receive_carrier_push(session, carrier_id, push)


@returns.route("")
class Returns(MethodView):
    @requires("customer")
    @returns.arguments(ReturnArgs, location="query")
    @returns.response(200, page_schema(ReturnSchema))
    def get(self, args):
        """Returns, newest first, by status or order: a customer's own, all for staff"""
        with transaction() as session:
            return paginate(session, services.search_returns(require(), args), args["page"], args["per_page"])

    @requires("customer")
    @returns.arguments(ReturnRequestSchema)
    @returns.response(201, ReturnSchema)
    def post(self, data):
        """Ask to return some units of one's own completed order, within the return window (七天无理由)"""
        with transaction() as session:
            return services.request_return(session, require(), data["order_id"], data["lines"], data["reason"],
                                           _config().return_window)


@returns.route("/<return_id>")
class ReturnDetail(MethodView):
    @requires("customer")
    @returns.response(200, ReturnSchema)
    def get(self, return_id):
        """A return (its customer or staff)"""
        with transaction() as session:
            return services.get_return(session, return_id, require())


@returns.route("/<return_id>/approve")
class ApproveReturn(MethodView):
    @requires("staff")
    @returns.response(200, ReturnSchema)
    def post(self, return_id):
        """Approve a requested return: the customer may ship it back (staff)"""
        with transaction() as session:
            return services.approve_return(session, return_id)


@returns.route("/<return_id>/refuse")
class RefuseReturn(MethodView):
    @requires("staff")
    @returns.arguments(RefuseReturnSchema)
    @returns.response(200, ReturnSchema)
    def post(self, data, return_id):
        """Refuse a requested return, with the reason (staff)"""
        with transaction() as session:
            return services.refuse_return(session, return_id, data["reason"])


@returns.route("/<return_id>/ship")
class ShipReturn(MethodView):
    @requires("customer")
    @returns.arguments(ParcelSchema)
    @returns.response(200, ReturnSchema)
    def post(self, data, return_id):
        """Send an approved return back: carrier and tracking number (the customer who asked)"""
        with transaction() as session:
            return services.ship_return(session, return_id, require(), data["carrier"], data["tracking_number"])


@returns.route("/<return_id>/receive")
class ReceiveReturn(MethodView):
    @requires("staff")
    @returns.response(200, ReturnSchema)
    def post(self, return_id):
        """The parcel came back: payment refunds the return's amount, catalog restocks (staff)"""
        with transaction() as session:
            return services.receive_return(session, return_id)
