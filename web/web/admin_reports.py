"""The admin console's reports (from the reports service, a read model of the bus): sales with a
chart drawn on the server as SVG, top products, the order funnel, the payment mix, CSV downloads."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, Response, abort, render_template, request

from . import api
from .auth import staff_required
from .i18n import SHANGHAI

bp = Blueprint("admin_reports", __name__, url_prefix="/admin")

CSV_REPORTS = ("sales", "products", "funnel", "payment-methods")
CHART = {"width": 640, "height": 200, "bottom": 24}  # the SVG's drawing area, in its own units


def today() -> date:
    return datetime.now(SHANGHAI).date()


def report_range() -> dict:
    """The range the page asks for (default: the last 30 days, Asia/Shanghai) and the grouping."""
    args = request.args
    end = args.get("to") or today().isoformat()
    start = args.get("from")
    if not start and _is_date(end):  # a malformed date goes to the API as typed, which says what is wrong
        start = (date.fromisoformat(end) - timedelta(days=29)).isoformat()
    return {"from": start, "to": end, "group_by": args.get("group_by") or "day"}


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def every_day(rows: list[dict], start: str, end: str, key: str) -> list[dict]:
    """The rows of a per-day report with the days that had none filled in at 0, so a chart's bars
    stand one per day of the range."""
    if not (_is_date(start) and _is_date(end)):
        return rows
    have = {row["period"]: row for row in rows}
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    days = (first + timedelta(days=i) for i in range((last - first).days + 1))
    return [have.get(d.isoformat()) or {"period": d.isoformat(), key: 0} for d in days]


def bars(rows: list[dict], key: str) -> list[dict]:
    """One bar per row, scaled so the largest value fills the chart's height."""
    if not rows:
        return []
    top = max(row[key] for row in rows) or 1
    slot = CHART["width"] / len(rows)
    usable = CHART["height"] - CHART["bottom"]
    out = []
    for i, row in enumerate(rows):
        height = round(row[key] / top * usable, 1)
        out.append({"x": round(i * slot + slot * 0.1, 1), "width": round(slot * 0.8, 1), "y": round(usable - height, 1),
                    "height": height, "value": row[key], "label": row.get("period", "")})
    return out


@bp.get("/reports")
@staff_required
def reports():
    span = report_range()
    window = {"from": span["from"], "to": span["to"]}
    sales, products, funnel, methods = api.get_all(
        ("/api/reports/sales", span), ("/api/reports/products", window | {"limit": 10}),
        ("/api/reports/funnel", window), ("/api/reports/payment-methods", window))
    daily = every_day(sales["rows"], span["from"], span["to"], "gmv") if span["group_by"] == "day" else sales["rows"]
    return render_template("admin/reports.html", span=span, sales=sales, chart=bars(daily, "gmv"),
                           size=CHART, products=products["rows"], funnel=funnel["rows"], methods=methods["rows"],
                           csv_reports=CSV_REPORTS)


@bp.get("/reports/<name>.csv")
@staff_required
def download(name: str):
    """A report's rows as CSV, fetched with the staff member's own token."""
    if name not in CSV_REPORTS:
        abort(404)
    body = api.get_text(f"/api/reports/{name}", {**report_range(), "format": "csv"})
    filename = f"{name}-{request.args.get('from', '')}-{request.args.get('to', '')}.csv".replace("--", "-")
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'})
