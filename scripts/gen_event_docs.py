"""Write the event catalog from the code: docs/events/<Type>.json (JSON Schema of each event's
`data`) and docs/asyncapi.json (the bus as an AsyncAPI 2.6 document). `make docs`; a test
fails when the committed files differ from what this writes."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from mall_shared.events import EVENT_TYPES, EXCHANGE, json_schema

DOCS = Path(__file__).resolve().parents[1] / "docs"

ENVELOPE = {
    "type": "object",
    "required": ["specversion", "id", "source", "type", "time", "datacontenttype", "correlationid", "data"],
    "properties": {
        "specversion": {"const": "1.0"},
        "id": {"type": "string", "format": "uuid"},
        "source": {"type": "string", "pattern": "^mall/[a-z]+$"},
        "type": {"type": "string"},
        "time": {"type": "string", "format": "date-time"},
        "datacontenttype": {"const": "application/json"},
        "correlationid": {"type": "string", "description": "The order id (or request id) that started the chain"},
        "traceparent": {"type": "string", "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                        "description": "CloudEvents distributed-tracing extension: the W3C trace context of "
                                       "the work that recorded the event (present when tracing is on)"},
        "tracestate": {"type": "string", "description": "W3C tracestate, with traceparent, when there is one"},
    },
}


def documents() -> dict[str, str]:
    files = {}
    channels = {}
    for name in sorted(EVENT_TYPES):
        schema = json_schema(name)
        files[f"events/{name}.json"] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
        channels[name] = {
            "description": f"Routing key {name} on the topic exchange {EXCHANGE}.",
            "bindings": {"amqp": {"is": "routingKey", "exchange": {"name": EXCHANGE, "type": "topic",
                                                                   "durable": True, "vhost": "/"}}},
            "subscribe": {"message": {"name": name, "contentType": "application/cloudevents+json",
                                      "payload": {**ENVELOPE, "properties": {
                                          **ENVELOPE["properties"], "type": {"const": name},
                                          "data": {"$ref": f"events/{name}.json"}}}}},
        }
    asyncapi = {
        "asyncapi": "2.6.0",
        "info": {"title": "mall event bus", "version": "1.0.0",
                 "description": "Every fact the mall services publish. Bind your own durable queue to "
                                f"the topic exchange {EXCHANGE} with the event types you want as routing keys."},
        "defaultContentType": "application/cloudevents+json",
        "servers": {"rabbitmq": {"url": "amqp://localhost:5672", "protocol": "amqp", "protocolVersion": "0-9-1"}},
        "channels": channels,
    }
    files["asyncapi.json"] = json.dumps(asyncapi, indent=2, ensure_ascii=False) + "\n"
    return files


def main() -> None:
    check = "--check" in sys.argv
    stale = []
    for rel, text in documents().items():
        path = DOCS / rel
        if path.exists() and path.read_text() == text:
            continue
        stale.append(rel)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if check and stale:
        sys.exit(f"out of date (run make docs): {', '.join(stale)}")
    print(f"{'checked' if check else 'wrote'} {len(documents())} files under docs/")


if __name__ == "__main__":
    main()
