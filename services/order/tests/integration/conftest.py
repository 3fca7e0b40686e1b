"""Checkout's HTTP calls, stubbed at requests' transport: order's real client code builds the
URLs and reads the answers, but catalog, logistics and crm are dictionaries in this process."""
import json
import uuid
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests

from mall_shared.consumer import deliver
from mall_shared.events import envelope
from order.config import config
from order.handlers import HANDLERS

SERVICES = ("catalog", "logistics", "crm")
ADDRESS = {"name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
           "district": "西湖区", "detail": "文三路 100 号", "postal_code": "310000"}


def base_url(service: str) -> str:
    return getattr(config(), f"{service}_url")


class FakeServices(requests.adapters.BaseAdapter):
    """Answers GET /api/catalog/skus, GET /api/logistics/delivery-methods/{id},
    GET /api/crm/me/addresses/{id} (only to the Authorization header that saved it) and
    GET /api/crm/me/membership."""

    def __init__(self):
        super().__init__()
        self.skus: dict[str, dict] = {}
        self.methods: dict[str, dict] = {}
        self.addresses: dict[str, tuple[str, dict]] = {}  # id -> (owner's Authorization header, address)
        self.memberships: dict[str, dict] = {}  # Authorization header -> crm's membership answer
        self.down: set[str] = set()
        self.broken: set[str] = set()
        self.slow: set[str] = set()
        self.calls: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.calls.append(request)
        service = next(s for s in SERVICES if request.url.startswith(base_url(s) + "/"))
        if service in self.down:
            raise requests.ConnectionError(f"{service} is down")
        if service in self.slow:
            raise requests.ReadTimeout(f"{service} did not answer in time")
        if service in self.broken:
            response = self._answer(request, 500, None)
            response._content = b"<html>Internal Server Error</html>"
            return response
        parts = urlsplit(request.url)
        if parts.path == "/api/catalog/skus":
            ids = parse_qs(parts.query)["ids"][0].split(",")
            return self._answer(request, 200, [self.skus[i] for i in ids if i in self.skus])
        if parts.path == "/api/crm/me/membership":
            answer = self.memberships.get(request.headers.get("Authorization"),
                                          {"tier": "regular", "balance": 0, "points": 0, "version": 0})
            return self._answer(request, 200, answer)
        if parts.path.startswith("/api/crm/me/addresses/"):
            owner, address = self.addresses.get(unquote(parts.path.rsplit("/", 1)[1]), (None, None))
            if owner is None or owner != request.headers.get("Authorization"):
                return self._answer(request, 404, {"error": {"code": "address_not_found"}})
            return self._answer(request, 200, address)
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

    def address(self, headers: dict, **changes) -> str:
        """Save an address in a customer's crm address book, shaped as crm answers it."""
        address_id = str(uuid.uuid4())
        self.addresses[address_id] = (headers["Authorization"], {
            "id": address_id, **ADDRESS, "is_default": True, "created_at": "2026-11-11T10:00:00+00:00", **changes})
        return address_id


@pytest.fixture
def fake(monkeypatch):
    services = FakeServices()
    services.methods["standard"] = {"id": "standard", "name": "Standard", "fee": 1000, "currency": "CNY",
                                    "active": True, "regions": None}
    real = requests.Session.get_adapter
    targets = tuple(base_url(s) + "/" for s in SERVICES)
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
        if "address_id" in overrides:
            body.pop("shipping_address")
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
