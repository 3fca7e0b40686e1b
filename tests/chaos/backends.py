"""Private PostgreSQL and RabbitMQ servers for the chaos tests, on free ports in a temp folder:
the tests stop and restart them, so they must never be the machine's shared ones."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

from mall_shared.testing import free_port


def _wait_port(port: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not open port {port} within {timeout}s")


def _as(user: str, command: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a shell command as `user` (initdb and RabbitMQ refuse to run as root)."""
    argv = ["sh", "-c", command] if os.geteuid() != 0 else ["su", user, "-s", "/bin/sh", "-c", command]
    return subprocess.run(argv, env={**os.environ, **(env or {})}, capture_output=True, text=True, check=True)


class PrivatePostgres:
    def __init__(self, folder: Path):
        self.folder = folder
        self.data = folder / "pgdata"
        self.port = free_port()
        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> PrivatePostgres:
        if not self.data.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            shutil.chown(self.folder, "postgres") if os.geteuid() == 0 else None
            _as("postgres", f"{self.bin}/initdb --no-sync -A trust -U postgres -D {self.data}")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
        _as("postgres", f"{self.bin}/pg_ctl -s -w -D {self.data} -l {self.folder}/pg.log -o '{options}' start")
        _wait_port(self.port, 30, "PostgreSQL")
        return self

    def stop(self, mode: str = "fast") -> None:
        _as("postgres", f"{self.bin}/pg_ctl -s -w -D {self.data} -m {mode} stop")

    def restart(self) -> None:
        self.stop("immediate")  # as a crash would: no shutdown checkpoint
        self.start()


class PrivateRabbit:
    def __init__(self, folder: Path):
        self.folder = folder
        self.port, self.dist_port = free_port(), free_port()
        self.node = f"mallchaos{uuid.uuid4().hex[:8]}@localhost"
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"  # the default vhost, as kombu and pika read it
        self.env = {"RABBITMQ_NODENAME": self.node, "RABBITMQ_NODE_PORT": str(self.port),
                    "RABBITMQ_DIST_PORT": str(self.dist_port), "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"),
                    "RABBITMQ_LOG_BASE": str(folder / "log"), "RABBITMQ_CONFIG_FILE": str(folder / "rabbitmq.conf"),
                    "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "enabled_plugins"),
                    "RABBITMQ_PID_FILE": str(folder / "rabbit.pid")}

    def start(self) -> PrivateRabbit:
        if not self.folder.exists():
            self.folder.mkdir(parents=True)
            (self.folder / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
            (self.folder / "enabled_plugins").write_text("[].\n")
            if os.geteuid() == 0:
                shutil.chown(self.folder, "rabbitmq")
                for path in self.folder.iterdir():
                    shutil.chown(path, "rabbitmq")
        _as("rabbitmq", "/usr/lib/rabbitmq/bin/rabbitmq-server -detached", self.env)
        _wait_port(self.port, 60, "RabbitMQ")
        return self

    def ctl(self, *args: str) -> str:
        command = "/usr/lib/rabbitmq/bin/rabbitmqctl -q -n " + self.node + " " + " ".join(args)
        return _as("rabbitmq", command, self.env).stdout

    def messages(self) -> dict[str, int]:
        """Each queue's messages, ready or in a consumer's hands (unacked), by queue name."""
        listing = self.ctl("list_queues", "--no-table-headers", "name", "messages")
        return {name: int(count) for name, count in (line.split("\t") for line in listing.splitlines())}

    def stop(self) -> None:
        self.ctl("stop")

    def restart(self) -> None:
        self.stop()
        self.start()
