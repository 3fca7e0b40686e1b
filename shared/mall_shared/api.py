"""The HTTP side every service shares: the app skeleton, the error format, pagination,
request ids, health endpoints.

flask-smorest's own error body and pagination (`page_size` + header) differ from the public
contract, so they are overridden here, once.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import flask_smorest
from flask import Flask, current_app, g, jsonify, request
from marshmallow import Schema, fields, validate
from sqlalchemy import Select, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from . import logs, metrics, tracing
from .config import Settings
from .db import Database, new_id
from .events import correlation_id
from .outbox import connection

log = logging.getLogger(__name__)


# ---- errors ----------------------------------------------------------------------------------
class DomainError(Exception):
    """Raise anywhere; rendered as {"error": {"code", "message", "details"}} with `status`."""

    status = 400
    code = "bad_request"
    message = "Bad request"

    def __init__(self, message: str | None = None, details: dict | None = None, code: str | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details or {}
        if code:
            self.code = code


class BadRequest(DomainError):
    pass


class Unauthorized(DomainError):
    status, code, message = 401, "unauthorized", "Authentication required"


class Forbidden(DomainError):
    status, code, message = 403, "forbidden", "Not allowed"


class NotFound(DomainError):
    status, code, message = 404, "not_found", "Not found"


class Conflict(DomainError):
    status, code, message = 409, "conflict", "Conflict"


class Unavailable(DomainError):
    status, code, message = 503, "service_unavailable", "A service this request needs is unavailable"


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


class ErrorDetailSchema(Schema):
    code = fields.String(required=True, metadata={"description": "machine-readable, e.g. validation_error"})
    message = fields.String(required=True)
    details = fields.Dict(required=True, metadata={"description": "e.g. `fields` for a validation error"})


class ErrorSchema(Schema):
    """The one error body every service answers (and its OpenAPI documents)."""

    error = fields.Nested(ErrorDetailSchema, required=True)


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema  # documented for every operation's error responses

    def handle_http_exception(self, error: HTTPException):
        status = error.code or 500
        messages = (getattr(error, "data", None) or {}).get("messages")
        if status == 422 and messages:
            fields_ = {}
            for location in messages.values():  # {"json": {...}, "query": {...}}
                fields_.update(location)
            names = ", ".join(sorted(str(k) for k in fields_))
            body = error_body("validation_error", f"Invalid input: {names}", {"fields": fields_})
        else:
            code = (error.name or "error").lower().replace(" ", "_")
            body = error_body(code, error.description or error.name or "Error")
        return jsonify(body), status


def _domain_error(exc: DomainError):
    return jsonify(error_body(exc.code, exc.message, exc.details)), exc.status


def _database_down(exc: OperationalError):
    log.error("database unavailable: %s", exc)
    return jsonify(error_body("database_unavailable", "The service's database is unavailable")), 503


def _unexpected(exc: Exception):
    # HTTPException and DomainError have their own, more specific handlers.
    log.exception("unhandled error")
    return jsonify(error_body("internal_error", "Internal server error")), 500


# ---- pagination ------------------------------------------------------------------------------
# A page past this is refused (422) rather than turned into an offset the database cannot hold.
MAX_PAGE = 1_000_000


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


_page_schemas: dict[type, type[Schema]] = {}


# Counting every match costs as much as the matches are many; past this many a list says so
# instead (`total_exact: false`), as search engines do (Elasticsearch's track_total_hits).
COUNT_LIMIT = int(os.environ.get("MALL_LIST_COUNT_LIMIT") or 10_000)


def page_schema(item: type[Schema]) -> type[Schema]:
    """The list response: {"items": [...], "total", "page", "per_page"}."""
    if item not in _page_schemas:
        name = item.__name__.removesuffix("Schema") + "PageSchema"
        _page_schemas[item] = type(name, (Schema,), {
            "items": fields.List(fields.Nested(item)),
            "total": fields.Integer(),
            "total_exact": fields.Boolean(metadata={
                "description": f"false when more than {COUNT_LIMIT} match and `total` says only that many"}),
            "page": fields.Integer(),
            "per_page": fields.Integer(),
        })
    return _page_schemas[item]


def paginate(session: Session, stmt: Select, page: int, per_page: int) -> dict[str, Any]:
    capped = stmt.order_by(None).limit(COUNT_LIMIT + 1).subquery()
    total = session.scalar(select(func.count()).select_from(capped))
    items = session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": items, "total": min(total, COUNT_LIMIT), "total_exact": total <= COUNT_LIMIT,
            "page": page, "per_page": per_page}


# ---- the app ---------------------------------------------------------------------------------
def db() -> Database:
    return current_app.extensions["mall_db"]


def settings() -> Settings:
    return current_app.extensions["mall_settings"]


@contextmanager
def transaction() -> Iterator[Session]:
    """The request's unit of work: committed when the block ends. The session itself stays open
    until the request ends, so the response schema may still read relationships it did not load."""
    session = g.get("db_session")
    if session is None:
        session = g.db_session = db().Session()
    else:  # a second block in one request reads afresh what other requests changed meanwhile
        if session.in_transaction():
            session.commit()  # a read begun by lazy loading after the earlier block
        session.expire_all()
    with session.begin():
        yield session


def create_service_app(service: str, metadata, blueprints: list, config: dict | None = None) -> Flask:
    """The Flask app of one service: settings, database, API, errors, health."""
    logs.setup(service)
    tracing.setup(service)  # before the engine is built, so its queries are traced too
    app = Flask(service)
    s = Settings.load(service)
    app.config.update(
        API_TITLE=f"mall {service}",
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    app.config.update(config or {})
    app.extensions["mall_settings"] = s
    app.extensions["mall_db"] = Database(service, app.config.get("DATABASE_URL", s.database_url), metadata)
    app.extensions["mall_jwt_public_key"] = app.config.get("JWT_PUBLIC_KEY") or s.jwt_public_key()

    api = Api(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}}})
    for bp in blueprints:
        api.register_blueprint(bp)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(OperationalError, _database_down)
    app.register_error_handler(Exception, _unexpected)
    metrics.init_app(app, service)
    tracing.instrument_app(app)

    @app.before_request
    def _request_id():
        g.request_id = request.headers.get("X-Request-ID") or new_id()
        g.correlation_token = correlation_id.set(g.request_id)
        _refuse_nul()

    @app.after_request
    def _echo_request_id(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response

    @app.teardown_request
    def _reset(_exc):
        session = g.pop("db_session", None)
        if session is not None:
            session.close()
        token = g.pop("correlation_token", None)
        if token is not None:
            correlation_id.reset(token)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok", "service": service}

    @app.get("/readyz")
    def readyz():
        checks = {"database": _check(db().ping), "broker": _check(lambda: _ping_broker(s))}
        ok = all(v == "ok" for v in checks.values())
        return {"status": "ok" if ok else "unavailable", "service": service, "checks": checks}, 200 if ok else 503

    return app


def _refuse_nul() -> None:
    """No text a service stores may hold NUL (PostgreSQL refuses it, which would be a 500): refuse
    it in the path, the query, a form or a JSON body up front, as the invalid input it is."""
    values = [request.path, *request.args.values()]
    if request.mimetype == "application/json":
        raw = request.get_data(cache=True)
        if b"\x00" in raw or b"\\u0000" in raw:
            values.append("\x00")
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += request.form.values()
    if any("\x00" in v for v in values):
        raise BadRequest("Text may not contain NUL characters", code="validation_error",
                         details={"fields": {}})


def _check(fn) -> str:
    try:
        fn()
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}: {exc}"[:300]


def _ping_broker(s: Settings) -> None:
    with connection(s, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1)
