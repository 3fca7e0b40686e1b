"""Reports on the running platform: a shopper's product views and completed order reach the
staff's reports through the gateway (JSON and CSV), customers are kept out, and a wiped reports
database fed from the RabbitMQ archive stream by `mall-replay reports` reads the same again."""
import csv
import io
import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, delete

from harness import BIN
from reports.models import Base
from scenarios import completed_order, new_product


def today() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def report(admin, name: str, **query) -> dict:
    args = "&".join(f"{k}={v}" for k, v in {"from": today(), "to": today(), **query}.items())
    return admin.get(f"/api/reports/{name}?{args}")


def mine(rows: list[dict], product_id: str) -> dict | None:
    return next((r for r in rows if r["product_id"] == product_id), None)


def test_a_completed_order_and_its_page_views_reach_the_reports_and_survive_a_rebuild(platform, demo, admin,
                                                                                       customer):
    product = new_product(platform, demo, admin, price=25000)
    sku = product["skus"][0]["id"]
    gmv_before = report(admin, "sales")["totals"]["gmv"]
    for _ in range(3):
        customer.get(f"/api/catalog/products/{product['id']}")
    order = completed_order(demo, admin, customer, [(sku, 2)])

    def counted():
        row = mine(report(admin, "products", limit=100)["rows"], product["id"])
        views = mine(report(admin, "product-views", limit=100)["rows"], product["id"])
        delivered = report(admin, "carriers")["rows"]
        return row and views and any(r["carrier"] == "sf" and r["delivered"] for r in delivered) and (row, views)

    row, views = demo.wait_for("the reports to count the order", counted)
    assert (row["units"], row["revenue"], row["name"]) == (2, 50000, product["name"])
    assert (views["views"], views["orders"]) == (3, 1)
    sales = report(admin, "sales")["totals"]
    assert sales["gmv"] - gmv_before == order["total"]

    exported = admin.http.get(f"{platform.gateway}/api/reports/products?from={today()}&to={today()}&limit=100",
                              headers={"Authorization": f"Bearer {admin.token}", "Accept": "text/csv"})
    assert exported.headers["Content-Type"].startswith("text/csv")
    assert mine(list(csv.DictReader(io.StringIO(exported.text))), product["id"])["revenue"] == "50000"
    assert customer.get("/api/reports/sales", expect=403)["error"]["code"] == "forbidden"
    assert admin.get("/api/reports/sales?group_by=year", expect=422)["error"]["code"] == "validation_error"
    def caught_up():
        lag = admin.get("/api/reports/lag")
        return lag["waiting"] == 0 and lag

    lag = demo.wait_for("the reports worker to catch up", caught_up)
    assert lag["queue"] == "reports.events" and lag["last_handled_at"]

    # Wipe the reports database and rebuild it from the archive (the RabbitMQ stream).
    engine = create_engine(platform.databases["reports"])
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
    engine.dispose()
    assert mine(report(admin, "products", limit=100)["rows"], product["id"]) is None
    done = subprocess.run([str(BIN / "mall-replay"), "reports"], env=platform.env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert mine(report(admin, "products", limit=100)["rows"], product["id"]) == row
    assert mine(report(admin, "product-views", limit=100)["rows"], product["id"]) == views
    assert report(admin, "sales")["totals"]["gmv"] == sales["gmv"]
