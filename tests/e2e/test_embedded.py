"""The same story on the embedded default that `make run` uses: SQLite files and kombu's
filesystem bus, with every real process started."""
import os
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from harness import BIN, running
from mall_shared.testing import eventually
from scenarios import new_customer, new_product


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    with running(tmp_path_factory.mktemp("embedded"), embedded=True, web=True) as p:
        yield p


@pytest.fixture(scope="module")
def story(embedded, demo):
    """The story, walked once on this platform (the embedded bus is the slow one: each check reads it)."""
    return demo.run_story(embedded.gateway, *embedded.admin, say=lambda *_: None)


def test_the_story_passes_on_sqlite_and_the_filesystem_bus(story):
    out = story
    final = out["customers"]["alice"].get(f"/api/orders/{out['order']['id']}")
    assert final["status"] == "COMPLETED"
    assert out["refused"]["error"]["code"] == "sku_unavailable"


def test_the_storefront_shows_the_storys_shoe_with_size_41_sold_out(embedded, story):
    page = requests.get(f"{embedded.gateway}/products/{story['product']['id']}", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "Runner" in page.text and page.text.count("已售罄") == 1  # size 41 only; 42 is on sale


def test_the_reports_count_the_story_and_replay_from_the_embedded_archive(embedded, demo):
    admin = demo.login(embedded.gateway, *embedded.admin)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()

    def paid():
        return admin.get(f"/api/reports/sales?from={today}&to={today}")["totals"]["orders_paid"] >= 1

    demo.wait_for("the reports to count the story's payment", paid, timeout=90)
    assert (embedded.workdir / "bus" / "archive.db").exists()
    done = subprocess.run([str(BIN / "mall-replay"), "reports"], env=embedded.env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0 and "already handled" in done.stdout, (done.stdout, done.stderr[-3000:])


def test_a_worker_killed_mid_burst_loses_no_event_on_the_embedded_bus(embedded, demo):
    """kombu's filesystem transport deleted a message when fetched: kill -9 lost a prefetch of them."""
    admin = demo.login(embedded.gateway, *embedded.admin)
    sku = new_product(embedded, demo, admin, stock=1000)["skus"][0]
    people = [new_customer(embedded, demo) for _ in range(4)]
    body = {"items": [{"sku_id": sku["id"], "quantity": 1}], "shipping_address": demo.ADDRESS,
            "delivery_method_id": "standard"}
    victim = embedded.procs["catalog-worker-0"]
    with ThreadPoolExecutor(8) as pool:
        placing = [pool.submit(lambda i: people[i % 4].post("/api/orders", body, expect=201)["id"], i)
                   for i in range(60)]
        eventually(lambda: sum(f.done() for f in placing) >= 15, timeout=60)
        os.kill(victim.pid, signal.SIGKILL)  # mid-burst, with events fetched and not yet acked
        orders = [(people[i % 4], f.result()) for i, f in enumerate(placing)]
    victim.wait()
    embedded.add_worker("catalog")  # the supervisor starts it again

    def decided():
        statuses = [c.get(f"/api/orders/{order_id}")["status"] for c, order_id in orders]
        return "PENDING" not in statuses and statuses

    assert eventually(decided, timeout=120, interval=0.5) == ["AWAITING_PAYMENT"] * 60
    after = admin.get(f"/api/catalog/skus?ids={sku['id']}")[0]
    assert (after["reserved"], after["stock"], after["on_hand"]) == (60, 940, 1000)  # each reserved once
