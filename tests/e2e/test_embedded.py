"""The same story on the embedded default that `make run` uses: SQLite files and kombu's
filesystem bus, with every real process started."""
import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from harness import BIN, running


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
