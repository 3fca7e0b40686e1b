"""`mall-replay <service> [--since TIME]`: feed a service's read model from the event archive,
through the same handlers and inbox its worker uses, so an event it has already handled changes
nothing. To rebuild a read model from scratch: empty its database (drop it and `mall-migrate
<service>`), then replay from the start while its worker keeps consuming live events (the inbox
lets both see the same event and count it once)."""
from __future__ import annotations

import argparse
import importlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from . import archive
from .config import Settings
from .consumer import Handler, deliver
from .db import Database
from .events import InvalidEvent

log = logging.getLogger(__name__)


@dataclass
class Replayed:
    read: int = 0
    handled: int = 0
    duplicates: int = 0
    skipped: int = 0  # types the service does not handle
    failed: int = 0

    def __str__(self) -> str:
        return (f"{self.read} events read, {self.handled} handled, {self.duplicates} already handled, "
                f"{self.skipped} not subscribed, {self.failed} failed")


def replay(db: Database, settings: Settings, handlers: dict[str, Handler], since: datetime | None = None,
           idle: float = 1.0) -> Replayed:
    """Deliver every archived event (from `since`) of the types `handlers` takes, in archive order."""
    done = Replayed()
    for env in archive.read(settings, since, idle):
        done.read += 1
        if env.get("type") not in handlers:
            done.skipped += 1
            continue
        try:
            if deliver(db, handlers, env):
                done.handled += 1
            else:
                done.duplicates += 1
        except InvalidEvent as exc:
            log.error("archived event %s is not valid: %s", env.get("id"), exc)
            done.failed += 1
        except Exception:
            log.exception("replaying %s %s failed", env.get("type"), env.get("id"))
            done.failed += 1
    return done


def _since(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Feed a service's read model from the event archive.")
    parser.add_argument("service", help="the service whose handlers consume the events (e.g. reports)")
    parser.add_argument("--since", type=_since, help="ISO time of the first event to replay (default: the start)")
    parser.add_argument("--idle", type=float, default=1.0,
                        help="stop once the RabbitMQ stream has had nothing new for this many seconds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        handlers = importlib.import_module(f"{args.service}.handlers").HANDLERS
        metadata = importlib.import_module(f"{args.service}.models").Base.metadata
    except ModuleNotFoundError as exc:
        parser.error(f"unknown service {args.service!r} ({exc})")
    settings = Settings.load(args.service)
    db = Database(args.service, settings.database_url, metadata)
    try:
        done = replay(db, settings, handlers, args.since, args.idle)
    finally:
        db.dispose()
    print(f"{args.service}: {done}")
    return 1 if done.failed else 0
