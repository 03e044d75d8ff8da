"""What the engine process sends the worker (see process.py): its messages in order, text deltas
batched. Nothing here imports Django or torch."""
from __future__ import annotations

import threading


class Outbox:
    """The engine process's messages to the worker, in order, with text deltas batched.

    A delta is sent by a thread of its own, with every other delta waiting by then: the engine's
    scheduler hands a step's deltas over and goes on, and the worker's reader wakes once a step,
    not once per request and token. Handing one over never waits for the pipe (another message,
    a tokenizer being sent for a model that loaded, may be on it). Any other message (a request's
    end, a load's reply) is sent at once, after the deltas before it, so a request's text always
    comes before its end."""

    def __init__(self, conn):
        self.conn = conn
        self.waiting: list[tuple[int, str]] = []
        self.ready = threading.Condition()  # guards `waiting` and `closed`; held only briefly
        self.pipe = threading.Lock()  # one message at a time on the pipe, in order
        self.closed = False
        threading.Thread(target=self._send_deltas, name="engine-deltas", daemon=True).start()

    def add(self, rid: int, text: str) -> None:
        with self.ready:
            if not self.closed:
                self.waiting.append((rid, text))
                self.ready.notify()

    def send(self, message: tuple) -> None:
        with self.pipe:
            self._flush()
            self.conn.send(message)

    def close(self) -> None:
        with self.ready:
            self.closed = True
            self.ready.notify()

    def _flush(self) -> None:
        """The deltas waiting now, in one message (under the pipe's lock: taken and sent in one go,
        so nothing sent after them can overtake them)."""
        with self.ready:
            deltas, self.waiting = self.waiting, []
        if deltas:
            self.conn.send(("deltas", 0, deltas))

    def _send_deltas(self) -> None:
        while True:
            with self.ready:
                while not self.waiting and not self.closed:
                    self.ready.wait()
                if self.closed:
                    return
            try:
                with self.pipe:
                    self._flush()
            except Exception:  # the worker is gone: nobody reads them any more
                self.close()
                return
