"""The public API, called server side through the gateway with the logged-in user's token.

Every failure becomes an ApiError with the API's own code and message, so a page can show it
as a readable message; an expired access token is refreshed once, transparently."""
from __future__ import annotations

import threading
from typing import Any

import requests
from flask import current_app

from . import session as web_session

_local = threading.local()


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


def call(method: str, path: str, json: dict | None = None, params: dict | None = None, auth: bool = True) -> Any:
    tokens = web_session.tokens() if auth else {}
    res = _send(method, path, json, params, tokens.get("access"))
    if res.status_code == 401 and tokens.get("refresh"):
        refreshed = _send("POST", "/api/auth/refresh", {"refresh_token": tokens["refresh"]}, None, None)
        if refreshed.status_code != 200:
            web_session.log_out()
            raise LoginRequired()
        web_session.store_tokens(refreshed.json())
        res = _send(method, path, json, params, refreshed.json()["access_token"])
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


def _send(method, path, json, params, access) -> requests.Response:
    settings = current_app.extensions["web_settings"]
    headers = {"Authorization": f"Bearer {access}"} if access else {}
    try:
        return _http().request(method, settings.api_url + path, json=json, params=params, headers=headers,
                               timeout=settings.api_timeout)
    except requests.RequestException as exc:
        raise ApiError(503, "service_unavailable", "The mall is unavailable right now, please try again") from exc


def get(path: str, **params) -> Any:
    return call("GET", path, params={k: v for k, v in params.items() if v not in (None, "")})


def post(path: str, json: dict | None = None) -> Any:
    return call("POST", path, json=json or {})


def patch(path: str, json: dict) -> Any:
    return call("PATCH", path, json=json)


def delete(path: str) -> Any:
    return call("DELETE", path)


def get_optional(path: str, **params) -> Any:
    """GET what may not exist yet (an order's shipment): None for a 404."""
    try:
        return get(path, **params)
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise
