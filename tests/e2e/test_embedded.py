"""The same story on the embedded default that `make run` uses: SQLite files and kombu's
filesystem bus, with every real process started."""
import os
import signal
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import running
from mall_shared.testing import eventually
from scenarios import new_customer, new_product


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    with running(tmp_path_factory.mktemp("embedded"), embedded=True) as p:
        yield p


def test_the_story_passes_on_sqlite_and_the_filesystem_bus(embedded, demo):
    out = demo.run_story(embedded.gateway, *embedded.admin, say=lambda *_: None)
    final = out["customers"]["alice"].get(f"/api/orders/{out['order']['id']}")
    assert final["status"] == "COMPLETED"
    assert out["refused"]["error"]["code"] == "sku_unavailable"


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
