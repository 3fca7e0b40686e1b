"""zh-CN by default, English on request: templates and views pass English text to `_()` and the
Chinese comes from zh.json. A dictionary instead of gettext catalogs keeps the package free of
a compile step; tests/unit/test_i18n.py checks that every text used has its translation."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import session

LANGS = ("zh", "en")

# What each API status code reads as (English; zh.json translates it).
LABELS = {
    "PENDING": "Confirming stock", "AWAITING_PAYMENT": "Awaiting payment", "PAID": "Paid",
    "PROCESSING": "Processing", "SHIPPED": "Shipped", "COMPLETED": "Completed", "CANCELLED": "Cancelled",
    "draft": "Draft", "listed": "On sale", "delisted": "Off sale",
    "pending": "Pending", "succeeded": "Succeeded", "failed": "Failed", "refunded": "Refunded",
    "partially_refunded": "Partly refunded",
    "requested": "Requested", "approved": "Approved", "refused": "Refused", "received": "Received",
    "open": "Open", "pending_customer": "Waiting for customer", "resolved": "Resolved", "closed": "Closed",
    "awaiting_dispatch": "Awaiting dispatch", "shipped": "Shipped", "picked_up": "Picked up",
    "in_transit": "In transit", "out_for_delivery": "Out for delivery", "delivered": "Delivered",
    "exception": "Exception", "signed": "Signed", "cancelled": "Cancelled",
    "alipay": "Alipay", "wechat_pay": "WeChat Pay", "card": "Bank card",
    "regular": "Regular", "silver": "Silver", "gold": "Gold", "diamond": "Diamond",
    "adjusted": "Adjusted", "reserved": "Reserved", "released": "Released", "sold": "Sold", "returned": "Returned",
    "order": "Order", "payment": "Payment", "delivery": "Delivery", "return": "Return", "account": "Account",
    "other": "Other",
}


@cache
def _zh() -> dict[str, str]:
    return json.loads((Path(__file__).parent / "zh.json").read_text(encoding="utf-8"))


def lang() -> str:
    return session.get("lang") or "zh"


def gettext(text: str, **values) -> str:
    translated = _zh().get(text, text) if lang() == "zh" else text
    return translated.format(**values) if values else translated


def label(code: str | None) -> str:
    """A status or kind code as words in the page's language."""
    return gettext(LABELS.get(code or "", code or ""))


def yuan(fen: int | None) -> str:
    """Integer fen as ¥ with two decimals (money is never a float on the way)."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def to_fen(text: str | None) -> int | None:
    """A price typed in yuan ("399", "399.5", "¥1,299.00") as integer fen; None when blank.
    Raises ValueError for anything else, or more than two decimals."""
    text = (text or "").strip().replace("¥", "").replace(",", "").replace("，", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {text!r}") from exc
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise ValueError(f"not an amount in yuan with at most two decimals: {text!r}")
    return int(value * 100)


SHANGHAI = ZoneInfo("Asia/Shanghai")


def when(iso: str | None) -> str:
    """An API time (ISO 8601, UTC) as the shopper reads it: Beijing time, to the minute."""
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
