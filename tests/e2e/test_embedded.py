"""The same story on the embedded default that `make run` uses: SQLite files and kombu's
filesystem bus, with every real process started."""
import pytest

from harness import running


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    with running(tmp_path_factory.mktemp("embedded"), embedded=True) as p:
        yield p


def test_the_story_passes_on_sqlite_and_the_filesystem_bus(embedded, demo):
    out = demo.run_story(embedded.gateway, *embedded.admin, say=lambda *_: None)
    final = out["customers"]["alice"].get(f"/api/orders/{out['order']['id']}")
    assert final["status"] == "COMPLETED"
    assert out["refused"]["error"]["code"] == "sku_unavailable"
