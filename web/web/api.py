"""The public API, called server side through the gateway with the logged-in user's token.

Every failure becomes an ApiError with the API's own code and message, so a page can show it
as a readable message; an expired access token is refreshed once, transparently."""
from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import requests
from flask import copy_current_request_context, current_app, request

from . import session as web_session

_local = threading.local()
# A page's independent reads go out together (get_all): its time is the slowest call's, not their sum.
_pool = ThreadPoolExecutor(max_workers=int(os.environ.get("MALL_WEB_API_THREADS") or 32), thread_name_prefix="api")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or {}

    def readable(self) -> str:
        """The message, with each refused field's reasons when the API gave them."""
        fields = self.details.get("fields") or {}
        parts = [f"{name}: {_flatten(reasons)}" for name, reasons in fields.items()]
        return self.message + (" — " + "; ".join(parts) if parts else "")


class LoginRequired(Exception):
    """The session's tokens are gone or no longer accepted: log in again."""


def _flatten(reasons: Any) -> str:
    if isinstance(reasons, list):
        return " ".join(_flatten(r) for r in reasons)
    if isinstance(reasons, dict):
        return "; ".join(f"{k}: {_flatten(v)}" for k, v in reasons.items())
    return str(reasons)


def _http() -> requests.Session:
    # One pooled session per thread: requests.Session is not documented as thread-safe.
    if not hasattr(_local, "http"):
        _local.http = requests.Session()
    return _local.http


def call(method: str, path: str, json: dict | None = None, params: dict | None = None, auth: bool = True,
         refresh: bool = True) -> Any:
    tokens = web_session.tokens() if auth else {}
    res = _send(method, path, json, params, tokens.get("access"))
    if res.status_code == 401 and tokens.get("refresh") and refresh:
        res = _send(method, path, json, params, _refresh(tokens["refresh"]))
    if res.status_code == 401 and auth:
        web_session.log_out()
        raise LoginRequired()
    if res.status_code >= 400:
        try:
            error = res.json()["error"]
        except (ValueError, KeyError, TypeError):
            error = {"code": "http_error", "message": f"The API answered {res.status_code}"}
        raise ApiError(res.status_code, error.get("code", "error"), error.get("message", ""), error.get("details"))
    return res.json() if res.content else None


def _refresh(refresh_token: str) -> str:
    """Trade the refresh token for a new pair (the old one is spent) and keep it in the session."""
    refreshed = _send("POST", "/api/auth/refresh", {"refresh_token": refresh_token}, None, None)
    if refreshed.status_code != 200:
        web_session.log_out()
        raise LoginRequired()
    web_session.store_tokens(refreshed.json())
    return refreshed.json()["access_token"]


def _refresh_if_expiring() -> None:
    # Before reads go out in parallel: a refresh token is spent once, so only this thread may trade it.
    tokens = web_session.tokens()
    if not tokens.get("access") or not tokens.get("refresh"):
        return
    try:
        expires = jwt.decode(tokens["access"], options={"verify_signature": False}).get("exp", 0)
    except jwt.PyJWTError:
        expires = 0
    if expires - time.time() < 30:
        _refresh(tokens["refresh"])


def get_all(*reads: tuple[str, dict | None]) -> list[Any]:
    """Several GETs at once, `(path, params)` each, answers in the same order; a path ending in "?"
    may be missing (None for its 404: an order's shipment before dispatch)."""
    _refresh_if_expiring()

    def one(path: str, params: dict | None) -> Any:
        optional = path.endswith("?")
        try:
            return call("GET", path.rstrip("?"), params=_clean(params or {}), refresh=False)
        except ApiError as exc:
            if optional and exc.status == 404:
                return None
            raise
    futures = [_pool.submit(copy_current_request_context(one), path, params) for path, params in reads]
    return [f.result() for f in futures]


def _clean(params: dict) -> dict:
    return {k: v for k, v in params.items() if v not in (None, "")}


def _send(method, path, json, params, access) -> requests.Response:
    settings = current_app.extensions["web_settings"]
    headers = {"Authorization": f"Bearer {access}"} if access else {}
    # Whom this call is for: the gateway's rate limits count the visitor, not the web app
    # (when the gateway trusts the web app: MALL_GATEWAY_TRUSTED_PROXIES).
    headers["X-Forwarded-For"] = ", ".join(filter(None, [request.headers.get("X-Forwarded-For"),
                                                         request.remote_addr]))
    try:
        return _http().request(method, settings.api_url + path, json=json, params=params, headers=headers,
                               timeout=settings.api_timeout)
    except requests.RequestException as exc:
        raise ApiError(503, "service_unavailable", "The mall is unavailable right now, please try again") from exc


def get(path: str, **params) -> Any:
    return call("GET", path, params=_clean(params))


def post(path: str, json: dict | None = None) -> Any:
    return call("POST", path, json=json or {})


def patch(path: str, json: dict) -> Any:
    return call("PATCH", path, json=json)


def delete(path: str) -> Any:
    return call("DELETE", path)

