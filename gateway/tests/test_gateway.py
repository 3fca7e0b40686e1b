"""The gateway against small real HTTP upstreams: routing, tokens, request ids, failures."""
import os
import threading
import time
import uuid

import pytest
from flask import Flask, request
from werkzeug.serving import make_server

from gateway.app import create_app
from gateway.config import GatewaySettings
from mall_shared.config import SERVICES
from mall_shared.testing import eventually, free_port

REVOKED_JTI = "0b7c3c1e-logged-out"



@pytest.fixture(scope="module")
def upstream():
    app = Flask("upstream")

    @app.route("/api/<path:rest>", methods=["GET", "POST"])
    def echo(rest):
        if rest == "catalog/slow":
            time.sleep(2)
        if rest == "web/login":  # the web app starting a session for one browser
            return {"cookie": request.headers.get("Cookie")}, 200, {"Set-Cookie": "mall_session=alice; HttpOnly"}
        if rest == "web/whoami":
            return {"cookie": request.headers.get("Cookie")}, 200
        return {"path": request.full_path, "method": request.method, "body": request.get_data(as_text=True),
                "request_id": request.headers.get("X-Request-ID"),
                "authorization": request.headers.get("Authorization"),
                "client": request.headers.get("X-Mall-Client")}, 201

    @app.get("/readyz")
    def ready():
        return {"status": "ok"}

    @app.get("/internal/revoked-tokens")
    def revoked():  # crm's list: one logged-out token, and one whose coverage has long expired
        after = int(request.args.get("after", 0))
        items = [{"seq": 1, "token_id": REVOKED_JTI, "expires_at": "2999-01-01T00:00:00+00:00"},
                 {"seq": 2, "token_id": "long-gone", "expires_at": "2000-01-01T00:00:00+00:00"}]
        return {"items": [i for i in items if i["seq"] > after]}

    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.fixture
def gateway(upstream, keys):
    services = {s: upstream for s in ("catalog", "order", "payment", "crm", "logistics", "reports")}
    services["logistics"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = GatewaySettings(services=services, jwt_public_key=keys.public, connect_timeout=1, read_timeout=0.5,
                               rate_limit="10000 per minute", login_rate_limit="3 per minute",
                               rate_limit_storage="memory://")
    return create_app(settings).test_client()


def test_a_request_is_forwarded_with_its_path_query_and_body(gateway):
    res = gateway.post("/api/orders/abc?x=1", data="hello", headers={"X-Request-ID": "req-1"})
    assert res.status_code == 201
    assert res.json == {"path": "/api/orders/abc?x=1", "method": "POST", "body": "hello", "request_id": "req-1",
                        "authorization": None, "client": "127.0.0.1"}
    assert res.headers["X-Request-ID"] == "req-1"


def test_a_request_id_is_made_when_the_client_sends_none(gateway):
    res = gateway.get("/api/catalog/products")
    assert res.json["request_id"] and res.headers["X-Request-ID"] == res.json["request_id"]


def test_a_valid_token_is_passed_on(gateway, keys):
    token = keys.token(role="customer")
    res = gateway.get("/api/orders", headers={"Authorization": f"Bearer {token}"})
    assert res.status_code == 201 and res.json["authorization"] == f"Bearer {token}"


@pytest.mark.parametrize("header, code", [("Bearer not-a-jwt", "invalid_token"), ("Basic abc", "invalid_token")])
def test_a_bad_token_stops_at_the_gateway(gateway, header, code):
    res = gateway.get("/api/orders", headers={"Authorization": header})
    assert res.status_code == 401 and res.json["error"]["code"] == code


def test_an_expired_token_stops_at_the_gateway(gateway, keys):
    res = gateway.get("/api/orders", headers={"Authorization": f"Bearer {keys.token(ttl=-10)}"})
    assert res.status_code == 401 and res.json["error"]["code"] == "token_expired"


def test_an_unknown_area_is_a_404_in_the_error_format(gateway):
    res = gateway.get("/api/nowhere/x")
    assert res.status_code == 404 and res.json["error"]["code"] == "not_found"


def test_a_service_that_is_down_answers_503_at_once(gateway):
    started = time.monotonic()
    res = gateway.get("/api/logistics/carriers")
    assert res.status_code == 503
    assert res.json["error"] == {"code": "service_unavailable", "message": "The logistics service is unavailable",
                                 "details": {"service": "logistics"}}
    assert time.monotonic() - started < 1.5


def test_a_slow_service_answers_504_within_the_timeout(gateway):
    started = time.monotonic()
    res = gateway.get("/api/catalog/slow")
    assert res.status_code == 504 and res.json["error"]["code"] == "upstream_timeout"
    assert time.monotonic() - started < 1.5


def test_login_attempts_are_rate_limited(gateway):
    codes = [gateway.post("/api/auth/login", json={}).status_code for _ in range(4)]
    assert codes[:3] == [201, 201, 201] and codes[3] == 429
    assert gateway.get("/api/auth/me").status_code == 201  # other routes are not held back


def test_readiness_lists_every_service(gateway):
    res = gateway.get("/readyz")
    assert res.status_code == 503
    assert res.json["services"]["catalog"] == "ok"
    assert res.json["services"]["logistics"].startswith("unreachable")


@pytest.mark.parametrize("path", [
    "/api/auth/x/%2e%2e/login", "/api/auth/x/../login", "/api/catalog/%2e%2e/%2e%2e/readyz",
    "/api/catalog/%2E%2E/readyz", "/api/catalog/./products", "/api/catalog/%2e/products",
    "/api/auth%2flogin", "/api/catalog/a%2Fb", "/api/catalog/a%5cb", "/api/catalog/%252e%252e/readyz",
    "/api/auth//login", "/api/catalog/..",
])
def test_dot_segments_and_encoded_separators_are_refused_before_routing(gateway, path):
    res = gateway.post(path, json={})
    assert res.status_code == 400 and res.json["error"]["code"] == "invalid_path", (path, res.json)


def test_a_disguised_login_path_cannot_dodge_the_login_limit(gateway):
    codes = [gateway.post(path, json={}).status_code
             for path in ["/api/auth/login"] * 3 + ["/api/auth/x/%2e%2e/login", "/api/auth/login"]]
    assert codes == [201, 201, 201, 400, 429]


def test_a_plain_path_with_an_encoded_character_is_still_forwarded(gateway):
    res = gateway.get("/api/catalog/products?q=%E9%9E%8B")
    assert res.status_code == 201 and res.json["path"] == "/api/catalog/products?q=%E9%9E%8B"


def test_registrations_are_limited_per_client(upstream, keys):
    settings = GatewaySettings(services={s: upstream for s in ("catalog", "order", "payment", "crm", "logistics")},
                               jwt_public_key=keys.public, connect_timeout=1, read_timeout=1,
                               rate_limit="10000 per minute", login_rate_limit="30 per minute",
                               rate_limit_storage="memory://", register_rate_limit="2 per hour")
    gateway = create_app(settings).test_client()
    codes = [gateway.post("/api/auth/register", json={}).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    other = gateway.post("/api/auth/register", json={}, environ_base={"REMOTE_ADDR": "198.51.100.2"})
    assert other.status_code == 201


def test_gateway_processes_share_their_limits_through_redis(upstream, keys):
    """Two gateways (as two gunicorn workers or replicas would be) count one client's logins together."""
    settings = GatewaySettings(services={s: upstream for s in ("catalog", "order", "payment", "crm", "logistics")},
                               jwt_public_key=keys.public, connect_timeout=1, read_timeout=1,
                               rate_limit="10000 per minute", login_rate_limit="3 per minute",
                               rate_limit_storage=os.environ.get("MALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
                               rate_limit_prefix=f"test-{uuid.uuid4().hex}")
    first, second = create_app(settings).test_client(), create_app(settings).test_client()
    codes = [gw.post("/api/auth/login", json={}).status_code for gw in (first, second, first, second)]
    assert codes == [201, 201, 201, 429]


def test_a_revoked_token_is_refused_at_the_gateway_within_a_poll(gateway, keys):
    revoked = {"Authorization": f"Bearer {keys.token(jti=REVOKED_JTI)}"}
    res = eventually(lambda: (r := gateway.get("/api/orders", headers=revoked)).status_code == 401 and r, timeout=5)
    assert res.json["error"]["code"] == "token_revoked"
    by_login = {"Authorization": f"Bearer {keys.token(jti='fresh', sid=REVOKED_JTI)}"}
    assert gateway.get("/api/orders", headers=by_login).status_code == 401
    live = {"Authorization": f"Bearer {keys.token(jti='another', sid='another-login')}"}
    assert gateway.get("/api/orders", headers=live).status_code == 201


def test_pages_outside_the_api_go_to_the_web_app_and_the_api_stays_with_the_services(upstream, keys):
    settings = GatewaySettings(services={s: upstream for s in ("catalog", "order", "payment", "crm", "logistics")},
                               jwt_public_key=keys.public, connect_timeout=1, read_timeout=0.5,
                               rate_limit="10000 per minute", login_rate_limit="3 per minute",
                               rate_limit_storage="memory://", web_url=upstream + "/api/web")
    gateway = create_app(settings).test_client()
    assert gateway.get("/admin/orders?status=PAID").json["path"] == "/api/web/admin/orders?status=PAID"
    assert gateway.get("/").json["path"].rstrip("?") == "/api/web/"
    assert gateway.get("/api/orders/abc").json["path"].rstrip("?") == "/api/orders/abc"
    assert gateway.get("/api/nowhere/x").status_code == 404
    assert gateway.get("/healthz").json["service"] == "gateway"
    assert gateway.get("/static/mall.css").json["path"].rstrip("?") == "/api/web/static/mall.css"


def test_one_browsers_session_cookie_never_travels_with_another_browsers_request(upstream, keys):
    settings = GatewaySettings(services={s: upstream for s in ("catalog", "order", "payment", "crm", "logistics")},
                               jwt_public_key=keys.public, connect_timeout=1, read_timeout=0.5,
                               rate_limit="10000 per minute", login_rate_limit="3 per minute",
                               rate_limit_storage="memory://", web_url=upstream + "/api")
    alice = create_app(settings).test_client()
    res = alice.get("/web/login")
    assert res.headers["Set-Cookie"].startswith("mall_session=alice")
    bob = alice.application.test_client()  # another browser: no cookies of its own
    assert bob.get("/web/whoami").json["cookie"] is None
    assert alice.get("/web/whoami").json["cookie"] == "mall_session=alice"


def test_rate_limits_count_each_visitor_a_trusted_proxy_serves_and_never_a_clients_own_claim(upstream, keys):
    settings = GatewaySettings(services={s: upstream for s in ("catalog", "order", "payment", "crm", "logistics")},
                               jwt_public_key=keys.public, connect_timeout=1, read_timeout=0.5,
                               rate_limit="10000 per minute", login_rate_limit="2 per minute",
                               rate_limit_storage="memory://", trusted_proxies=frozenset({"10.0.0.5"}))
    gateway = create_app(settings).test_client()

    def login(peer: str, forwarded: str | None = None) -> int:
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        return gateway.post("/api/auth/login", headers=headers, environ_base={"REMOTE_ADDR": peer}).status_code

    # The web app (trusted) logs in two visitors twice each: each visitor has their own limit.
    assert [login("10.0.0.5", "1.1.1.1"), login("10.0.0.5", "1.1.1.1"), login("10.0.0.5", "1.1.1.1")] == \
        [201, 201, 429]
    assert login("10.0.0.5", "2.2.2.2") == 201
    # A client claiming to be someone else is counted as itself.
    assert [login("3.3.3.3", "4.4.4.4"), login("3.3.3.3", "5.5.5.5"), login("3.3.3.3", "6.6.6.6")] == \
        [201, 201, 429]


def test_the_service_learns_the_client_as_the_gateway_counts_it_never_as_the_client_claims(gateway):
    res = gateway.get("/api/auth/me", headers={"X-Mall-Client": "10.9.9.9", "X-Forwarded-For": "10.8.8.8"})
    assert res.json["client"] == "127.0.0.1"  # the peer: an untrusted caller's claims are dropped


def test_the_gateways_metrics_count_forwarded_requests_by_api_area_not_by_path(gateway):
    from prometheus_client import REGISTRY

    labels = {"service": "gateway", "method": "POST", "route": "/api/orders", "status": "201"}
    before = REGISTRY.get_sample_value("mall_http_requests_total", labels) or 0
    for order_id in ("a1", "a2"):
        assert gateway.post(f"/api/orders/{order_id}/cancel").status_code == 201
    assert REGISTRY.get_sample_value("mall_http_requests_total", labels) == before + 2
    gateway.get("/api/nowhere/x")
    assert REGISTRY.get_sample_value("mall_http_requests_total", labels | {"method": "GET", "status": "404",
                                                                          "route": "/api/<area>/<path:rest>"})
    body = gateway.get("/metrics").get_data(as_text=True)
    assert 'route="/api/orders"' in body and "/api/orders/a1" not in body


def test_the_api_explorer_lists_every_service_and_serves_its_assets_itself(gateway):
    page = gateway.get("/docs")
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    assert "http" not in page.get_data(as_text=True).replace("<!doctype html>", "")  # nothing from a CDN
    config = gateway.get("/docs/swagger-config.json").json
    assert [u["url"] for u in config["urls"]] == [f"/openapi/{s}.json" for s in SERVICES]
    for asset in ("swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui-standalone-preset.js",
                  "swagger-ui/swagger-ui.css", "docs.js"):
        assert gateway.get(f"/docs/static/{asset}").status_code == 200, asset
