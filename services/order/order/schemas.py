"""The API's contract: what goes in (validated) and what comes out (and the OpenAPI document)."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema

from mall_shared.api import PageArgs

from .models import STATUSES

MAX_QUANTITY = 99
CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def _text(low: int, high: int, **kw) -> fields.String:
    return fields.String(validate=validate.Length(min=low, max=high), **kw)


class AddressSchema(Schema):
    name = _text(1, 50, required=True)
    phone = fields.String(required=True, validate=validate.Regexp(CN_MOBILE, error="Not a mainland China mobile "
                                                                                   "number (11 digits, 1[3-9]…)"))
    province = _text(1, 50, required=True)
    city = _text(1, 50, required=True)
    district = _text(1, 50, required=True)
    detail = _text(1, 200, required=True)
    postal_code = fields.String(load_default=None, allow_none=True,
                                validate=validate.Regexp(r"^\d{6}$", error="Six digits"))

    @pre_load
    def _normalize_phone(self, data, **_):
        # "+86 138-0013-8000" and "13800138000" are the same number; store the 11 digits.
        if isinstance(data, dict) and isinstance(data.get("phone"), str):
            phone = re.sub(r"[\s-]", "", data["phone"])
            data = {**data, "phone": phone[3:] if phone.startswith("+86") else phone}
        return data

    @post_load
    def _strip(self, data, **_):
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}


def points_field(strict: bool = True) -> fields.Integer:
    return fields.Integer(load_default=0, strict=strict, validate=validate.Range(min=0, max=10**9),
                          metadata={"description": "Points to spend (crm holds them; ORDER_POINTS_PER_YUAN make ¥1)"})


class ItemSchema(Schema):
    sku_id = _text(1, 36, required=True)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_QUANTITY))
    campaign_id = _text(1, 36, metadata={"description": "The flash sale whose price the shopper was shown: if it "
                                                       "no longer prices this SKU, 409 campaign_not_active"})


class CheckoutSchema(Schema):
    """Where and how an order goes, and what it spends: the cart's checkout, and an order's."""
    shipping_address = fields.Nested(AddressSchema)
    address_id = _text(1, 36, metadata={"description": "One of the customer's saved addresses (crm), copied "
                                                       "into the order instead of shipping_address"})
    delivery_method_id = _text(1, 64, required=True)
    coupon_id = _text(1, 36, metadata={"description": "A coupon from the customer's wallet (one per order)"})
    points = points_field()

    @validates_schema
    def _one_address(self, data, **_):
        if ("shipping_address" in data) == ("address_id" in data):
            message = "Give exactly one of shipping_address and address_id"
            raise ValidationError({"shipping_address": [message], "address_id": [message]})


class PlaceOrderSchema(CheckoutSchema):
    items = fields.List(fields.Nested(ItemSchema), required=True, validate=validate.Length(min=1, max=50),
                        metadata={"description": "Lines of the same SKU are merged (at most 99 in all)"})

    @validates_schema
    def _merged_quantities(self, data, **_):
        merged: dict[str, int] = {}
        for item in data.get("items", []):
            merged[item["sku_id"]] = merged.get(item["sku_id"], 0) + item["quantity"]
        too_many = [sku for sku, qty in merged.items() if qty > MAX_QUANTITY]
        if too_many:
            raise ValidationError(f"At most {MAX_QUANTITY} of one SKU per order: {', '.join(too_many)}",
                                  field_name="items")

    @post_load
    def _merge(self, data, **_):
        merged: dict[str, dict] = {}
        for item in data["items"]:
            line = merged.setdefault(item["sku_id"], {"sku_id": item["sku_id"], "quantity": 0})
            line["quantity"] += item["quantity"]
            if item.get("campaign_id"):
                line["campaign_id"] = item["campaign_id"]
        return {**data, "items": list(merged.values())}


class CancelSchema(Schema):
    reason = _text(1, 200, load_default=None, allow_none=True)


class DayOrMoment(fields.Field):
    """An ISO date or date-time; a date means its midnight, or with `end_of_day` the next one."""

    def __init__(self, end_of_day: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.end_of_day = end_of_day

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        if not isinstance(value, str) or len(value) > 40:
            raise ValidationError("Not an ISO date or date-time")
        try:
            if len(value) == 10:
                day = date.fromisoformat(value)
                moment = datetime.combine(day, time(), tzinfo=UTC)
                return moment + timedelta(days=1) if self.end_of_day else moment
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValidationError("Not an ISO date or date-time") from exc
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class OrderListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))
    customer_id = _text(1, 36, metadata={"description": "Staff only; customers always see their own orders"})
    created_from = DayOrMoment(metadata={"description": "Placed at or after (ISO date or date-time, UTC)"})
    created_to = DayOrMoment(end_of_day=True, metadata={
        "description": "Placed before this date-time; a date includes that whole day"})

    @validates_schema
    def _range(self, data, **_):
        if data.get("created_from") and data.get("created_to") and data["created_from"] >= data["created_to"]:
            raise ValidationError("Must be after created_from", field_name="created_to")


class LineSchema(Schema):
    sku_id = fields.String()
    sku_code = fields.String(allow_none=True)
    product_id = fields.String(allow_none=True)
    product_name = fields.String(allow_none=True)
    attributes = fields.Dict()
    quantity = fields.Integer()
    unit_price = fields.Integer()
    line_total = fields.Integer()
    discount = fields.Integer(metadata={"description": "Its share of the promotions, coupon and points"})
    paid = fields.Integer(metadata={"description": "line_total − discount: what a return of it pays back"})
    points = fields.Integer(metadata={"description": "The points spent on it: what a return gives back"})


class HistorySchema(Schema):
    status = fields.String()
    previous_status = fields.String(allow_none=True)
    at = fields.DateTime()
    reason = fields.String(allow_none=True)
    actor = fields.String()
    kind = fields.String(metadata={"description": "status: a transition; note: a fact that changed no status"})


class BreakdownSchema(Schema):
    """The pricing step's breakdown, as an order keeps it and the cart shows it."""
    subtotal = fields.Integer()
    promotion_discount = fields.Integer()
    coupon_discount = fields.Integer()
    coupon_id = fields.String(allow_none=True)
    points_used = fields.Integer()
    points_discount = fields.Integer()
    delivery_fee = fields.Integer()
    total = fields.Integer(metadata={"description": "subtotal − promotion_discount − coupon_discount − "
                                                    "points_discount + delivery_fee: what payment charges"})
    currency = fields.String()


class OrderSchema(BreakdownSchema):
    id = fields.String()
    customer_id = fields.String()
    status = fields.String()
    lines = fields.List(fields.Nested(LineSchema))
    refunded = fields.Integer()
    shipping_address = fields.Dict()
    delivery_method_id = fields.String()
    delivery_method_name = fields.String(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    history = fields.List(fields.Nested(HistorySchema))
