"""kombu's filesystem transport, at-least-once: the embedded bus `make run` uses.

kombu's own transport deletes a message file the moment a consumer fetches it, so a worker
killed with -9 loses what it had fetched but not yet handled (up to its prefetch). Here a fetch
moves the file into `unacked/<pid>/` instead; the ack deletes it; a requeue, or the channel
closing with it unacked, moves it back to its queue (the file name says which queue, so it goes
back to that queue alone, not to every queue bound to its routing key as kombu's `_restore`
would); and a process that died with files in its folder has them moved back by the next
channel that opens, so they are delivered again (consumers deduplicate with their inbox).
"""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from queue import Empty

from kombu.transport import filesystem, virtual
from kombu.utils.json import loads

log = logging.getLogger(__name__)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Channel(filesystem.Channel):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._inflight: dict[str, Path] = {}  # delivery tag → the fetched file
        self._mine = self._unacked_root / str(os.getpid())
        self._mine.mkdir(parents=True, exist_ok=True)
        self.recover()

    @property
    def _unacked_root(self) -> Path:
        return Path(self.data_folder_in).parent / "unacked"

    def recover(self) -> int:
        """Move back what processes that are gone had fetched and never acked."""
        moved = 0
        for folder in self._unacked_root.iterdir():
            if not folder.name.isdigit() or _alive(int(folder.name)):
                continue
            for path in folder.iterdir():
                try:
                    path.rename(Path(self.data_folder_in) / path.name)
                    moved += 1
                except OSError:
                    pass  # another process recovered it first
            try:
                folder.rmdir()
            except OSError:
                pass
        if moved:
            log.warning("embedded bus: %d unacked message(s) of stopped processes delivered again", moved)
        return moved

    def _get(self, queue):
        """The next message of `queue`, its file kept (moved aside) until it is acked."""
        suffix = f"{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != suffix:
                continue
            held = self._mine / name
            try:
                os.rename(os.path.join(self.data_folder_in, name), held)
            except OSError:
                continue  # another consumer took it
            payload = self._read(held)
            if payload is None:  # still empty after a second: back to the queue, for later
                held.rename(Path(self.data_folder_in) / name)
                continue
            self._inflight[payload["properties"]["delivery_tag"]] = held
            return payload
        raise Empty()

    @staticmethod
    def _read(path: Path, attempts: int = 200) -> dict | None:
        """The message in `path`. A publisher creates the file, then locks it and writes: taken in
        between, it is empty at first, so wait for the writer's lock (and the bytes) a moment."""
        for _ in range(attempts):
            with path.open("rb") as f:
                filesystem.lock(f, filesystem.LOCK_SH)
                try:
                    data = f.read()
                finally:
                    filesystem.unlock(f)
            if data:
                return loads(data)
            time.sleep(0.005)
        return None

    def _settled(self, delivery_tag) -> None:
        path = self._inflight.pop(delivery_tag, None)
        if path is not None:
            path.unlink(missing_ok=True)

    def basic_ack(self, delivery_tag, multiple=False):
        super().basic_ack(delivery_tag, multiple)
        self._settled(delivery_tag)

    def basic_reject(self, delivery_tag, requeue=False):
        super().basic_reject(delivery_tag, requeue)  # a requeue goes through _restore
        self._settled(delivery_tag)

    def basic_get(self, queue, no_ack=False, **kwargs):
        message = super().basic_get(queue, no_ack, **kwargs)
        if message is not None and no_ack:
            self._settled(message.delivery_tag)
        return message

    def basic_consume(self, queue, no_ack, callback, consumer_tag, **kwargs):
        if no_ack:
            def settle_then(message, _callback=callback):
                self._settled(message.delivery_tag)
                return _callback(message)
            callback = settle_then
        return super().basic_consume(queue, no_ack, callback, consumer_tag, **kwargs)

    def _restore(self, message):
        """Back to the queue it came from (at its old place), not re-routed by its routing key."""
        path = self._inflight.pop(message.delivery_tag, None)
        if path is None:
            return super()._restore(message)
        try:
            path.rename(Path(self.data_folder_in) / path.name)
        except OSError:
            log.exception("embedded bus: could not requeue %s", path.name)


class Transport(filesystem.Transport):
    """kombu keeps one in-process record of exchanges and bindings for every filesystem bus; here
    each bus folder has its own, so a process (a test run) using two folders never mixes them."""

    Channel = Channel
    states: dict[str, virtual.BrokerState] = {}

    def __init__(self, client, **kwargs):
        super().__init__(client, **kwargs)
        folder = str((client.transport_options or {}).get("data_folder_in", ""))
        self.state = self.states.setdefault(folder, virtual.BrokerState())
