"""The engines in a process of their own, apart from the worker's threads.

A worker's own Python (claiming jobs, relaying their text, heartbeats) runs on threads of its
process. Beside an engine on a GPU, where a decode step is a long series of small kernel launches
from Python, that Python holds the engine's scheduler off the interpreter's lock: on an H200, a
side thread's 42 ms of Python cost the engine 43 ms, and the same Python in another process 13 ms
(bench/results/cpu_contention-cuda.md). vLLM V1 runs its EngineCore apart from its API server for
the same reason. A process of its own also fences a crash: a model that kills its process (out of
memory, a fault in a kernel) fails the requests it held, the worker goes on, and the next request
starts the process again.

`EngineProcess` has EngineRegistry's interface (`get`, `close`); `get` returns a `RemoteEngine`,
which has BatchingEngine's (`submit`, `generate`, `tokenizer`, `encode_chat`, ...). A request
crosses the pipe without its callbacks: its text deltas and its outcome come back over it (the
deltas of every request that decoded in a step in one message), and `on_delta` runs on this
process's reader thread; `should_cancel` is polled here every
CANCEL_POLL_S and a cancel crosses as a message. Nothing here imports Django.
"""
from __future__ import annotations

import atexit
import dataclasses
import itertools
import logging
import multiprocessing
import signal
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Callable

from .loading import materialise
from .outbox import Outbox
from .prompts import PromptEncoding
from .registry import SHUTTING_DOWN, EngineRegistry, WarmSet
from .rows import EngineClosed, GenerationError, GenerationRequest, GenerationResult, Pending
from .runtime import ModelLoadError, RepoFetcher, RuntimeSpec

__all__ = ["EngineProcess", "RemoteEngine", "arrivals_counter"]
log = logging.getLogger(__name__)
CANCEL_POLL_S = 0.05  # how often a request's should_cancel is asked (the engine asks every step)
CLOSE_WAIT_S = 10  # how long a closed engine process has to stop before it is killed
_spawn = multiprocessing.get_context("spawn")  # CUDA cannot be used in a forked child
_PORTABLE = (EngineClosed, GenerationError, ModelLoadError)  # errors that cross the pipe as they are


def arrivals_counter():
    """A count of jobs on their way to an engine (BatchingEngine's `incoming`), shared with
    engine processes: the worker's threads write it, an engine process reads it."""
    return _spawn.RawValue("i", 0)


class RemoteEngine(PromptEncoding):
    """A model in the engine process, as this process sees it. The engine process decides what
    stays loaded: a request for a model it evicted (or lost in a restart) loads it there again,
    as a `get` would here."""

    def __init__(self, host: EngineProcess, spec: RuntimeSpec, *, tokenizer, vocab_size: int, max_batch: int):
        self.host, self.spec = host, spec
        self.tokenizer, self.vocab_size, self.max_batch = tokenizer, vocab_size, max_batch

    @property
    def closed(self) -> bool:
        return self.host.closed

    def submit(self, request: GenerationRequest) -> Pending:
        return self.host.submit(self.spec, request)

    def generate(self, request: GenerationRequest) -> GenerationResult:
        return self.submit(request).outcome()


class EngineProcess:
    """Warm engines in one child process; it starts on the first request and again after it dies."""

    def __init__(self, *, cache_dir: Path, max_models: int = 2, max_batch: int = 8, device: str | None = None,
                 fetch_repo: RepoFetcher | None = None, arriving=None, prefill_chunk_tokens: int | None = None,
                 decode_threads: int | None = None):
        self.cache_dir, self.fetch_repo = cache_dir, fetch_repo
        self._config = {"cache_dir": str(cache_dir), "max_models": max_models, "max_batch": max_batch,
                        "device": device, "prefill_chunk_tokens": prefill_chunk_tokens,
                        "decode_threads": decode_threads}
        self._arriving = arriving  # from arrivals_counter(), or None
        self._lock = threading.Lock()  # guards _child and the ids; never held while sending
        self._child: _Child | None = None
        # Here only each model's tokenizer and sizes: nothing to shut down when one is dropped.
        self._engines: WarmSet[RemoteEngine] = WarmSet(max_models, retire=lambda _engine: None)
        self._ids = itertools.count()
        self.closed = False

    @property
    def pid(self) -> int | None:
        """The engine process's, while one runs."""
        child = self._child
        return child.process.pid if child is not None and child.alive else None

    def get(self, spec: RuntimeSpec) -> RemoteEngine:
        """The warm engine for `spec`, loaded first if needed (only its callers wait)."""
        return self._engines.get(spec, lambda: self._load(spec))

    def _load(self, spec: RuntimeSpec) -> RemoteEngine:
        for part in (spec, spec.base):  # the engine process reads no repositories itself
            if part is not None and part.source == "repo":
                materialise(part, cache_dir=self.cache_dir, fetch_repo=self.fetch_repo)
        reply: Future[dict] = Future()
        self._call(reply, lambda rid: ("load", rid, spec))
        return RemoteEngine(self, spec, **reply.result())

    def submit(self, spec: RuntimeSpec, request: GenerationRequest) -> Pending:
        pending = Pending(request)
        wire = dataclasses.replace(request, on_delta=None, should_cancel=None, on_end=None)
        self._call(pending, lambda rid: ("submit", rid, spec, wire, request.on_delta is not None))
        return pending

    def close(self) -> None:
        """What the engine process holds fails with EngineClosed now, and it is told to stop
        (and killed if it has not within CLOSE_WAIT_S); later requests are refused. For a
        worker that has been told to stop."""
        with self._lock:
            self.closed = True
            child, self._child = self._child, None
        self._engines.close()
        if child is not None:
            child.close()

    def _call(self, item: Pending | Future, message: Callable[[int], tuple]) -> None:
        while True:
            with self._lock:
                if self.closed:
                    raise EngineClosed(SHUTTING_DOWN)
                if self._child is None or not self._child.alive:
                    self._child = _Child(self._config, self._arriving)
                child, rid = self._child, next(self._ids)
            if child.call(rid, item, message(rid)):
                return
            # It died (or was closed) just now: the next turn starts another, or refuses.


class _Child:
    """One engine process and the pipe to it; what it holds fails when it dies."""

    def __init__(self, config: dict, arriving):
        here, there = _spawn.Pipe()
        self.process = _spawn.Process(target=serve, args=(there, config, arriving), name="inference-engine",
                                      daemon=True)
        self.process.start()
        there.close()
        # It ignores SIGTERM (see serve): at exit, before multiprocessing's own terminate-and-join.
        atexit.register(self.kill)
        self.conn = here
        self.waiting: dict[int, Pending | Future] = {}
        self.cancelled: set[int] = set()  # requests whose cancel was sent
        self.lock = threading.Lock()  # guards `waiting`, `cancelled` and `alive`
        self.send_lock = threading.Lock()  # one message at a time on the pipe, in order
        self.alive = True
        threading.Thread(target=self._read, name="inference-engine-reader", daemon=True).start()
        threading.Thread(target=self._watch_cancels, name="inference-engine-cancels", daemon=True).start()

    def call(self, rid: int, item: Pending | Future, message: tuple) -> bool:
        """Send `message`, whose reply settles `item`; False when this process has died. Under
        the send lock, so that no cancel for `rid` can go before it."""
        with self.send_lock:
            with self.lock:
                if not self.alive:
                    return False
                self.waiting[rid] = item
            try:
                self.conn.send(message)
            except OSError:
                pass  # the pipe broke: the process died, and the reader settles `item`
            except Exception:  # it could not be pickled: nothing was sent
                with self.lock:
                    self.waiting.pop(rid, None)
                raise
        return True

    def send(self, message: tuple) -> None:
        try:
            with self.send_lock:
                self.conn.send(message)
        except (OSError, ValueError):
            pass  # it died, or its pipe was closed: its reader settles what it held

    def close(self) -> None:
        self._end(lambda _item: EngineClosed("The engine was closed before this request finished."))
        threading.Thread(target=self._stop, name="inference-engine-stop", daemon=True).start()

    def _stop(self) -> None:
        # The message goes from a thread of its own: a process that stopped reading would block it.
        threading.Thread(target=self.send, args=(("close",),), daemon=True).start()
        self.process.join(timeout=CLOSE_WAIT_S)
        self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()

    def _read(self) -> None:
        try:
            while True:
                try:
                    kind, rid, payload = self.conn.recv()
                except (EOFError, OSError):
                    return
                try:
                    self._handle(kind, rid, payload)
                except BaseException:  # a caller's callback failed: the reader goes on
                    log.exception("handling the engine process's %r for request %s failed", kind, rid)
        finally:
            with self.lock:
                self.alive = False  # before the wait: new requests go to a new process at once
            self.process.join(timeout=5)
            self._end(self._lost_error)
            # Nothing more of it is needed: its end of the pipe, and the exit hook that kept this
            # object (each engine process that died held on to a file descriptor until exit).
            atexit.unregister(self.kill)
            with self.send_lock:
                self.conn.close()

    def _handle(self, kind: str, rid: int, payload) -> None:
        if kind == "deltas":  # (request, text) pairs, in the order they were decoded
            for request_id, text in payload:
                self._deliver(request_id, text)
            return
        with self.lock:
            item = self.waiting.pop(rid, None)
            self.cancelled.discard(rid)
        if isinstance(item, Future):
            item.set_result(payload) if kind == "loaded" else item.set_exception(payload)
        elif item is not None:
            result, error = payload
            if error is not None:
                item.fail(error)
            elif not item.done.is_set():  # not failed here already (_deliver)
                item.result = result
                item.end()

    def _deliver(self, rid: int, text: str) -> None:
        pending = self.waiting.get(rid)
        if not isinstance(pending, Pending) or pending.request.on_delta is None or pending.done.is_set():
            return
        try:
            pending.request.on_delta(text)
        except BaseException as exc:  # as in the engine: a row whose callback fails ends with its error
            pending.fail(exc)
            self._cancel(rid)

    def _watch_cancels(self) -> None:
        while self.alive:
            with self.lock:
                asking = [(rid, item) for rid, item in self.waiting.items()
                          if isinstance(item, Pending) and item.request.should_cancel and rid not in self.cancelled]
            for rid, pending in asking:
                try:
                    stop = pending.request.should_cancel()
                except Exception as exc:  # as in the engine: the row ends with its callback's error
                    stop = True
                    try:
                        pending.fail(exc)
                    except Exception:
                        log.exception("ending request %s failed", rid)
                if stop:
                    self._cancel(rid)
            time.sleep(CANCEL_POLL_S)

    def _cancel(self, rid: int) -> None:
        with self.lock:
            if rid not in self.waiting or rid in self.cancelled:
                return
            self.cancelled.add(rid)
        self.send(("cancel", rid, None))

    def _lost_error(self, item: Pending | Future) -> Exception:
        code = self.process.exitcode
        how = f"was stopped by {signal.Signals(-code).name}" if code and code < 0 and -code in signal.valid_signals() \
            else f"stopped (exit code {code})"
        error = ModelLoadError if isinstance(item, Future) else GenerationError
        return error(f"The inference engine's process {how} while this request ran; try again.")

    def _end(self, error_for: Callable[[Pending | Future], Exception]) -> None:
        """This process is gone (or closed): everything it held fails."""
        with self.lock:
            self.alive = False
            waiting, self.waiting = self.waiting, {}
            self.cancelled.clear()
        for rid, item in waiting.items():
            try:
                if isinstance(item, Future):
                    item.set_exception(error_for(item))
                else:
                    item.fail(error_for(item))
            except Exception:  # a caller's on_end
                log.exception("ending request %s failed", rid)


# --- the engine process ------------------------------------------------------------------------
def serve(conn, config: dict, arriving) -> None:
    """The engine process: load models and run requests as the worker's messages say, until it
    says close or goes away (its end of the pipe closes when it dies)."""
    # Only the worker stops it: a terminal's Ctrl-C, or a SIGTERM to the whole group (systemd's
    # default), reaches the worker too, which hands its jobs back to the queue and then closes
    # this process. Killed first, it would fail those jobs instead.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    registry = EngineRegistry(
        cache_dir=Path(config["cache_dir"]), max_models=config["max_models"], max_batch=config["max_batch"],
        device=config["device"], fetch_repo=_fetched_by_the_worker, prefill_chunk_tokens=config["prefill_chunk_tokens"],
        decode_threads=config["decode_threads"],
        incoming=(lambda: arriving.value) if arriving is not None else None)
    outbox = Outbox(conn)
    cancels: dict[int, threading.Event] = {}

    def send(message: tuple) -> bool:
        try:
            outbox.send(message)
            return True
        except Exception:  # the worker is gone (nobody to tell), or it could not be pickled
            return False

    def load(rid: int, spec: RuntimeSpec) -> None:
        try:
            engine = registry.get(spec)
            reply = ("loaded", rid, {"tokenizer": engine.tokenizer, "vocab_size": engine.vocab_size,
                                     "max_batch": engine.max_batch})
        except BaseException as exc:
            reply = ("failed", rid, _portable(exc, ModelLoadError))
        if not send(reply):
            send(("failed", rid, ModelLoadError("The loaded model could not be described to the worker.")))

    def run(rid: int, spec: RuntimeSpec, request: GenerationRequest, streams: bool, engine) -> None:
        def ended(pending: Pending) -> None:
            cancels.pop(rid, None)
            if not send(("end", rid, (pending.result, _portable(pending.error)))):
                send(("end", rid, (None, GenerationError("The engine's result could not be sent back."))))

        request.should_cancel = cancels[rid].is_set
        request.on_end = ended
        if streams:
            request.on_delta = lambda text: outbox.add(rid, text)
        try:
            (engine or registry.get(spec)).submit(request)
        except BaseException as exc:
            cancels.pop(rid, None)
            send(("end", rid, (None, _portable(exc))))

    while True:
        try:
            kind, *args = conn.recv()
        except (EOFError, OSError):
            break
        if kind == "close":
            break
        if kind == "cancel":
            flag = cancels.get(args[0])
            if flag is not None:
                flag.set()
        elif kind == "load":
            threading.Thread(target=load, args=args, daemon=True).start()
        elif kind == "submit":
            cancels[args[0]] = threading.Event()
            engine = registry.warm(args[1])
            if engine is not None:
                run(*args, engine)
            else:  # evicted, or this process was started again: load it without holding up the others
                threading.Thread(target=run, args=(*args, None), daemon=True).start()
    registry.close()
    outbox.close()


def _portable(error: BaseException | None, kind: type[Exception] = GenerationError) -> Exception | None:
    """`error` as it can cross the pipe: the engine's own errors as they are, others in words."""
    if error is None or isinstance(error, _PORTABLE):
        return error
    return kind(f"{type(error).__name__}: {error}")


def _fetched_by_the_worker(location: str, revision: str, target: Path) -> None:
    raise ModelLoadError(f"The files of {location} at {revision} were not fetched before the model loaded.")
