"""What a report takes: a date range (Asia/Shanghai days, both ends included), and for some a
grouping, a sort or a limit. Defaults: the last 30 days up to today."""
from datetime import date, datetime, timedelta

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from .services import SHANGHAI

MAX_DAYS = 3 * 366  # a range of at most three years


def today() -> date:
    return datetime.now(SHANGHAI).date()


class RangeArgs(Schema):
    from_ = fields.Date(data_key="from",
                        metadata={"description": "first day (YYYY-MM-DD); default 29 days before `to`"})
    to = fields.Date(metadata={"description": "last day, included; default today (Asia/Shanghai)"})
    format = fields.String(validate=validate.OneOf(["json", "csv"]),
                           metadata={"description": "csv to download (or send Accept: text/csv)"})

    @validates_schema
    def _range(self, data, **kwargs):
        start, end = data.get("from_"), data.get("to")
        if start and end and end < start:
            raise ValidationError("the range ends before it starts", "to")
        if start and end and (end - start).days >= MAX_DAYS:
            raise ValidationError(f"a range covers at most {MAX_DAYS} days", "from")

    @post_load
    def _defaults(self, data, **kwargs):
        data["to"] = data.get("to") or (data["from_"] + timedelta(days=29) if data.get("from_") else today())
        data["from_"] = data.get("from_") or data["to"] - timedelta(days=29)
        if data["to"] < data["from_"]:
            raise ValidationError("the range ends before it starts", "to")
        return data


class GroupedArgs(RangeArgs):
    group_by = fields.String(load_default="day", validate=validate.OneOf(["day", "week", "month"]))


class TopArgs(RangeArgs):
    sort = fields.String(load_default="revenue", validate=validate.OneOf(["units", "revenue"]))
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))


class LimitArgs(RangeArgs):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class StockArgs(RangeArgs):
    low_stock = fields.Integer(load_default=10, validate=validate.Range(min=0),
                               metadata={"description": "at or under this many units is low"})
    cover_days = fields.Float(load_default=7.0, validate=validate.Range(min=0),
                              metadata={"description": "fewer days of cover than this (at the range's rate) is low"})
