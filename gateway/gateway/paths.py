"""Refusing request paths that mean something other than what they spell.

The gateway decides by path (which service, whether the login limit applies) and the service
decides again after its HTTP stack has decoded and normalized the path: `/api/auth/x/%2e%2e/login`
would pass the gateway as "not the login" and reach crm as the login; `/api/catalog/%2e%2e/readyz`
would reach a service's own /readyz. So a path with dot segments, empty segments or encoded
slashes is refused before routing, and the path routed is exactly the one forwarded.
"""
from __future__ import annotations

from urllib.parse import unquote

from mall_shared.api import BadRequest


class InvalidPath(BadRequest):
    code, message = "invalid_path", "The path has dot segments, empty segments or encoded separators"


def raw_path(environ: dict) -> str:
    """The path as the client sent it, before any decoding (gunicorn and werkzeug keep it)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
    return raw.split("?", 1)[0]


def check_path(raw: str) -> None:
    """Raise InvalidPath unless `raw` decodes to a plain path of non-empty, non-dot segments."""
    lowered = raw.lower()
    if any(bad in lowered for bad in ("%2f", "%5c", "%00", "%25", "\\")):
        raise InvalidPath()  # encoded separators, NUL, or a double encoding that decodes into one
    segments = unquote(raw).split("/")[1:]
    if any(s in ("", ".", "..") for s in segments[:-1]) or segments[-1] in (".", ".."):
        raise InvalidPath()
