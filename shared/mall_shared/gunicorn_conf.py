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

# ---- observability: multiprocess metrics, JSON logs (access log included), trace flushing ----
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

# prometheus_client's multiprocess mode: each gunicorn process writes its values to files in this
# folder and /metrics sums them. One folder per gunicorn instance, emptied when it starts. Set
# before anything imports prometheus_client, which reads it on import.
_own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="mall-prometheus-")

from mall_shared import logs  # noqa: E402

# Access log on unless MALL_ACCESS_LOG=0; every line JSON (docs/design.md, "Operations").
logconfig_dict = logs.gunicorn_logconfig(os.environ.get("MALL_SERVICE") or logs.service_from_argv(sys.argv))
if os.environ.get("MALL_ACCESS_LOG", "1").lower() in {"0", "false", "no", "off"}:
    logconfig_dict["loggers"]["gunicorn.access"]["level"] = "WARNING"
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'


def on_starting(server):
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)


def on_exit(server):
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def worker_exit(server, worker):
    from mall_shared import tracing

    tracing.shutdown()
