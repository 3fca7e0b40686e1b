"""mall-dlq: the dead letters of a service's queue, for ops.

    mall-dlq list    <service>                      one line per dead letter
    mall-dlq show    <service> <event-id>           its envelope and headers
    mall-dlq replay  <service> (<event-id>… | --all) back to the original queue, retries reset
    mall-dlq purge   <service> (<event-id>… | --all) drop them

It reaches the broker of MALL_BROKER_URL (the embedded bus by default), like the service's
worker. Messages are taken unacknowledged and only the chosen ones are acked (moved or
dropped); the rest return to the dead-letter queue when the command ends. A message that is
not a readable event is named by its position (`#3`).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from kombu import Producer

from .config import SERVICES, Settings
from .outbox import connection
from .retry import Retry


def _name(message, position: int) -> str:
    try:
        return json.loads(message.body)["id"]
    except (ValueError, KeyError, TypeError):
        return f"#{position}"


@contextmanager
def dead_letters(service: str) -> Iterator[tuple[Retry, Producer, list[tuple[str, object]]]]:
    """Every dead letter of `service`, unacked, by name; those not acked go back when it ends."""
    settings = Settings.load(service)
    retry = Retry(service, f"{service}.events", settings.retry_delays,
                  embedded=settings.broker_url.startswith("filesystem"))
    with connection(settings) as conn:
        channel = conn.channel()
        retry.declare(channel)
        queue = retry.dead_queue(channel)
        messages = []
        while (message := queue.get(no_ack=False)) is not None:
            messages.append((_name(message, len(messages) + 1), message))
        try:
            yield retry, Producer(channel), messages
        finally:
            for _, message in messages:
                if not message.acknowledged:
                    message.requeue()
            channel.close()


def _when(headers: dict) -> str:
    at = headers.get("x-dead-at")
    return datetime.fromtimestamp(float(at), UTC).isoformat(timespec="seconds") if at else "?"


def _chosen(messages, names: list[str], everything: bool):
    unknown = set(names) - {name for name, _ in messages}
    if unknown:
        raise SystemExit(f"no dead letter named {', '.join(sorted(unknown))}")
    return [(n, m) for n, m in messages if everything or n in names]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="mall-dlq", description="List, show, replay or purge dead letters.")
    parser.add_argument("command", choices=["list", "show", "replay", "purge"])
    parser.add_argument("service", help=f"whose dead letters: {', '.join(SERVICES)}, …")
    parser.add_argument("ids", nargs="*", help="event ids (or #N for an unreadable message)")
    parser.add_argument("--all", action="store_true", help="replay or purge every dead letter")
    args = parser.parse_args(argv)
    if args.command in ("replay", "purge") and not (args.ids or args.all):
        parser.error(f"{args.command} needs event ids or --all")
    if args.command == "show" and len(args.ids) != 1:
        parser.error("show needs one event id")
    out = sys.stdout
    with dead_letters(args.service) as (retry, producer, messages):
        if args.command == "list":
            for name, m in messages:
                h = m.headers or {}
                fields = (name, _type(m), _when(h), h.get("x-original-queue", "?"), h.get("x-dead-reason", ""))
                out.write("\t".join(fields) + "\n")
            out.write(f"{len(messages)} dead letter(s) in {retry.dead_queue.name}\n")
        elif args.command == "show":
            for name, m in _chosen(messages, args.ids, False):
                out.write(json.dumps({"name": name, "headers": m.headers, "body": _body(m)}, indent=2,
                                     ensure_ascii=False, default=str) + "\n")
        else:
            chosen = _chosen(messages, args.ids, args.all)
            for _, m in chosen:
                if args.command == "replay":
                    headers = {k: v for k, v in (m.headers or {}).items()
                               if not k.startswith(("x-dead", "x-retry", "x-last-error", "x-death"))}
                    producer.publish(m.body, exchange=retry.exchange, routing_key="back", headers=headers,
                                     content_type=m.content_type, content_encoding=m.content_encoding,
                                     delivery_mode=2)
                m.ack()
            verb = "replayed to " + retry.queue_name if args.command == "replay" else "purged"
            out.write(f"{len(chosen)} dead letter(s) {verb}\n")


def _body(message):
    try:
        return json.loads(message.body)
    except ValueError:
        return message.body.decode("utf-8", "replace") if isinstance(message.body, bytes) else message.body


def _type(message) -> str:
    body = _body(message)
    return body.get("type", "?") if isinstance(body, dict) else "?"
