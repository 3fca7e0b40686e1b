"""The same story on the embedded default that `make run` uses: SQLite files and kombu's
filesystem bus, with every real process started."""
import pytest
import requests

from harness import running


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    with running(tmp_path_factory.mktemp("embedded"), embedded=True, web=True) as p:
        yield p


def test_the_story_passes_on_sqlite_and_the_filesystem_bus(embedded, demo):
    out = demo.run_story(embedded.gateway, *embedded.admin, say=lambda *_: None)
    final = out["customers"]["alice"].get(f"/api/orders/{out['order']['id']}")
    assert final["status"] == "COMPLETED"
    assert out["refused"]["error"]["code"] == "sku_unavailable"


def test_the_storefront_shows_the_storys_shoe_with_size_41_sold_out(embedded, demo):
    out = demo.run_story(embedded.gateway, *embedded.admin, say=lambda *_: None)
    page = requests.get(f"{embedded.gateway}/products/{out['product']['id']}", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "Runner" in page.text and page.text.count("已售罄") == 1  # size 41 only; 42 is on sale
