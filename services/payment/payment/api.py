"""payment's HTTP API. Thin views: validate, open a transaction, call one use case, return."""
import json

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from mall_shared import clients
from mall_shared.api import db, page_schema, paginate, transaction
from mall_shared.auth import require, requires

from . import notifications, refunds, services
from .schemas import (
    CardSchema,
    CardTokenSchema,
    PaymentCreatedSchema,
    PaymentCreateSchema,
    PaymentListArgs,
    PaymentSchema,
    RefundCreateSchema,
    RefundSchema,
    SandboxOutcomeSchema,
    SandboxResultSchema,
)

payments = Blueprint("payments", __name__, url_prefix="/api/payments", description="Payments and refunds")
notify = Blueprint("notify", __name__, url_prefix="/api/payments/notify",
                   description="Provider notifications (no bearer token: the provider's signature is the credential)")
blueprints = [notify, payments]


def _cfg():
    return current_app.extensions["payment_config"]


@payments.route("")
class Payments(MethodView):
    @requires("customer")
    @payments.arguments(PaymentCreateSchema)
    @payments.response(201, PaymentCreatedSchema)
    def post(self, data):
        """Start paying one of your orders (the amount is the order's total)"""
        customer = require("customer")
        args = (_cfg(), customer.id, data["order_id"], data["method"], data.get("card_token"))
        try:
            with transaction() as session:
                return services.create_payment(session, *args)
        except services.OrderNotPayable:
            # Our read model may lag the order the customer is looking at: ask the order service.
            order = clients.get_order(data["order_id"], request.headers["Authorization"])
            if order is None:
                raise
        with transaction() as session:
            services.learn_order(session, customer.id, order)
            return services.create_payment(session, *args)

    @requires("customer")
    @payments.arguments(PaymentListArgs, location="query")
    @payments.response(200, page_schema(PaymentSchema))
    def get(self, args):
        """Your payments (staff: all), optionally of one order"""
        with transaction() as session:
            stmt = services.list_payments(require("customer"), args.get("order_id"))
            return paginate(session, stmt, args["page"], args["per_page"])


@payments.route("/cards")
class Cards(MethodView):
    @requires("customer")
    @payments.arguments(CardSchema)
    @payments.response(201, CardTokenSchema)
    def post(self, data):
        """Tokenize a card (Luhn and expiry checked); only brand and last four digits are kept"""
        with transaction() as session:
            return services.create_card_token(session, _cfg(), require("customer").id, data["number"],
                                              data["exp_month"], data["exp_year"])


@payments.route("/<payment_id>")
class PaymentDetail(MethodView):
    @requires("customer")
    @payments.response(200, PaymentSchema)
    def get(self, payment_id):
        """A payment (its owner or staff), for polling its status"""
        with transaction() as session:
            return services.get_payment(session, require("customer"), payment_id)


@payments.route("/<payment_id>/sandbox")
class Sandbox(MethodView):
    @requires("customer")
    @payments.arguments(SandboxOutcomeSchema)
    @payments.response(200, SandboxResultSchema)
    def post(self, data, payment_id):
        """Sandbox only: the provider sends its signed notification of success or failure"""
        return services.simulate_provider(db(), _cfg(), require("customer"), payment_id, data["outcome"])


@payments.route("/<payment_id>/refunds")
class Refunds(MethodView):
    @requires("staff")
    @payments.response(200, RefundSchema(many=True))
    def get(self, payment_id):
        """A payment's refunds (staff)"""
        with transaction() as session:
            return refunds.list_refunds(session, services.get_payment(session, require("staff"), payment_id))

    @requires("staff")
    @payments.arguments(RefundCreateSchema)
    @payments.response(201, RefundSchema)
    def post(self, data, payment_id):
        """Refund all or part of a payment (staff); never more than is left"""
        with transaction() as session:
            payment = services.get_payment(session, require("staff"), payment_id, lock=True)
            refund_id = refunds.record_refund(session, payment, data["amount"], data["reason"]).id
        # Committed first: a crash from here on leaves it pending for the worker, never refunded twice.
        return refunds.settle_refund(db(), _cfg(), refund_id, give_up=True)


@notify.route("/alipay")
class AlipayNotify(MethodView):
    @notify.response(200, content_type="text/plain")
    @notify.alt_response(400, description="failure: the notification was not genuine")
    def post(self):
        """Alipay's asynchronous notification (form-encoded, RSA2-signed); answers `success`"""
        params = {k: v[:2000] for k, v in request.form.items()}
        with transaction() as session:
            accepted = notifications.receive_alipay_notification(session, _cfg(), params)
        return Response("success" if accepted else "failure", status=200 if accepted else 400,
                        mimetype="text/plain")


@notify.route("/wechat_pay")
class WechatPayNotify(MethodView):
    @notify.response(204)
    @notify.alt_response(400, description='{"code": "FAIL", ...}: the notification was not genuine')
    def post(self):
        """WeChat Pay's notification (API v3: signed headers, AES-256-GCM resource); answers 204"""
        body = request.get_data(as_text=True)
        with transaction() as session:
            accepted = notifications.receive_wechat_notification(session, _cfg(), request.headers, body)
        if accepted:
            return Response(status=204)
        return Response(json.dumps({"code": "FAIL", "message": "notification rejected"}), status=400,
                        mimetype="application/json")
