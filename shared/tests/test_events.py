"""The CloudEvents envelope and the event contract."""
import pytest

from mall_shared.events import (
    EVENT_TYPES,
    InvalidEvent,
    Line,
    OrderPlaced,
    correlation_id,
    envelope,
    json_schema,
    parse,
)


def test_the_envelope_carries_the_cloudevents_attributes_and_the_correlation_id():
    env = envelope(OrderPlaced(order_id="o1", customer_id="c1", lines=[Line("s", 2, 100)], total=200), "order")
    assert {k: env[k] for k in ("specversion", "source", "type", "datacontenttype", "correlationid")} == {
        "specversion": "1.0", "source": "mall/order", "type": "OrderPlaced",
        "datacontenttype": "application/json", "correlationid": "o1"}
    assert env["time"].endswith("Z") and len(env["id"]) == 36


def test_an_event_without_an_order_takes_the_current_correlation_id():
    from mall_shared.events import CustomerRegistered

    token = correlation_id.set("req-9")
    try:
        assert envelope(CustomerRegistered(customer_id="c", name="n"), "crm")["correlationid"] == "req-9"
    finally:
        correlation_id.reset(token)


def test_parsing_returns_the_typed_event():
    env = envelope(OrderPlaced(order_id="o1", customer_id="c1", lines=[Line("s", 2, 100)], total=200), "order")
    _, evt = parse(env)
    assert evt.lines[0] == Line("s", 2, 100)


@pytest.mark.parametrize("body", [b"not json", b'{"type": "Nope", "specversion": "1.0", "id": "x", "data": {}}',
                                  b'{"type": "OrderPlaced", "specversion": "1.0", "id": "x", "data": {"total": "x"}}'])
def test_a_malformed_message_is_an_invalid_event(body):
    with pytest.raises(InvalidEvent):
        parse(body)


def test_money_fields_are_integers_in_every_schema():
    for name in EVENT_TYPES:
        props = json_schema(name)["properties"]
        for field in ("amount", "total"):
            if field in props:
                assert props[field]["type"] == "integer", (name, field)
