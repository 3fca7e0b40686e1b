"""The whole platform as real processes (gunicorn web, workers, gateway) on real PostgreSQL
(a fresh database per service) and real RabbitMQ (a fresh vhost), for end-to-end tests."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from mall_shared.auth import generate_keypair
from mall_shared.config import SERVICES, Settings, broker_options
from mall_shared.outbox import connection
from mall_shared.testing import create_database, create_vhost, delete_vhost, drop_database, free_port

BIN = Path(sys.executable).parent



@contextmanager
def running(workdir: Path, **kwargs) -> Iterator[Platform]:
    """A started platform (see Platform's arguments), stopped and cleaned up afterwards."""
    p = Platform(workdir, **kwargs)
    try:
        yield p.start()
    finally:
        p.stop()


class Platform:
    def __init__(self, workdir: Path, extra_env: dict | None = None, workers: dict | None = None,
                 embedded: bool = False, web: bool = False, broker_url: str | None = None,
                 database_admin_url: str | None = None):
        """embedded: SQLite files and the filesystem bus, as `make run` uses (else PostgreSQL and RabbitMQ).
        web: also start the web app (storefront and admin console), served by the gateway at `/`.
        broker_url / database_admin_url: servers of the caller's own (the chaos tests restart them)."""
        self.given_broker_url = broker_url
        self.database_admin_url = database_admin_url
        self.workdir = workdir
        self.embedded = embedded
        self.extra_env = extra_env or {}
        self.worker_copies = {s: 1 for s in SERVICES} | (workers or {})
        self.procs: dict[str, subprocess.Popen] = {}
        self.worker_ports: dict[str, int] = {}  # worker name → its /metrics and /healthz port
        self.databases: dict[str, str] = {}
        self.broker_url = ""
        self.ports = {s: free_port() for s in SERVICES}
        self.gateway_port = free_port()
        self.web = web
        self.web_port = free_port()
        self.gateway = f"http://127.0.0.1:{self.gateway_port}"
        self.admin = ("admin@e2e.mall", "admin-pass-2026")

    @property
    def env(self) -> dict:
        keys = self.workdir / "keys"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MALL_", "CATALOG_", "ORDER_", "PAYMENT_",
                                                                          "CRM_", "LOGISTICS_", "REPORTS_"))}
        env.update({
            "PATH": f"{BIN}:{env.get('PATH', '')}",
            "MALL_DATA_DIR": str(self.workdir / "data"),
            "MALL_BROKER_URL": self.broker_url,
            "MALL_SANDBOX": "1",
            "MALL_JWT_PUBLIC_KEY_FILE": str(keys / "jwt_public.pem"),
            "CRM_JWT_PRIVATE_KEY_FILE": str(keys / "jwt_private.pem"),
            "MALL_ADMIN_EMAIL": self.admin[0],
            "MALL_ADMIN_PASSWORD": self.admin[1],
            "MALL_GATEWAY_PORT": str(self.gateway_port),
            "MALL_GATEWAY_RATE_LIMIT": "100000 per minute",
            "MALL_GATEWAY_LOGIN_RATE_LIMIT": "10000 per minute",
            "MALL_GATEWAY_REGISTER_RATE_LIMIT": "100000 per hour",
            # Load tests place many unpaid orders per customer; the caps have their own tests.
            "ORDER_MAX_UNPAID_ORDERS": "100000",
            "ORDER_MAX_UNPAID_PER_SKU": "100000",
            "WEB_CONCURRENCY": "1",
            "GUNICORN_THREADS": "16",
            "WEB_URL": f"http://127.0.0.1:{self.web_port}",
            "MALL_WEB_API_URL": self.gateway,
            "CATALOG_VIEWS_FLUSH_INTERVAL": "0.5",  # product views reach the reports within a test
        })
        for s in SERVICES:
            env[f"{s.upper()}_DATABASE_URL"] = self.databases[s]
            env[f"{s.upper()}_URL"] = f"http://127.0.0.1:{self.ports[s]}"
        for key, value in self.extra_env.items():  # None removes a default (e.g. the benchmarks' tuning)
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def start(self) -> Platform:
        generate_keypair(self.workdir / "keys" / "jwt_private.pem", self.workdir / "keys" / "jwt_public.pem")
        (self.workdir / "logs").mkdir(exist_ok=True)
        if self.embedded:
            self.broker_url = f"filesystem://{self.workdir / 'bus'}"
            self.databases = {s: f"sqlite:///{self.workdir / (s + '.db')}" for s in SERVICES}
        else:
            self.broker_url = self.given_broker_url or create_vhost("e2e")
            self.databases = {s: create_database(f"e2e_{s}", self.database_admin_url) for s in SERVICES}
        subprocess.run([str(BIN / "mall-migrate")], env=self.env, check=True, capture_output=True)
        for s in SERVICES:
            self._spawn(s, ["gunicorn", "-c", "python:mall_shared.gunicorn_conf", "--bind",
                            f"127.0.0.1:{self.ports[s]}", f"{s}.app:create_app()"])
            for i in range(self.worker_copies[s]):
                self._spawn_worker(f"{s}-worker-{i}", s)
        self._spawn("gateway", ["gunicorn", "-c", "python:mall_shared.gunicorn_conf", "--bind",
                                f"127.0.0.1:{self.gateway_port}", "gateway.app:create_app()"])
        if self.web:
            self._spawn("web", ["gunicorn", "-c", "python:mall_shared.gunicorn_conf", "--bind",
                                f"127.0.0.1:{self.web_port}", "web.app:create_app()"])
        try:
            self.wait_ready()
        except BaseException:
            self.stop()  # never leave half a platform running
            raise
        return self

    def add_worker(self, service: str) -> str:
        """Start one more worker of a service, competing for the same queue."""
        name = f"{service}-worker-{self.worker_copies[service]}"
        self.worker_copies[service] += 1
        self._spawn_worker(name, service)
        return name

    def _spawn_worker(self, name: str, service: str) -> None:
        self.worker_ports[name] = free_port()
        self._spawn(name, [f"{service}-worker"], MALL_WORKER_PORT=str(self.worker_ports[name]))

    def _spawn(self, name: str, argv: list[str], **env: str) -> None:
        log = open(self.workdir / "logs" / f"{name}.log", "wb")
        self.procs[name] = subprocess.Popen(argv, env=self.env | env, stdout=log, stderr=subprocess.STDOUT,
                                            cwd=self.workdir)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead:
                raise RuntimeError(f"processes exited: {dead}\n{self.logs(dead)}")
            # Ready: the gateway sees every service ready, and every worker answers on its own port.
            urls = [self.gateway + "/readyz", *(f"http://127.0.0.1:{p}/healthz" for p in self.worker_ports.values())]
            try:
                web_ok = not self.web or requests.get(f"http://127.0.0.1:{self.web_port}/healthz", timeout=2).ok
                if all(requests.get(url, timeout=2).status_code == 200 for url in urls) and web_ok and \
                        self._queues_bound():
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"platform not ready in {timeout}s\n{self.logs()}")

    def _queues_bound(self) -> bool:
        """Every worker has declared its queue: an event published before that would pass it by."""
        settings = Settings(service="harness", database_url="", broker_url=self.broker_url,
                            broker_options=broker_options(self.broker_url, self.workdir))
        with connection(settings) as conn:
            for s in SERVICES:
                try:
                    conn.channel().queue_declare(queue=f"{s}.events", passive=True)
                except Exception:  # not declared yet (RabbitMQ closes the channel; kombu raises)
                    return False
        return True

    def logs(self, names=None, tail: int = 40) -> str:
        out = []
        for name in names or self.procs:
            path = self.workdir / "logs" / f"{name}.log"
            if path.exists():
                lines = path.read_text(errors="replace").splitlines()[-tail:]
                out.append(f"--- {name} ---\n" + "\n".join(lines))
        return "\n".join(out)

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if not self.embedded:
            for url in self.databases.values():
                drop_database(url, self.database_admin_url)
            if self.broker_url and not self.given_broker_url:
                delete_vhost(self.broker_url)
        shutil.rmtree(self.workdir / "data", ignore_errors=True)
