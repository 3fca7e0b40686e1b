"""The API's contract: what goes in (validated) and what comes out (and the OpenAPI document)."""
from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from mall_shared.api import PageArgs

from .models import MOBILE, TICKET_CATEGORIES, TICKET_STATUSES, TIERS, password_problems


def _email(**kw) -> fields.Email:
    return fields.Email(validate=validate.Length(max=254), **kw)


def _mobile(**kw) -> fields.String:
    return fields.String(validate=validate.Regexp(MOBILE, error="Not a mainland China mobile number"), **kw)


def _name(**kw) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=100), **kw)


class _NewPassword(fields.String):
    """A password that meets the rules (8..128, letters and digits)."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        problems = password_problems(value)
        if problems:
            raise ValidationError([f"Password {p}" for p in problems])
        return value


class _EmailOrMobile(Schema):
    @validates_schema
    def _one_login(self, data, **_):
        if not data.get("email") and not data.get("mobile"):
            raise ValidationError("Give an email or a mobile number", field_name="email")


class RegisterSchema(_EmailOrMobile):
    email = _email(load_default=None)
    mobile = _mobile(load_default=None)
    password = _NewPassword(required=True, load_only=True)
    name = _name(required=True)


class LoginSchema(Schema):
    email = fields.String(load_default=None, validate=validate.Length(min=1, max=254))
    mobile = fields.String(load_default=None, validate=validate.Length(min=1, max=20))
    # Not the password rules: an old password that no longer meets them must still log in.
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=1024))

    @validates_schema
    def _exactly_one_login(self, data, **_):
        if bool(data.get("email")) == bool(data.get("mobile")):
            raise ValidationError("Give either an email or a mobile number", field_name="email")


class TokenSchema(Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    refresh_token = fields.String()


class RefreshSchema(Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=1024))
    new_password = _NewPassword(required=True, load_only=True)


class StaffSchema(RegisterSchema):
    role = fields.String(load_default="staff", validate=validate.OneOf(["staff", "admin"]))


class ProfileSchema(Schema):
    id = fields.String(dump_only=True)
    email = fields.String(allow_none=True)
    mobile = fields.String(allow_none=True)
    name = fields.String()
    role = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class ProfileUpdateSchema(Schema):
    name = _name()
    email = _email(allow_none=True)
    mobile = _mobile(allow_none=True)


class AddressSchema(Schema):
    id = fields.String(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    phone = _mobile(required=True, metadata={"description": "the recipient's mobile: couriers call and text it"})
    province = fields.String(required=True, validate=validate.Length(min=1, max=50))
    city = fields.String(required=True, validate=validate.Length(min=1, max=50))
    district = fields.String(required=True, validate=validate.Length(min=1, max=50))
    detail = fields.String(required=True, validate=validate.Length(min=1, max=200))
    postal_code = fields.String(load_default=None, allow_none=True,
                                validate=validate.Regexp(r"^\d{6}$", error="A postal code is 6 digits"))
    is_default = fields.Boolean(load_default=False)
    created_at = fields.DateTime(dump_only=True)
    version = fields.Integer(dump_only=True, metadata={"description": "grows with every change"})


class AddressUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=50))
    phone = _mobile()
    province = fields.String(validate=validate.Length(min=1, max=50))
    city = fields.String(validate=validate.Length(min=1, max=50))
    district = fields.String(validate=validate.Length(min=1, max=50))
    detail = fields.String(validate=validate.Length(min=1, max=200))
    postal_code = fields.String(allow_none=True,
                                validate=validate.Regexp(r"^\d{6}$", error="A postal code is 6 digits"))
    is_default = fields.Boolean()


class PurchaseLineSchema(Schema):
    sku_id = fields.String()
    quantity = fields.Integer()
    unit_price = fields.Integer(allow_none=True)


class PurchaseSchema(Schema):
    order_id = fields.String()
    status = fields.String()
    total = fields.Integer()
    currency = fields.String()
    lines = fields.List(fields.Nested(PurchaseLineSchema))
    placed_at = fields.DateTime()
    updated_at = fields.DateTime()
    cancel_reason = fields.String(allow_none=True)
    refunded = fields.Integer()
    points_used = fields.Integer(metadata={"description": "Points spent on the order"})
    points_returned = fields.Integer(metadata={"description": "Of them, given back (cancel, refunds, returns)"})


class PointsEntrySchema(Schema):
    id = fields.String()
    order_id = fields.String(allow_none=True)
    kind = fields.String(metadata={"enum": ["earn", "hold", "spend", "return"],
                                   "description": "earn (awarded, reversed by a refund, adjusted by staff), or "
                                                  "points spent on an order: hold, spend, return (given back)"})
    points = fields.Integer(metadata={"description": "The change of the spendable balance"})
    held = fields.Integer(metadata={"description": "The change of the points held for unpaid orders"})
    reason = fields.String()
    at = fields.DateTime()


class MembershipSchema(Schema):
    points = fields.Integer(metadata={"description": "The spendable balance (the same as `balance`)"})
    balance = fields.Integer(metadata={"description": "Spendable points: earned − spent − held"})
    held = fields.Integer(metadata={"description": "Points held for unpaid orders"})
    earned = fields.Integer(metadata={"description": "Points earned (less refunds' reversals): the tier follows them"})
    version = fields.Integer(metadata={"description": "The version of the last MembershipChanged (0: none yet), "
                                                      "for a copy caught up from this answer"})
    tier = fields.String(metadata={"enum": list(TIERS)})
    tier_label = fields.String(metadata={"description": "普通 / 银卡 / 金卡 / 钻石"})
    next_tier = fields.String(allow_none=True)
    points_to_next = fields.Integer(allow_none=True)
    ledger = fields.List(fields.Nested(PointsEntrySchema))


class PointsAdjustmentSchema(Schema):
    points = fields.Integer(required=True, validate=validate.Range(min=-10**7, max=10**7))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))

    @validates("points")
    def _not_zero(self, value, **_):
        if value == 0:
            raise ValidationError("An adjustment must change the balance")


# ---- customer service ------------------------------------------------------------------------
class TicketMessageSchema(Schema):
    id = fields.String(dump_only=True)
    author_id = fields.String(dump_only=True)
    author_role = fields.String(dump_only=True)
    body = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    at = fields.DateTime(dump_only=True)


class TicketSchema(Schema):
    id = fields.String(dump_only=True)
    customer_id = fields.String(dump_only=True)
    order_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=36))
    category = fields.String(required=True, validate=validate.OneOf(TICKET_CATEGORIES))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=200))
    message = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=5000))
    status = fields.String(dump_only=True)
    assignee_id = fields.String(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class TicketDetailSchema(TicketSchema):
    messages = fields.List(fields.Nested(TicketMessageSchema), dump_only=True)


class TicketQueryArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(TICKET_STATUSES))
    assigned = fields.String(validate=validate.OneOf(["me", "unassigned", "any"]),
                             metadata={"description": "Staff only"})
    older_than_hours = fields.Integer(validate=validate.Range(min=1, max=24 * 365),
                                      metadata={"description": "Staff only: tickets at least this old"})


class TicketStatusSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(TICKET_STATUSES))


class TicketAssignSchema(Schema):
    assignee_id = fields.String(load_default=None, validate=validate.Length(min=1, max=36),
                                metadata={"description": "A staff account; yourself when left out"})


# ---- reviews ---------------------------------------------------------------------------------
class NewReviewSchema(Schema):
    order_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    sku_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    rating = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    text = fields.String(load_default="", validate=validate.Length(max=2000))


class ReviewSchema(Schema):
    id = fields.String(dump_only=True)
    customer_id = fields.String(dump_only=True, metadata={"description": "shown to the author and staff only"})
    order_id = fields.String(metadata={"description": "shown to the author and staff only"})
    sku_id = fields.String()
    rating = fields.Integer()
    text = fields.String()
    status = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class ReviewUpdateSchema(Schema):
    rating = fields.Integer(validate=validate.Range(min=1, max=5))
    text = fields.String(validate=validate.Length(max=2000))


class ReviewQueryArgs(PageArgs):
    sku_id = fields.String(validate=validate.Length(min=1, max=36))
    include_hidden = fields.Boolean(load_default=False, metadata={"description": "Staff only"})


class HideSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))


# ---- staff view of a customer ----------------------------------------------------------------
class CustomerQueryArgs(PageArgs):
    q = fields.String(validate=validate.Length(min=1, max=100),
                      metadata={"description": "Part of the name, email or mobile"})



class CustomerOverviewSchema(Schema):
    profile = fields.Nested(ProfileSchema)
    orders = fields.List(fields.Nested(PurchaseSchema))
    orders_total = fields.Integer()
    membership = fields.Nested(MembershipSchema)
    tickets = fields.List(fields.Nested(TicketSchema))
    tickets_total = fields.Integer()
