"""The API's contract: what goes in (validated) and what comes out (and the OpenAPI document)."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from webargs.fields import DelimitedList

from mall_shared.api import PageArgs

MAX_PRICE = 10**9  # fen: ten million yuan a unit (the column is 32 bits; a filter past it is refused)


class CategorySchema(Schema):
    id = fields.String(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    parent_id = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=36))
    sort_order = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10**6))


class CategoryUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    parent_id = fields.String(allow_none=True, validate=validate.Length(max=36))
    sort_order = fields.Integer(validate=validate.Range(min=0, max=10**6))


class SkuSchema(Schema):
    id = fields.String(dump_only=True)
    product_id = fields.String(dump_only=True)
    code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    attributes = fields.Dict(keys=fields.String(validate=validate.Length(max=50)),
                             values=fields.String(validate=validate.Length(max=100)), load_default=dict)
    price = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_PRICE))
    currency = fields.String(load_default="CNY", validate=validate.OneOf(["CNY"]))
    stock = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10**7),
                           metadata={"description": "Available to sell (on create: the initial stock received)"})
    status = fields.String(dump_only=True)
    low_stock_threshold = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10**7))


class SkuDetailSchema(SkuSchema):
    """A SKU as order and staff need it: with its product's name and status."""
    product_name = fields.String(attribute="product.name", dump_only=True)
    product_status = fields.String(attribute="product.status", dump_only=True)
    on_hand = fields.Integer(dump_only=True)
    reserved = fields.Integer(dump_only=True)
    sold = fields.Integer(dump_only=True)
    version = fields.Integer(dump_only=True, metadata={"description": "grows with every change SkuChanged reports"})


class RatingSchema(Schema):
    count = fields.Integer(metadata={"description": "visible reviews"})
    average = fields.Float(allow_none=True, metadata={"description": "their average rating, 1-5, 2 decimals"})


class ProductSchema(Schema):
    id = fields.String(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    category_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    brand = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    images = fields.List(fields.Url(validate=validate.Length(max=500)), load_default=list,
                         validate=validate.Length(max=20))
    attributes = fields.Dict(keys=fields.String(validate=validate.Length(max=50)),
                             values=fields.String(validate=validate.Length(max=200)), load_default=dict)
    status = fields.String(dump_only=True)
    sales = fields.Integer(dump_only=True)
    rating = fields.Nested(RatingSchema, dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    skus = fields.List(fields.Nested(SkuSchema), required=True, validate=validate.Length(min=1, max=100))

    @validates_schema
    def _unique_codes(self, data, **_):
        codes = [s["code"] for s in data.get("skus", [])]
        if len(codes) != len(set(codes)):
            raise ValidationError("SKU codes must be unique", field_name="skus")


class ProductUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(max=5000))
    category_id = fields.String(validate=validate.Length(min=1, max=36))
    brand = fields.String(allow_none=True, validate=validate.Length(max=100))
    images = fields.List(fields.Url(validate=validate.Length(max=500)), validate=validate.Length(max=20))
    attributes = fields.Dict(keys=fields.String(validate=validate.Length(max=50)),
                             values=fields.String(validate=validate.Length(max=200)))


class SkuUpdateSchema(Schema):
    price = fields.Integer(validate=validate.Range(min=1, max=MAX_PRICE))
    attributes = fields.Dict(keys=fields.String(validate=validate.Length(max=50)),
                             values=fields.String(validate=validate.Length(max=100)))
    low_stock_threshold = fields.Integer(validate=validate.Range(min=0, max=10**7))


class ProductSearchArgs(PageArgs):
    q = fields.String(validate=validate.Length(max=100))
    category_id = fields.String(validate=validate.Length(max=36))
    min_price = fields.Integer(validate=validate.Range(min=0, max=MAX_PRICE))
    max_price = fields.Integer(validate=validate.Range(min=0, max=MAX_PRICE))
    in_stock = fields.Boolean()
    size = fields.String(validate=validate.Length(min=1, max=100),
                         metadata={"description": "Products with a SKU of this size (on sale, for customers)"})
    color = fields.String(validate=validate.Length(min=1, max=100),
                          metadata={"description": "Products with a SKU of this colour (on sale, for customers)"})
    status = fields.String(validate=validate.OneOf(["draft", "listed", "delisted"]),
                           metadata={"description": "Staff only; customers always see listed products"})
    sort = fields.String(load_default="newest", validate=validate.OneOf(["newest", "price_asc", "price_desc", "sales"]))


class SkuIdsArgs(Schema):
    ids = DelimitedList(fields.String(validate=validate.Length(max=36)), required=True,
                               validate=validate.Length(min=1, max=100))


class StockChangeSchema(Schema):
    kind = fields.String(load_default="receive", validate=validate.OneOf(["receive", "adjust"]))
    quantity = fields.Integer(required=True, validate=validate.Range(min=-10**7, max=10**7))
    reason = fields.String(load_default=None, validate=validate.Length(min=1, max=200))

    @validates_schema
    def _rules(self, data, **_):
        if data["kind"] == "receive" and data["quantity"] <= 0:
            raise ValidationError("Received quantity must be positive", field_name="quantity")
        if data["kind"] == "adjust":
            if data["quantity"] == 0:
                raise ValidationError("An adjustment must change the stock", field_name="quantity")
            if not data.get("reason"):
                raise ValidationError("An adjustment needs a reason", field_name="reason")


class MovementSchema(Schema):
    id = fields.String()
    kind = fields.String()
    quantity = fields.Integer()
    reason = fields.String(allow_none=True)
    order_id = fields.String(allow_none=True)
    at = fields.DateTime()
