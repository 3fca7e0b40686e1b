"""Forwarding one request to a service, with timeouts: the gateway never hangs on a slow or
dead service, it answers 503 (down) or 504 (too slow) in the error format."""
from __future__ import annotations

import threading
from http.cookiejar import DefaultCookiePolicy

import requests
from flask import Request, Response, jsonify

from mall_shared.api import error_body

# Hop-by-hop headers (RFC 9110 §7.6.1) and ones the gateway sets itself.
_DROP_REQUEST = {"host", "connection", "keep-alive", "proxy-authorization", "te", "trailer",
                 "transfer-encoding", "upgrade", "content-length", "x-forwarded-for", "x-request-id"}
_DROP_RESPONSE = {"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length",
                  "trailer", "upgrade"}

_local = threading.local()


def _session() -> requests.Session:
    # One pooled session per thread: requests.Session is not documented as thread-safe.
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
        # The pool serves every client: it must never keep one browser's Set-Cookie (the web app's
        # session) and send it with the next client's request. Cookies travel only in the headers.
        _local.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return _local.session


def forward(req: Request, service: str, base_url: str, request_id: str, timeouts: tuple[float, float]) -> Response:
    headers = {k: v for k, v in req.headers.items() if k.lower() not in _DROP_REQUEST}
    headers["X-Request-ID"] = request_id
    headers["X-Forwarded-For"] = ", ".join(filter(None, [req.headers.get("X-Forwarded-For"), req.remote_addr]))
    url = base_url + req.full_path.rstrip("?")
    try:
        upstream = _session().request(req.method, url, headers=headers, data=req.get_data(),
                                      timeout=timeouts, allow_redirects=False)
    except requests.Timeout:
        return _fail(504, "upstream_timeout", f"The {service} service did not answer in time", service)
    except requests.ConnectionError:
        return _fail(503, "service_unavailable", f"The {service} service is unavailable", service)
    response = Response(upstream.content, status=upstream.status_code)
    for key, value in upstream.headers.items():
        if key.lower() not in _DROP_RESPONSE:
            response.headers[key] = value
    return response


def _fail(status: int, code: str, message: str, service: str) -> Response:
    response = jsonify(error_body(code, message, {"service": service}))
    response.status_code = status
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response
