"""reports' HTTP API against real PostgreSQL: staff only, JSON or CSV, bad ranges refused in the
error format, the worker's lag."""
import csv
import io
import uuid

import pytest

from mall_shared.consumer import deliver
from mall_shared.events import Line, OrderPlaced, PaymentConfirmed, envelope
from reports.handlers import HANDLERS


@pytest.fixture
def paid_order(db):
    """A paid order of 2 × ¥399 + ¥10 delivery, placed and paid on 2026-06-01 (Shanghai)."""
    order_id, sku = str(uuid.uuid4()), f"sku-{uuid.uuid4().hex[:6]}"
    placed = envelope(OrderPlaced(order_id=order_id, customer_id="c-1", lines=[Line(sku, 2, 39900)], total=80800),
                      "order")
    placed["time"] = "2026-06-01T02:00:00Z"
    paid = envelope(PaymentConfirmed(payment_id=str(uuid.uuid4()), order_id=order_id, method="alipay",
                                     amount=80800), "payment")
    paid["time"] = "2026-06-01T02:05:00Z"
    for env in (placed, paid):
        assert deliver(db, HANDLERS, env)
    return sku


def test_staff_read_sales_as_json(client, staff, paid_order):
    res = client.get("/api/reports/sales?from=2026-06-01&to=2026-06-01", headers=staff)
    assert res.status_code == 200
    assert res.json["report"] == "sales" and res.json["group_by"] == "day"
    row = res.json["rows"][0]
    assert row["period"] == "2026-06-01" and row["gmv"] >= 80800 and row["orders_paid"] >= 1


@pytest.mark.parametrize("how", [{"query_string": {"format": "csv"}}, {"headers": {"Accept": "text/csv"}}])
def test_every_report_downloads_as_csv(client, staff, paid_order, how):
    headers = {**staff, **how.get("headers", {})}
    query = {"from": "2026-06-01", "to": "2026-06-01", **how.get("query_string", {})}
    res = client.get("/api/reports/products", headers=headers, query_string=query)
    assert res.status_code == 200
    assert res.mimetype == "text/csv"
    assert "products-2026-06-01-2026-06-01.csv" in res.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(res.get_data(as_text=True))))
    mine = [r for r in table if r["product_id"] == paid_order]  # no catalog fact yet: the SKU stands alone
    assert mine and mine[0]["units"] == "2" and mine[0]["revenue"] == "79800"


def test_customers_are_refused_and_strangers_asked_to_log_in(client, keys):
    assert client.get("/api/reports/sales", headers=keys.headers()).status_code == 403
    res = client.get("/api/reports/sales")
    assert res.status_code == 401 and res.json["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("query, field", [
    ("from=2026-02-01&to=2026-01-31", "to"),
    ("from=2023-01-01&to=2026-01-31", "from"),
    ("group_by=year", "group_by"),
    ("from=someday", "from"),
])
def test_a_bad_range_or_grouping_is_a_422_naming_the_field(client, staff, query, field):
    res = client.get(f"/api/reports/sales?{query}", headers=staff)
    assert res.status_code == 422
    assert res.json["error"]["code"] == "validation_error"
    assert field in res.json["error"]["details"]["fields"]


def test_staff_see_how_far_the_worker_is_behind(client, staff, paid_order):
    res = client.get("/api/reports/lag", headers=staff)
    assert res.status_code == 200
    assert res.json["queue"] == "reports.events"
    assert res.json["last_handled_at"] is not None and res.json["seconds_since_last_handled"] >= 0
