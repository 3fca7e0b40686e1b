"""The API's contract: what goes in (validated) and what comes out (and the OpenAPI document)."""
import re
from datetime import UTC

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from mall_shared.api import PageArgs

from .models import RETURN_STATUSES, STATUSES, TRACKING_STATUSES

SLUG = validate.Regexp(r"^[a-z][a-z0-9_]{0,31}$", error="Must be a lowercase slug (a-z, 0-9, _), at most 32 long")
PROVINCE = fields.String(validate=validate.Length(min=1, max=50))
NOTE = {"load_default": None, "allow_none": True}


def _aware(**kw) -> fields.AwareDateTime:
    # A time without an offset is read as UTC, never stored naive.
    return fields.AwareDateTime(default_timezone=UTC, **kw)


class CarrierSchema(Schema):
    id = fields.String(required=True, validate=SLUG)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    tracking_pattern = fields.String(required=True, validate=validate.Length(min=1, max=200),
                                     metadata={"description": "Regular expression a whole tracking number matches"})
    tracking_url_template = fields.String(required=True, validate=validate.Length(min=1, max=500),
                                          metadata={"description": "URL with {tracking_number} in it"})
    active = fields.Boolean(load_default=True)

    @validates("tracking_pattern")
    def _compiles(self, value, **_):
        try:
            re.compile(value)
        except re.error as exc:
            raise ValidationError(f"Not a valid regular expression: {exc}") from exc

    @validates("tracking_url_template")
    def _has_placeholder(self, value, **_):
        if "{tracking_number}" not in value or not value.startswith(("http://", "https://")):
            raise ValidationError("Must be an http(s) URL containing {tracking_number}")


class CarrierPatchSchema(CarrierSchema):
    class Meta:
        exclude = ("id",)


class DeliveryMethodSchema(Schema):
    id = fields.String(required=True, validate=SLUG)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    fee = fields.Integer(required=True, validate=validate.Range(min=0, max=10**8), metadata={"description": "fen"})
    currency = fields.String(load_default="CNY", validate=validate.OneOf(["CNY"]))
    est_days_min = fields.Integer(required=True, validate=validate.Range(min=0, max=365))
    est_days_max = fields.Integer(required=True, validate=validate.Range(min=0, max=365))
    regions = fields.List(PROVINCE, load_default=None, allow_none=True, validate=validate.Length(min=1, max=100),
                          metadata={"description": "Provinces served; null means everywhere"})
    active = fields.Boolean(load_default=True)
    version = fields.Integer(dump_only=True, metadata={"description": "grows with every change"})

    @validates_schema
    def _days_in_order(self, data, partial=False, **_):
        low, high = data.get("est_days_min"), data.get("est_days_max")
        if low is not None and high is not None and low > high:
            raise ValidationError("Must not be below est_days_min", field_name="est_days_max")


class DeliveryMethodPatchSchema(DeliveryMethodSchema):
    class Meta:
        exclude = ("id",)


class DeliveryMethodArgs(Schema):
    province = fields.String(validate=validate.Length(min=1, max=50),
                             metadata={"description": "Only methods that serve this province"})
    include_inactive = fields.Boolean(load_default=False, metadata={"description": "Staff only"})


class TrackingEventSchema(Schema):
    status = fields.String()
    at = fields.DateTime()
    location = fields.String(allow_none=True)
    description = fields.String(allow_none=True)


class ShipmentSchema(Schema):
    id = fields.String()
    order_id = fields.String()
    customer_id = fields.String()
    carrier = fields.String(attribute="carrier_id", allow_none=True)
    carrier_name = fields.String(allow_none=True)
    tracking_number = fields.String(allow_none=True)
    tracking_url = fields.String(allow_none=True)
    status = fields.String()
    shipping_address = fields.Dict(allow_none=True)
    delivery_method_id = fields.String(allow_none=True)
    shipped_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True, metadata={"description": "When the carrier reported it delivered"})
    signed_at = fields.DateTime(allow_none=True, metadata={"description": "When receipt was confirmed"})
    signed_by = fields.String(allow_none=True, metadata={"description": "customer | auto"})
    events = fields.List(fields.Nested(TrackingEventSchema), attribute="timeline")


class ShipmentArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))
    order_id = fields.String(validate=validate.Length(max=36))


class ParcelSchema(Schema):
    carrier = fields.String(required=True, validate=validate.Length(min=1, max=32))
    tracking_number = fields.String(required=True, validate=validate.Length(min=1, max=40))


class ShipSchema(ParcelSchema):
    order_id = fields.String(required=True, validate=validate.Length(min=1, max=36))


class TrackingUpdateSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(TRACKING_STATUSES))
    location = fields.String(validate=validate.Length(max=200), **NOTE)
    description = fields.String(validate=validate.Length(max=1000), **NOTE)
    at = _aware(load_default=None, allow_none=True)


class SandboxPushSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(TRACKING_STATUSES))
    location = fields.String(validate=validate.Length(max=200), **NOTE)
    description = fields.String(validate=validate.Length(max=1000), **NOTE)


class CarrierNotifySchema(TrackingUpdateSchema):
    """The body a carrier pushes (signed; see carriers.py)."""
    event_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    tracking_number = fields.String(required=True, validate=validate.Length(min=1, max=40))
    at = _aware(required=True)


class NotifyResultSchema(Schema):
    result = fields.String(metadata={"description": "applied | ignored | duplicate"})
    shipment_id = fields.String()
    status = fields.String()


class ReturnLineSchema(Schema):
    sku_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=999))
    unit_price = fields.Integer(dump_only=True, metadata={"description": "fen, the price the order was placed at"})
    paid = fields.Integer(dump_only=True, metadata={"description": "fen, the returned units' share of what the "
                                                                   "line paid (after its discounts)"})
    points = fields.Integer(dump_only=True, metadata={"description": "The returned units' share of the points "
                                                                     "spent on the line"})


class ReturnRequestSchema(Schema):
    order_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    lines = fields.List(fields.Nested(ReturnLineSchema), required=True, validate=validate.Length(min=1, max=50),
                        metadata={"description": "Lines of the same SKU are merged"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class RefuseReturnSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class ReturnSchema(Schema):
    id = fields.String()
    order_id = fields.String()
    customer_id = fields.String()
    status = fields.String(metadata={"description": " | ".join(RETURN_STATUSES)})
    lines = fields.List(fields.Nested(ReturnLineSchema))
    amount = fields.Integer(metadata={"description": "fen refunded once received: Σ lines' paid"})
    points = fields.Integer(metadata={"description": "Points given back with the refund: Σ lines' points"})
    currency = fields.String()
    reason = fields.String(metadata={"description": "The customer's"})
    refusal_reason = fields.String(allow_none=True, metadata={"description": "Staff's, when refused"})
    carrier = fields.String(attribute="carrier_id", allow_none=True)
    tracking_number = fields.String(allow_none=True)
    refund_id = fields.String(allow_none=True)
    refunded_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ReturnArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(RETURN_STATUSES))
    order_id = fields.String(validate=validate.Length(max=36))
