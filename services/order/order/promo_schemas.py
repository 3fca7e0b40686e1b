"""The contract of the cart and the promotions API (schemas.py holds the orders')."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from mall_shared.api import PageArgs

from .campaigns import FLASH_PRICE, KINDS, MEMBER_PRICE, REDUCTION
from .pricing import ALL, AMOUNT, CATEGORY, PERCENT, PRODUCT
from .schemas import MAX_QUANTITY, BreakdownSchema, _text, points_field

MONEY = validate.Range(min=1, max=10**9)


def _window(data: dict) -> None:
    if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
        raise ValidationError("Must be after starts_at", field_name="ends_at")


# ---- cart ------------------------------------------------------------------------------------
class CartArgs(Schema):
    address_id = _text(1, 36)
    delivery_method_id = _text(1, 64)
    coupon_id = _text(1, 36)
    points = points_field(strict=False)  # a query string's numbers are text


class CartItemSchema(Schema):
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_QUANTITY))


class CartLineSchema(Schema):
    sku_id = fields.String()
    quantity = fields.Integer()
    state = fields.String(metadata={"description": "on_sale | sold_out | delisted | unknown"})
    available = fields.Boolean(metadata={"description": "Priced and orderable; false lines are left out"})
    product_id = fields.String(allow_none=True)
    product_name = fields.String(allow_none=True)
    sku_code = fields.String(allow_none=True)
    attributes = fields.Dict()
    unit_price = fields.Integer(allow_none=True)
    flash_price = fields.Integer(allow_none=True)
    campaign_id = fields.String(allow_none=True)
    line_total = fields.Integer(allow_none=True)
    discount = fields.Integer(allow_none=True)
    paid = fields.Integer(allow_none=True)
    points = fields.Integer(allow_none=True)


class CartSchema(BreakdownSchema):
    lines = fields.List(fields.Nested(CartLineSchema))
    delivery_method_id = fields.String(allow_none=True)
    points_balance = fields.Integer(metadata={"description": "Spendable points (order's copy of crm's)"})
    max_points = fields.Integer(metadata={"description": "The most points this cart can spend now"})


# ---- coupons ---------------------------------------------------------------------------------
class CouponTemplateSchema(Schema):
    id = fields.String(dump_only=True)
    name = _text(1, 100, required=True)
    kind = fields.String(required=True, validate=validate.OneOf([AMOUNT, PERCENT]))
    value = fields.Integer(required=True, strict=True, validate=MONEY,
                           metadata={"description": "amount: fen off; percent: percent off (1–99)"})
    max_off = fields.Integer(strict=True, allow_none=True, load_default=None, validate=MONEY,
                             metadata={"description": "A percent coupon's cap, in fen"})
    threshold = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0, max=10**9),
                               metadata={"description": "满X: goods in scope (after promotions) must reach it"})
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    total_quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10**7))
    claimed = fields.Integer(dump_only=True)
    per_customer_limit = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=1, max=1000))
    scope = fields.String(load_default=ALL, validate=validate.OneOf([ALL, CATEGORY, PRODUCT]))
    scope_ids = fields.List(_text(1, 36), load_default=list, validate=validate.Length(max=100),
                            metadata={"description": "The categories or products of a scoped coupon"})
    active = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)

    @validates_schema
    def _rules(self, data, **_):
        _window(data)
        if data.get("kind") == PERCENT and not 1 <= data.get("value", 1) <= 99:
            raise ValidationError("A percent off is 1 to 99", field_name="value")
        if data.get("kind") == AMOUNT and data.get("max_off") is not None:
            raise ValidationError("Only a percent coupon has a cap", field_name="max_off")
        if (data.get("scope", ALL) == ALL) != (not data.get("scope_ids")):
            raise ValidationError("A category or product coupon names its ids; an all-goods one none",
                                  field_name="scope_ids")


class UpdateSchema(Schema):
    """What staff may change of a coupon template or a campaign once it exists."""
    name = _text(1, 100)
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    active = fields.Boolean(metadata={"description": "false withdraws it (claimed coupons no longer apply)"})

    @validates_schema
    def _rules(self, data, **_):
        _window(data)


class CouponUpdateSchema(UpdateSchema):
    total_quantity = fields.Integer(strict=True, validate=validate.Range(min=1, max=10**7))


class CouponListArgs(PageArgs):
    active = fields.Boolean()


class WalletCouponSchema(Schema):
    id = fields.String(attribute="coupon.id")
    status = fields.String(attribute="coupon.status", metadata={"description": "available | locked | used"})
    order_id = fields.String(attribute="coupon.order_id", allow_none=True)
    claimed_at = fields.DateTime(attribute="coupon.claimed_at")
    template = fields.Nested(CouponTemplateSchema, attribute="coupon.template")
    applies_to_cart = fields.Boolean()
    cart_discount = fields.Integer(allow_none=True, metadata={"description": "What it takes off the cart now"})
    reason = fields.String(allow_none=True, metadata={"description": "Why it does not apply (an error code)"})


class WalletSchema(Schema):
    items = fields.List(fields.Nested(WalletCouponSchema))


class ClaimedSchema(Schema):
    id = fields.String()
    status = fields.String()
    claimed_at = fields.DateTime()
    template = fields.Nested(CouponTemplateSchema)


# ---- campaigns -------------------------------------------------------------------------------
class CampaignSchema(Schema):
    id = fields.String(dump_only=True)
    name = _text(1, 100, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    tiers = fields.Raw(allow_none=True, load_default=None, metadata={
        "description": "reduction: [[threshold, off], ...] in fen; member_price: {tier: percent off}"})
    sku_id = _text(1, 36, allow_none=True, load_default=None)
    price = fields.Integer(strict=True, allow_none=True, load_default=None, validate=MONEY)
    per_customer_limit = fields.Integer(strict=True, allow_none=True, load_default=None,
                                        validate=validate.Range(min=1, max=MAX_QUANTITY))
    active = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)

    @validates_schema
    def _rules(self, data, **_):
        _window(data)
        kind, tiers = data.get("kind"), data.get("tiers")
        if kind == REDUCTION and not _reduction_tiers(tiers):
            raise ValidationError("1 to 10 pairs [threshold, off], off below threshold", field_name="tiers")
        if kind == MEMBER_PRICE and not (isinstance(tiers, dict) and tiers and all(
                isinstance(t, str) and type(p) is int and 1 <= p <= 99 for t, p in tiers.items())):
            raise ValidationError("{tier: percent off (1–99)}", field_name="tiers")
        flash = (data.get("sku_id"), data.get("price"))
        if (kind == FLASH_PRICE) != all(v is not None for v in flash) or (kind == FLASH_PRICE and tiers):
            raise ValidationError("A flash_price campaign (and only it) has sku_id and price, and no tiers",
                                  field_name="sku_id")


def _reduction_tiers(tiers) -> bool:
    return (isinstance(tiers, list) and 1 <= len(tiers) <= 10
            and all(isinstance(t, list) and len(t) == 2 and all(type(v) is int for v in t) and 0 < t[1] < t[0] <= 10**9
                    for t in tiers))


class CampaignListArgs(PageArgs):
    kind = fields.String(validate=validate.OneOf(KINDS))
    running = fields.Boolean(metadata={"description": "Only those in force now"})
