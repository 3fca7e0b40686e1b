"""OpenTelemetry traces across HTTP and the bus, off unless an OTLP endpoint is configured.

On: `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) names a collector
(Jaeger, an OTel collector); the standard OTEL_* variables tune the exporter and the batching.
Flask, requests, urllib3 and SQLAlchemy are instrumented. `emit()` puts the W3C `traceparent` of the
current span into the CloudEvents envelope (the distributed-tracing extension) and a consumer
continues that trace, so one order reads gateway → order → bus → catalog → bus → order.
Off: nothing is instrumented, nothing exported; `inject()` finds no span and adds nothing.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import propagate, trace

log = logging.getLogger(__name__)

_enabled = False
EXCLUDED_URLS = "healthz,readyz,metrics"


def configured() -> bool:
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def setup(service: str) -> bool:
    """Once per process, before engines are built: the tracer provider and the instrumentations."""
    global _enabled
    if _enabled or not configured():
        return _enabled
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME") or f"mall-{service}"
    provider = TracerProvider(resource=Resource.create({"service.name": name, "service.namespace": "mall"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    RequestsInstrumentor().instrument(excluded_urls=EXCLUDED_URLS)
    URLLib3Instrumentor().instrument(excluded_urls=EXCLUDED_URLS)  # the gateway forwards with urllib3
    _enabled = True
    log.info("tracing on: %s exports over OTLP", name)
    return True


def instrument_engine(engine) -> None:
    """Each SQL statement a span (db.Database calls this with the engine it builds; a process has one).
    skip_dep_check: the instrumentation declares SQLAlchemy < 2.1 but hooks only the engine
    events 2.1 keeps; the e2e trace test proves the spans arrive."""
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    instrumentor = SQLAlchemyInstrumentor()
    if _enabled and not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(engine=engine, enable_commenter=False, skip_dep_check=True)


def instrument_app(app) -> None:
    if _enabled:
        from opentelemetry.instrumentation.flask import FlaskInstrumentor

        FlaskInstrumentor().instrument_app(app, excluded_urls=EXCLUDED_URLS)


def inject() -> dict[str, str]:
    """The current trace context as envelope attributes (`traceparent`, maybe `tracestate`)."""
    if not _enabled:
        return {}
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


@contextmanager
def consuming(service: str, env: dict) -> Iterator[None]:
    """A consumer span for one envelope, continuing the trace its `traceparent` names."""
    if not _enabled:
        yield
        return
    tracer = trace.get_tracer("mall_shared.consumer")
    with tracer.start_as_current_span(
        f"{env['type']} process", context=propagate.extract(env), kind=trace.SpanKind.CONSUMER,
        attributes={"messaging.system": "rabbitmq", "messaging.operation": "process",
                    "messaging.destination.name": f"{service}.events", "messaging.message.id": env["id"],
                    "cloudevents.event_type": env["type"], "mall.correlationid": env.get("correlationid") or ""},
    ):
        yield


def shutdown() -> None:
    """Flush what the batch processor still holds (a worker stopping)."""
    if _enabled:
        trace.get_tracer_provider().shutdown()
