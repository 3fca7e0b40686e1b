"""The embedded bus is at-least-once: what a killed process fetched and never acked is delivered
again, a requeued message goes back to its own queue only, and an acked one is gone."""
import os
import signal
import subprocess
import sys
import textwrap

from kombu import Exchange, Queue

from mall_shared.config import Settings, broker_options
from mall_shared.outbox import connection

exchange = Exchange("mall.events", type="topic", durable=True)


def settings(tmp_path) -> Settings:
    url = f"filesystem://{tmp_path}"
    return Settings(service="probe", database_url="", broker_url=url, broker_options=broker_options(url, None))


def publish(s: Settings, queues: list[str], count: int) -> None:
    with connection(s) as conn:
        channel = conn.channel()
        for name in queues:
            Queue(name, exchange, routing_key="OrderPlaced", durable=True)(channel).declare()
        producer = conn.Producer(channel)
        for i in range(count):
            producer.publish({"n": i}, exchange=exchange, routing_key="OrderPlaced", serializer="json")


def drain(s: Settings, queue: str) -> list[int]:
    got = []
    with connection(s) as conn:
        bound = Queue(queue, exchange, routing_key="OrderPlaced", durable=True)(conn.channel())
        while (message := bound.get(no_ack=False)) is not None:
            got.append(message.payload["n"])
            message.ack()
    return sorted(got)


def test_what_a_killed_consumer_fetched_and_never_acked_is_delivered_again(tmp_path):
    s = settings(tmp_path)
    publish(s, ["probe.events"], 10)
    fetcher = textwrap.dedent(f"""
        import os, signal, sys
        from kombu import Queue
        from mall_shared.config import Settings, broker_options
        from mall_shared.outbox import connection
        url = {s.broker_url!r}
        s = Settings(service="probe", database_url="", broker_url=url, broker_options=broker_options(url, None))
        with connection(s) as conn:
            queue = Queue("probe.events", durable=True)(conn.channel())
            fetched = [queue.get(no_ack=False) for _ in range(4)]  # a prefetch, being handled...
            fetched[0].ack()                                       # ...one done
            print("acked", fetched[0].payload["n"], flush=True)
            os.kill(os.getpid(), signal.SIGKILL)                   # kill -9 before the others
    """)
    proc = subprocess.run([sys.executable, "-c", fetcher], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL and "acked" in proc.stdout
    acked = int(proc.stdout.split()[-1])
    assert drain(s, "probe.events") == [n for n in range(10) if n != acked]  # all but the acked one


def test_a_requeued_message_goes_back_to_its_own_queue_only(tmp_path):
    s = settings(tmp_path)
    publish(s, ["probe.events", "other.events"], 1)
    with connection(s) as conn:
        message = Queue("probe.events", durable=True)(conn.channel()).get(no_ack=False)
        message.requeue()
    assert drain(s, "probe.events") == [0] and drain(s, "other.events") == [0]


def test_a_channel_closed_with_unacked_messages_puts_them_back_and_acked_ones_are_gone(tmp_path):
    s = settings(tmp_path)
    publish(s, ["probe.events"], 3)
    with connection(s) as conn:
        queue = Queue("probe.events", durable=True)(conn.channel())
        first, _second = queue.get(no_ack=False), queue.get(no_ack=False)
        first.ack()
    assert drain(s, "probe.events") == [n for n in range(3) if n != first.payload["n"]]
    assert not any((tmp_path / "unacked" / str(os.getpid())).iterdir())
