import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

import pika
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from harness import running  # noqa: E402
from scenarios import new_customer, new_product  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _load_demo():
    spec = importlib.util.spec_from_file_location("demo", ROOT / "scripts" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def demo():
    """The story script itself (scripts/demo.py), so `make demo` and the tests cannot drift."""
    return _load_demo()


@pytest.fixture(scope="session")
def platform(tmp_path_factory):
    # With the web app: one more process, and the browser tests share this platform.
    with running(tmp_path_factory.mktemp("platform"), web=True) as p:
        yield p


@pytest.fixture(scope="session")
def admin(platform, demo):
    return demo.login(platform.gateway, *platform.admin)


@pytest.fixture(scope="module")
def sku(platform, demo, admin):
    """A listed SKU of a fresh product for the test module (100 in stock at 100 yuan)."""
    return new_product(platform, demo, admin)["skus"][0]


@pytest.fixture
def customer(platform, demo):
    return new_customer(platform, demo)


class Subscriber:
    """An outside system on the bus: a plain pika client with its own queue bound to every event."""

    def __init__(self, broker_url: str, name: str):
        self.params = pika.URLParameters(broker_url)
        self.queue = name
        with pika.BlockingConnection(self.params) as conn:
            ch = conn.channel()
            ch.exchange_declare("mall.events", exchange_type="topic", durable=True)
            ch.queue_declare(name, durable=True)
            ch.queue_bind(name, "mall.events", routing_key="#")
        self.seen: list[tuple[pika.BasicProperties, dict]] = []

    def drain(self) -> list[tuple[pika.BasicProperties, dict]]:
        with pika.BlockingConnection(self.params) as conn:
            ch = conn.channel()
            while True:
                method, props, body = ch.basic_get(self.queue, auto_ack=True)
                if method is None:
                    break
                self.seen.append((props, json.loads(body)))
        return self.seen


@pytest.fixture(scope="session")
def subscriber(platform):
    return Subscriber(platform.broker_url, "e2e.subscriber")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    funcargs = getattr(item, "funcargs", {})
    platform = funcargs.get("platform") or funcargs.get("embedded")
    if report.failed and platform is not None:
        report.sections.append(("platform logs", platform.logs(tail=30)))


@pytest.fixture(scope="session")
def browser():
    """Chromium driven by Playwright (Debian's chromium: `apt-get install chromium`, as .ci/run does)."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("MALL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()
