"""Checkout's two HTTP calls, stubbed at requests' transport: order's real client code builds
the URLs and reads the answers, but catalog and logistics are dictionaries in this process."""
import json
import uuid
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests

from mall_shared.consumer import deliver
from mall_shared.events import envelope
from order.config import config
from order.handlers import HANDLERS

ADDRESS = {"name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
           "district": "西湖区", "detail": "文三路 100 号", "postal_code": "310000"}


class FakeServices(requests.adapters.BaseAdapter):
    """Answers GET /api/catalog/skus and GET /api/logistics/delivery-methods/{id}."""

    def __init__(self):
        super().__init__()
        self.skus: dict[str, dict] = {}
        self.methods: dict[str, dict] = {}
        self.down: set[str] = set()
        self.broken: set[str] = set()
        self.calls: list[str] = []

    def send(self, request, **kwargs):
        self.calls.append(request.url)
        service = "catalog" if request.url.startswith(config().catalog_url) else "logistics"
        if service in self.down:
            raise requests.ConnectionError(f"{service} is down")
        if service in self.broken:
            response = self._answer(request, 500, None)
            response._content = b"<html>Internal Server Error</html>"
            return response
        parts = urlsplit(request.url)
        if parts.path == "/api/catalog/skus":
            ids = parse_qs(parts.query)["ids"][0].split(",")
            return self._answer(request, 200, [self.skus[i] for i in ids if i in self.skus])
        method_id = unquote(parts.path.rsplit("/", 1)[1])
        if method_id in self.methods:
            return self._answer(request, 200, self.methods[method_id])
        return self._answer(request, 404, {"error": {"code": "delivery_method_not_found"}})

    @staticmethod
    def _answer(request, status, body):
        response = requests.Response()
        response.status_code, response._content = status, json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.url, response.request, response.encoding = request.url, request, "utf-8"
        return response

    def close(self):
        pass

    def sku(self, price=39900, stock=10, status="listed", product_status="listed", size="42") -> str:
        sku_id = str(uuid.uuid4())
        self.skus[sku_id] = {"id": sku_id, "code": f"RUN-{size}-{sku_id[:6]}", "attributes": {"size": size},
                             "price": price, "currency": "CNY", "stock": stock, "status": status,
                             "product_id": "p-" + sku_id[:8], "product_name": "Runner",
                             "product_status": product_status}
        return sku_id


@pytest.fixture
def fake(monkeypatch):
    services = FakeServices()
    services.methods["standard"] = {"id": "standard", "name": "Standard", "fee": 1000, "currency": "CNY",
                                    "active": True, "regions": None}
    real = requests.Session.get_adapter
    targets = (config().catalog_url + "/", config().logistics_url + "/")
    monkeypatch.setattr(requests.Session, "get_adapter",
                        lambda self, url: services if url.startswith(targets) else real(self, url))
    return services


class Shop:
    """A customer placing orders, and the facts other services send back, each delivered twice."""

    def __init__(self, client, db, keys, fake):
        self.client, self.db, self.keys, self.fake = client, db, keys, fake
        self.customer_id = str(uuid.uuid4())
        self.headers = keys.headers(self.customer_id)

    def place(self, *lines, expect=201, **overrides):
        lines = lines or ((self.fake.sku(), 2),)
        body = {"items": [{"sku_id": s, "quantity": q} for s, q in lines], "shipping_address": ADDRESS,
                "delivery_method_id": "standard", **overrides}
        res = self.client.post("/api/orders", json=body, headers=self.headers)
        assert res.status_code == expect, res.json
        return res.json

    def send(self, evt) -> None:
        env = envelope(evt, "test")
        assert deliver(self.db, HANDLERS, env) is True
        assert deliver(self.db, HANDLERS, env) is False  # redelivery: nothing happens

    def get(self, order_id) -> dict:
        res = self.client.get(f"/api/orders/{order_id}", headers=self.headers)
        assert res.status_code == 200, res.json
        return res.json


@pytest.fixture
def shop(client, db, keys, fake):
    return Shop(client, db, keys, fake)
