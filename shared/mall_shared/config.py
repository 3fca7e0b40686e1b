"""Configuration from the environment: one place for every setting a service reads.

The names are part of the public contract (docs/design.md, "Contract details").
Nothing here connects to anything; `Settings.load()` only reads variables.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("catalog", "order", "payment", "crm", "logistics", "reports")
DEFAULT_PORTS = {"catalog": 8001, "order": 8002, "payment": 8003, "crm": 8004, "logistics": 8005,
                 "reports": 8006}


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value in {"1", "true", "yes", "on"}


def data_dir() -> Path:
    """Where the embedded default keeps its SQLite files, bus folder and dev keys."""
    return Path(_env("MALL_DATA_DIR", "var")).resolve()


def service_url(service: str) -> str:
    """Base URL at which a service's web process answers (the gateway and callers use it)."""
    return _env(f"{service.upper()}_URL", f"http://127.0.0.1:{DEFAULT_PORTS[service]}").rstrip("/")


@dataclass(frozen=True)
class Settings:
    service: str
    database_url: str
    broker_url: str
    broker_options: dict = field(default_factory=dict)
    jwt_public_key_file: Path = Path()
    sandbox: bool = False
    # A transient failure's retries (seconds after each failure; ~12.6 min in all) before its
    # message goes to the dead-letter queue. A permanent failure goes there at once.
    retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0, 600.0)
    # The relay's fallback poll (seconds); a commit that emitted wakes it at once (see outbox.py).
    relay_interval: float = 0.1

    @classmethod
    def load(cls, service: str) -> Settings:
        base = data_dir()
        broker_url = _env("MALL_BROKER_URL", "filesystem://")
        database_url = _env(f"{service.upper()}_DATABASE_URL", f"sqlite:///{base / (service + '.db')}")
        return cls(
            service=service,
            database_url=database_url,
            broker_url=broker_url,
            broker_options=broker_options(broker_url, base),
            jwt_public_key_file=Path(_env("MALL_JWT_PUBLIC_KEY_FILE", str(base / "keys" / "jwt_public.pem"))),
            sandbox=flag("MALL_SANDBOX"),
            retry_delays=tuple(float(x) for x in _env("MALL_RETRY_DELAYS", "1,5,30,120,600").split(",")),
            # PostgreSQL's NOTIFY wakes the relay at every commit: polling is only the fallback there.
            relay_interval=float(_env("MALL_RELAY_INTERVAL", "1" if database_url.startswith("postgresql") else "0.1")),
        )

    def jwt_public_key(self) -> str:
        inline = os.environ.get("MALL_JWT_PUBLIC_KEY", "").strip()
        return inline or self.jwt_public_key_file.read_text()


def broker_options(broker_url: str, base: Path) -> dict:
    """kombu transport options: publisher confirms on AMQP, a shared folder on the embedded bus."""
    if broker_url.startswith("filesystem:"):
        # filesystem:///some/dir names the folder; bare filesystem:// uses MALL_DATA_DIR/bus.
        path = broker_url.split("://", 1)[1]
        folder = Path(path) if path else base / "bus"
        return {
            "data_folder_in": str(folder / "messages"),
            "data_folder_out": str(folder / "messages"),
            "control_folder": str(folder / "control"),
            "polling_interval": 0.05,
        }
    return {"confirm_publish": True}
