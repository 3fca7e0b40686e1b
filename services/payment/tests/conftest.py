import os
import uuid

import pytest
import requests

# payment's sandbox is on in the tests, as `make test` and `make run` have it. Its notifications
# go to PAYMENT_URL, which the `provider_http` fixture routes to the Flask test client.
os.environ.setdefault("MALL_SANDBOX", "1")

from mall_shared.consumer import deliver  # noqa: E402
from mall_shared.events import Line, OrderPlaced, StockReserved, envelope  # noqa: E402
from mall_shared.testing import migrated_database  # noqa: E402
from payment.app import create_app  # noqa: E402
from payment.handlers import HANDLERS  # noqa: E402


@pytest.fixture(scope="session")
def app(keys):
    with migrated_database("payment") as url:
        app = create_app({"DATABASE_URL": url, "JWT_PUBLIC_KEY": keys.public, "TESTING": True})
        yield app
        app.extensions["mall_db"].dispose()


@pytest.fixture
def cfg(app):
    return app.extensions["payment_config"]


class FlaskAdapter(requests.adapters.BaseAdapter):
    """A requests transport that hands each request to the Flask test client, so the sandbox's
    real `requests.post` (form encoding, headers, answer) runs without a socket."""

    def __init__(self, client):
        super().__init__()
        self.client = client
        self.sent = []

    def send(self, request, **kwargs):
        self.sent.append(request)
        res = self.client.open(request.path_url, method=request.method, data=request.body,
                               headers=dict(request.headers))
        response = requests.Response()
        response.status_code, response._content = res.status_code, res.get_data()
        response.headers.update(res.headers)
        response.url, response.request, response.encoding = request.url, request, "utf-8"
        return response

    def close(self):
        pass


@pytest.fixture
def provider_http(app, cfg, monkeypatch):
    """Requests to PAYMENT_URL reach this app's test client; anything else fails loudly."""
    adapter = FlaskAdapter(app.test_client())
    real = requests.Session.get_adapter

    def get_adapter(self, url):
        return adapter if url.startswith(cfg.url + "/") else real(self, url)

    monkeypatch.setattr(requests.Session, "get_adapter", get_adapter)
    return adapter


class Shop:
    """Orders as payment learns of them: through the events, each delivered twice."""

    def __init__(self, db, keys):
        self.db, self.keys = db, keys

    def order(self, total=79800, reserved=True, customer_id=None):
        order_id, customer_id = str(uuid.uuid4()), customer_id or str(uuid.uuid4())
        events = [OrderPlaced(order_id=order_id, customer_id=customer_id, lines=[Line("sku-42", 2, total // 2)],
                              total=total)]
        if reserved:
            events.append(StockReserved(order_id=order_id, lines=[Line("sku-42", 2)]))
        for evt in events:
            env = envelope(evt, "order")
            assert deliver(self.db, HANDLERS, env) is True
            assert deliver(self.db, HANDLERS, env) is False
        return order_id, self.keys.headers(customer_id)


@pytest.fixture
def shop(db, keys):
    return Shop(db, keys)


@pytest.fixture(autouse=True)
def order_service(monkeypatch):
    """What the order service answers when payment asks about an order (by default: nothing)."""
    from mall_shared import clients

    answers: dict[str, dict] = {}
    monkeypatch.setattr(clients, "get_order", lambda order_id, authorization: answers.get(order_id))
    return answers
