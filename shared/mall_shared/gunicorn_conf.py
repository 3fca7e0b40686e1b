"""gunicorn settings every web process shares: `gunicorn -c python:mall_shared.gunicorn_conf ...`.

Threads, not more processes, absorb slow calls (a service calling another, the payment sandbox
calling its own notify endpoint), so one process never deadlocks on itself."""
import os

bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or 8)
timeout = 30
# Pooled clients (the gateway's upstream pool, client apps) reuse idle connections; gunicorn's
# default 2 s keep-alive closes them under those clients' feet ("connection reset"), which the
# gateway would have to report as 503. Keep idle connections longer than a client keeps them.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
graceful_timeout = 10
accesslog = "-" if os.environ.get("MALL_ACCESS_LOG") else None
