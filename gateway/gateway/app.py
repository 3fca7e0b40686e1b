"""The API gateway: `gunicorn "gateway.app:create_app()"` on MALL_GATEWAY_PORT (8080).

Routes /api/<area>/... to the owning service, checks any bearer token before forwarding
(a forged or expired one never reaches a service), forwards a request id, limits request
rates per client. Services still verify the token themselves: they never trust the gateway.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from flask import Flask, g, jsonify, request
from flask_limiter import Limiter
from werkzeug.exceptions import HTTPException

from mall_shared import logs, metrics, tracing
from mall_shared.api import DomainError, NotFound, error_body
from mall_shared.auth import TokenRevoked, bearer_token, verify_token
from mall_shared.db import new_id

from . import docs
from .clients import client_key
from .config import ROUTES, GatewaySettings
from .paths import check_path, raw_path
from .proxy import forward
from .revocations import Revocations

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]


def create_app(settings: GatewaySettings | None = None) -> Flask:
    logs.setup("gateway")
    tracing.setup("gateway")
    settings = settings or GatewaySettings.load()
    app = Flask(__name__, static_folder=None)  # /static/... belongs to the web app
    metrics.init_app(app, "gateway", route=_area_route)
    tracing.instrument_app(app)
    app.register_blueprint(docs.blueprint)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    # Counters live in MALL_GATEWAY_RATE_LIMIT_STORAGE (redis://… shares them between every
    # gateway process and replica); were it unreachable, each process keeps counting in memory.
    client = client_key(settings.trusted_proxies)
    limiter = Limiter(client, app=app, default_limits=[settings.rate_limit],
                      storage_uri=settings.rate_limit_storage, key_prefix=settings.rate_limit_prefix,
                      in_memory_fallback_enabled=True, headers_enabled=True)
    timeouts = (settings.connect_timeout, settings.read_timeout)
    revocations = Revocations(settings.services["crm"], timeouts)
    if settings.revocation_poll > 0:
        threading.Thread(target=revocations.run, args=(settings.revocation_poll, threading.Event()),
                         name="revocations", daemon=True).start()

    @app.before_request
    def _request_id():
        g.request_id = request.headers.get("X-Request-ID") or new_id()
        check_path(raw_path(request.environ))

    @app.after_request
    def _echo(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response

    @app.route("/api/<area>", methods=METHODS)
    @app.route("/api/<area>/<path:rest>", methods=METHODS)
    @limiter.limit(settings.login_rate_limit, scope="login", methods=["POST"],
                   exempt_when=lambda: request.path != "/api/auth/login")
    @limiter.limit(settings.register_rate_limit, scope="register", methods=["POST"],
                   exempt_when=lambda: request.path != "/api/auth/register")
    def route(area: str, rest: str = ""):
        service = ROUTES.get(area)
        if service is None:
            raise NotFound(f"No API area {area!r}", details={"areas": sorted(ROUTES)})
        token = bearer_token()
        if token and revocations.revoked(verify_token(token, settings.jwt_public_key)):
            raise TokenRevoked()
        return forward(request, service, settings.services[service], g.request_id, timeouts, client())

    @app.get("/openapi/<service>.json")
    def openapi(service: str):
        if service not in settings.services:
            return _error(404, "not_found", f"No service {service!r}")
        return forward_get(settings.services[service] + "/openapi.json", service, timeouts)

    if settings.web_url:
        @app.route("/", methods=METHODS)
        @app.route("/<path:rest>", methods=METHODS)
        def web(rest: str = ""):
            """The storefront at /, the admin console at /admin/, their static files: the web app."""
            return forward(request, "web", settings.web_url, g.request_id, timeouts)

    @app.get("/healthz")
    @limiter.exempt
    def healthz():
        return {"status": "ok", "service": "gateway"}

    @app.get("/readyz")
    @limiter.exempt
    def readyz():
        with ThreadPoolExecutor(len(settings.services)) as pool:
            answers = list(pool.map(lambda url: _ready(url, timeouts), settings.services.values()))
        states = dict(zip(settings.services, answers, strict=True))
        ok = all(s == "ok" for s in states.values())
        return {"status": "ok" if ok else "unavailable", "services": states}, 200 if ok else 503

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        return _error(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        return _error(exc.code or 500, code, exc.description or exc.name)

    return app


def _area_route() -> str | None:
    area = (request.view_args or {}).get("area")
    return f"/api/{area}" if area in ROUTES else None


def _error(status: int, code: str, message: str, details: dict | None = None):
    return jsonify(error_body(code, message, details)), status


def _ready(base_url: str, timeouts: tuple[float, float]) -> str:
    try:
        res = requests.get(base_url + "/readyz", timeout=timeouts)
        return "ok" if res.status_code == 200 else f"unready ({res.status_code})"
    except requests.RequestException as exc:
        return f"unreachable ({exc.__class__.__name__})"


def forward_get(url: str, service: str, timeouts: tuple[float, float]):
    try:
        res = requests.get(url, timeout=timeouts)
    except requests.RequestException:
        return _error(503, "service_unavailable", f"The {service} service is unavailable", {"service": service})
    return res.json(), res.status_code
