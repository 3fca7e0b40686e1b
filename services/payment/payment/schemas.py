"""The API's contract: what goes in (validated) and what comes out (and the OpenAPI document)."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from mall_shared.api import PageArgs

from . import card
from .models import METHODS


class PaymentCreateSchema(Schema):
    order_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    card_token = fields.String(validate=validate.Length(min=1, max=36),
                               metadata={"description": "method card: a token from POST /api/payments/cards"})

    @validates_schema
    def _card_needs_token(self, data, **_):
        if data.get("method") == "card" and not data.get("card_token"):
            raise ValidationError("A card payment needs a card_token", field_name="card_token")


class CardNumber(fields.String):
    """Digits (spaces allowed) with a valid Luhn checksum. Errors never repeat the number."""

    def _deserialize(self, value, attr, data, **kwargs):
        number = super()._deserialize(value, attr, data, **kwargs).replace(" ", "")
        if not card.luhn_ok(number):
            raise ValidationError("Not a valid card number")
        return number


class CardSchema(Schema):
    number = CardNumber(required=True, load_only=True, validate=validate.Length(max=23))
    exp_month = fields.Integer(required=True, validate=validate.Range(min=1, max=12))
    exp_year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    cvc = fields.String(required=True, load_only=True, validate=validate.Regexp(r"^[0-9]{3,4}$"))

    @validates_schema
    def _not_expired(self, data, **_):
        if "exp_month" in data and "exp_year" in data and card.expired(data["exp_month"], data["exp_year"]):
            raise ValidationError("The card has expired", field_name="exp_year")


class CardTokenSchema(Schema):
    id = fields.String(metadata={"description": "the card token to pay with"})
    brand = fields.String()
    last4 = fields.String()
    exp_month = fields.Integer()
    exp_year = fields.Integer()


class PaymentSchema(Schema):
    id = fields.String()
    order_id = fields.String()
    method = fields.String()
    status = fields.String(metadata={"description": "pending, succeeded, failed, refunded, partially_refunded"})
    amount = fields.Integer(metadata={"description": "fen; always the order's total"})
    refunded_amount = fields.Integer()
    currency = fields.String()
    failure_reason = fields.String(allow_none=True)
    card_brand = fields.String(allow_none=True)
    card_last4 = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class PaymentCreatedSchema(PaymentSchema):
    pay_params = fields.Dict(metadata={"description": "What the client needs to pay, e.g. "
                                                      "{\"order_string\": ...} for alipay"})


class PaymentListArgs(PageArgs):
    order_id = fields.String(validate=validate.Length(min=1, max=36))


class SandboxOutcomeSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(["success", "failure"]))


class ProviderAnswerSchema(Schema):
    status_code = fields.Integer()
    body = fields.String()


class SandboxResultSchema(Schema):
    provider_answer = fields.Nested(ProviderAnswerSchema)
    payment = fields.Nested(PaymentSchema)


class RefundCreateSchema(Schema):
    amount = fields.Integer(required=True, validate=validate.Range(min=1, max=10**10))
    reason = fields.String(load_default="requested by staff", validate=validate.Length(min=1, max=200))


class RefundSchema(Schema):
    id = fields.String()
    payment_id = fields.String()
    order_id = fields.String()
    amount = fields.Integer()
    currency = fields.String()
    reason = fields.String()
    status = fields.String()
    return_id = fields.String(allow_none=True, metadata={"description": "The return (售后) it pays for, if any"})
    created_at = fields.DateTime()
