"""JSON logs: one line per record with `service`, `level`, `request_id`, `correlationid` and, in a
consumer, the `event_id` and `event_type` being handled; gunicorn's access log in the same shape.

`setup(service)` is called once per process (web app, worker, gateway); gunicorn's own loggers
get the same formatter through `gunicorn_logconfig()`. MALL_LOG_FORMAT=text gives plain lines
for a developer's terminal; JSON is the default because log shippers parse it without rules.
MALL_LOG_LEVEL (default INFO) sets the level: WARNING drops the line per handled event and the
access log, for a shop that gets those from metrics instead.
"""
from __future__ import annotations

import faulthandler
import logging
import logging.config
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from flask import g, has_request_context
from pythonjsonlogger.json import JsonFormatter

from .events import correlation_id, current_envelope

_service = os.environ.get("MALL_SERVICE", "")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(service)s %(name)s: %(message)s"


def service_from_argv(argv: list[str]) -> str:
    """The service a gunicorn command line serves ("order.app:create_app()" → order)."""
    for arg in argv:
        match = re.match(r"^(\w+)\.app:create_app", arg)
        if match:
            return match.group(1)
    return "gunicorn"


class ContextFilter(logging.Filter):
    """Adds the ids of the work in hand to every record (any logger, any thread)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = _service
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            _access_fields(record, record.args)
            return True
        record.request_id = g.get("request_id") if has_request_context() else None
        record.correlationid = correlation_id.get()
        env = current_envelope.get()
        if env:
            record.event_id, record.event_type = env.get("id"), env.get("type")
        return True


def _access_fields(record: logging.LogRecord, atoms: dict) -> None:
    # gunicorn hands the access log its atoms (glogging.Logger.atoms) as the record's args.
    record.method = atoms.get("m")
    record.path = atoms.get("U")
    record.status = int(atoms["s"]) if str(atoms.get("s", "")).isdigit() else atoms.get("s")
    record.duration_ms = atoms.get("M")
    record.remote_addr = atoms.get("h")
    record.request_id = atoms.get("{x-request-id}o") or atoms.get("{x-request-id}i")
    record.correlationid = record.request_id


def formatter() -> logging.Formatter:
    if os.environ.get("MALL_LOG_FORMAT", "").lower() == "text":
        return logging.Formatter(TEXT_FORMAT)
    return JsonFormatter("{levelname}{service}{name}{message}", style="{", timestamp="time",
                         rename_fields={"levelname": "level", "name": "logger"}, json_ensure_ascii=False)


def _handler() -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter())
    handler.addFilter(ContextFilter())
    return handler


def level() -> str:
    return (os.environ.get("MALL_LOG_LEVEL") or "INFO").upper()


def setup(service: str) -> None:
    """Route every record of this process (and Python warnings) through one JSON handler."""
    global _service
    _service = service
    # A process killed by a fatal signal (SIGSEGV in a C extension, an abort) writes every thread's
    # Python stack to stderr first: the only trace such a crash leaves.
    try:
        faulthandler.enable(all_threads=True)
    except (OSError, ValueError):  # stderr is no file (a test capturing it): nothing to write to
        pass
    root = logging.getLogger()
    if root.handlers:
        return  # as logging.basicConfig: gunicorn's logconfig set it up already (or a test runner owns it)
    root.addHandler(_handler())
    root.setLevel(level())
    logging.captureWarnings(True)


def gunicorn_logconfig(service: str) -> dict:
    """gunicorn's logconfig_dict: its error and access logs, and the root logger, as JSON lines."""
    global _service
    _service = service
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"mall": {"()": "mall_shared.logs.formatter"}},
        "filters": {"context": {"()": "mall_shared.logs.ContextFilter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                "formatter": "mall", "filters": ["context"]}},
        "root": {"level": level(), "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level(), "handlers": [], "propagate": True},
            "gunicorn.access": {"level": level(), "handlers": [], "propagate": True},
        },
    }


@contextmanager
def event_context(env: dict) -> Iterator[None]:
    """While a consumer works on one envelope: its ids on every log line (and the envelope for a
    handler that needs its `time`, events.current_envelope)."""
    env_token = current_envelope.set(env)
    corr_token = correlation_id.set(env.get("correlationid"))
    try:
        yield
    finally:
        correlation_id.reset(corr_token)
        current_envelope.reset(env_token)
