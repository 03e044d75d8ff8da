"""The engine process's messages to the worker: in order, a step's text deltas in one message
(playground.engine.outbox)."""
import threading
import time

from playground.engine.outbox import Outbox


class Pipe:
    """The worker's end as the outbox sees it: what was sent, in order."""

    def __init__(self):
        self.sent: list[tuple] = []
        self.arrived = threading.Event()

    def send(self, message: tuple) -> None:
        self.sent.append(message)
        self.arrived.set()


def wait_for(pipe: Pipe, count: int) -> list[tuple]:
    deadline = time.monotonic() + 5
    while len(pipe.sent) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return pipe.sent


def test_the_deltas_of_one_step_cross_in_one_message():
    pipe = Pipe()
    outbox = Outbox(pipe)
    with outbox.pipe:  # the step's deltas come while the sender cannot send any
        outbox.add(1, "Hel")
        outbox.add(2, "Bon")
        outbox.add(1, "lo")
    assert wait_for(pipe, 1) == [("deltas", 0, [(1, "Hel"), (2, "Bon"), (1, "lo")])]
    outbox.close()


def test_a_request_s_text_comes_before_its_end():
    pipe = Pipe()
    outbox = Outbox(pipe)
    with outbox.pipe:
        outbox.add(7, "the last words")
        threading.Thread(target=outbox.send, args=(("end", 7, ("result", None)),)).start()
    assert wait_for(pipe, 2)[:2] == [("deltas", 0, [(7, "the last words")]), ("end", 7, ("result", None))]
    outbox.close()


def test_handing_a_delta_over_never_waits_for_the_pipe():
    pipe = Pipe()
    outbox = Outbox(pipe)
    with outbox.pipe:  # another message (a tokenizer, say) is on its way through the pipe
        handed = threading.Thread(target=outbox.add, args=(1, "Hel"))
        handed.start()
        handed.join(timeout=2)
        assert not handed.is_alive()
    assert wait_for(pipe, 1) == [("deltas", 0, [(1, "Hel")])]
    outbox.close()


def test_a_closed_outbox_keeps_no_deltas():
    pipe = Pipe()
    outbox = Outbox(pipe)
    outbox.close()
    outbox.add(1, "late")
    time.sleep(0.05)
    assert pipe.sent == [] and outbox.waiting == []
