"""Helpers for the tests of every service: real backends, fresh databases, tokens, waiting.

Backends, in this order: the URLs in MALL_TEST_DATABASE_URL / MALL_TEST_BROKER_URL; else the
servers on this machine's default ports; else throwaway containers where Docker works.
Tests never skip a backend: without one they fail and say which variable to set.
"""
from __future__ import annotations

import functools
import json
import os
import random
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import jwt
from sqlalchemy import create_engine, text

from .auth import AUDIENCE, ISSUER, generate_keypair

T = TypeVar("T")


_given: set[int] = set()


def free_port() -> int:
    """A port nothing listens on, for a process a test starts.

    Taken below the kernel's ephemeral range (ip_local_port_range), so that no outgoing
    connection opened between this answer and the server's bind can hold it: asking the kernel
    for port 0 gives an ephemeral port, and under load some client socket took one such port
    before the worker bound it (CI: "Address already in use")."""
    low = 10000
    try:
        high = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0]) - 1
    except (OSError, ValueError, IndexError):
        high = 32767
    for _ in range(200):
        port = random.randint(low, max(low, high))
        if port in _given:
            continue  # free now, but promised to a process that has not bound it yet
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            _given.add(port)
            return port
    raise RuntimeError(f"no free port between {low} and {high}")


def eventually(check: Callable[[], T], timeout: float = 20.0, interval: float = 0.05) -> T:
    """Call `check` until it returns a truthy value without raising; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        try:
            result = check()
            if result:
                return result
            last = AssertionError(f"{getattr(check, '__name__', 'check')} returned {result!r}")
        except AssertionError as exc:
            last = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {last}") from last
        time.sleep(interval)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


_containers: list = []  # kept alive for the whole test session


@functools.cache
def postgres_admin_url() -> str:
    url = os.environ.get("MALL_TEST_DATABASE_URL")
    if url:
        return url
    if _port_open("127.0.0.1", 5432):
        return "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    try:
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:16-alpine", driver="psycopg").start()
        _containers.append(container)
        return container.get_connection_url()
    except Exception as exc:
        raise RuntimeError("No PostgreSQL for the tests: set MALL_TEST_DATABASE_URL "
                           "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres) or run Docker") from exc


@functools.cache
def broker_admin_url() -> str:
    url = os.environ.get("MALL_TEST_BROKER_URL")
    if url:
        return url
    if _port_open("127.0.0.1", 5672):
        return "amqp://guest:guest@127.0.0.1:5672//"
    try:
        from testcontainers.rabbitmq import RabbitMqContainer

        container = RabbitMqContainer("rabbitmq:3.13-management").start()
        _containers.append(container)
        params = container.get_connection_params()
        return f"amqp://guest:guest@{params.host}:{params.port}//"
    except Exception as exc:
        raise RuntimeError("No RabbitMQ for the tests: set MALL_TEST_BROKER_URL "
                           "(e.g. amqp://guest:guest@127.0.0.1:5672//) or run Docker") from exc


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def create_database(prefix: str, admin_url: str | None = None) -> str:
    """A fresh, empty PostgreSQL database (on the test server, or the one of `admin_url`); its URL."""
    admin_url = admin_url or postgres_admin_url()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return _with_database(admin_url, name)


def drop_database(url: str, admin_url: str | None = None) -> None:
    name = urlsplit(url).path.lstrip("/")
    engine = create_engine(admin_url or postgres_admin_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def create_vhost(prefix: str) -> str:
    """A fresh RabbitMQ virtual host (so exchange and queue names cannot meet another run's)."""
    base = broker_admin_url()
    parts = urlsplit(base)
    if parts.hostname not in ("127.0.0.1", "localhost") or not shutil.which("rabbitmqctl"):
        return base  # a container of our own, or a broker we cannot administer: use it as given
    vhost = f"{prefix}_{uuid.uuid4().hex[:10]}"
    user = parts.username or "guest"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"],
                   check=True, capture_output=True)
    return urlunsplit(parts._replace(path="/" + quote(vhost, safe="")))


def delete_vhost(url: str) -> None:
    vhost = urlsplit(url).path.lstrip("/")
    if vhost and vhost != "/" and shutil.which("rabbitmqctl"):
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)


class Keys:
    """A key pair standing in for crm's, so tests can act as any user."""

    def __init__(self, folder: Path):
        self.private_file = folder / "jwt_private.pem"
        self.public_file = folder / "jwt_public.pem"
        if not self.private_file.exists():
            generate_keypair(self.private_file, self.public_file)
        self.private = self.private_file.read_text()
        self.public = self.public_file.read_text()

    def token(self, sub: str | None = None, role: str = "customer", ttl: int = 900, **claims) -> str:
        now = datetime.now(UTC)
        payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub or str(uuid.uuid4()), "role": role,
                   "typ": "access", "iat": now, "exp": now + timedelta(seconds=ttl), **claims}
        return jwt.encode(payload, self.private, algorithm="RS256")

    def headers(self, sub: str | None = None, role: str = "customer") -> dict:
        return {"Authorization": f"Bearer {self.token(sub, role)}"}


@contextmanager
def migrated_database(service: str) -> Iterator[str]:
    """A fresh PostgreSQL database at the service's newest schema, dropped afterwards."""
    from .migrate import upgrade

    url = create_database(f"test_{service}")
    try:
        upgrade(service, url)
        yield url
    finally:
        drop_database(url)


def outbox_events(db, correlation: str | None = None) -> list[dict]:
    """The envelopes a service wrote to its outbox, oldest first (optionally one chain only)."""
    from sqlalchemy import select

    with db.engine.connect() as conn:
        rows = conn.execute(select(db.outbox.c.envelope).order_by(db.outbox.c.id)).scalars()
        envs = [json.loads(r) for r in rows]
    return [e for e in envs if correlation is None or e["correlationid"] == correlation]


def race(db, first: Callable[[], T], second: Callable[[], T], parked_at) -> tuple[T, T]:
    """Force one interleaving of two workers on PostgreSQL, not by luck: the test holds the row
    locks of `parked_at` (a SELECT … FOR UPDATE); `first` runs until it waits there, then `second`
    runs to its end (or until it waits too, for `first`); then the test lets go. Both results."""
    with ThreadPoolExecutor(2) as pool:
        with _holding(db, parked_at):
            one = pool.submit(first)
            eventually(lambda: one.done() or _waiting_for_locks(db) == 1)
            if one.done():
                raise AssertionError(f"the first worker never reached the held row: {one.result()!r}")
            two = pool.submit(second)
            eventually(lambda: two.done() or _waiting_for_locks(db) == 2)
        return one.result(timeout=60), two.result(timeout=60)


@contextmanager
def _holding(db, statement) -> Iterator[None]:
    with db.engine.connect() as conn:
        conn.execute(statement).all()
        yield  # the connection goes back to the pool rolled back: the locks are released


def _waiting_for_locks(db) -> int:
    """How many sessions of `db`'s database wait for a lock (row or advisory) right now."""
    with db.engine.connect() as conn:
        return conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                "AND wait_event_type = 'Lock'"))
