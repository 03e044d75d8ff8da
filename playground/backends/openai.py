"""An OpenAI-compatible server as the backend: vLLM, SGLang, TGI, llama.cpp's `llama-server`,
Ollama, `transformers serve`. Messages go as messages (the server applies the chat template);
parameters go under OpenAI's names, extras only where the runtime lists them. A cancel closes
the HTTP stream, which these servers take as the end of the request.

The worker is I/O-bound here: run a worker with many threads for such runtimes' queues.
"""
from __future__ import annotations

import json
import os
import threading
import time
from typing import Callable

import requests
from django.utils import translation
from django.utils.translation import gettext as _

from ..engine.streaming import StopCutter
from ..params import OPENAI_NAMES
from .base import Backend, BackendError, Handle, JobInput, Outcome, check_logprobs

# The server's answers that blame the request (too long for its context, a parameter it refuses):
# the job fails as the request's fault, not the platform's.
REQUEST_FAULTS = (400, 413, 422)
CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 60  # between two chunks: a server silent this long is taken as gone


class OpenAIBackend(Backend):
    def __init__(self, *, base_url: str, served_model: str, api_key_env: str = ""):
        self.base_url = base_url.rstrip("/")
        self.served_model = served_model
        self.api_key_env = api_key_env

    def payload(self, job: JobInput) -> dict:
        body: dict = {"model": self.served_model, "stream": True, "stream_options": {"include_usage": True}}
        params = job.params
        for name, value in params.items():
            if value not in (None, []) and name in OPENAI_NAMES:  # some servers refuse an empty stop list
                body[OPENAI_NAMES[name]] = value
        if job.mode == "chat":
            body["messages"] = job.messages
            if params.get("logprobs"):
                body["logprobs"] = True
                if params.get("top_logprobs"):
                    body["top_logprobs"] = int(params["top_logprobs"])
        else:
            body["prompt"] = list(job.prompt_ids) if job.prompt_ids else job.prompt
            if params.get("logprobs"):  # legacy completions: the number of alternatives
                body["logprobs"] = int(params.get("top_logprobs") or 0)
                if params.get("echo"):  # for the prompt's log-probabilities; its text is taken off again
                    body["echo"] = True
        return body

    def _headers(self) -> dict:
        key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
        return {"Authorization": f"Bearer {key}"} if key else {}

    def start(self, job: JobInput, *, on_delta: Callable[[str], None]) -> Handle:
        path = "/chat/completions" if job.mode == "chat" else "/completions"
        handle = Handle()
        stream = _Stream(self.base_url + path, self.payload(job), self._headers(), job, on_delta, handle)
        handle.on_cancel = stream.close
        threading.Thread(target=stream.run, name="openai-stream", daemon=True).start()
        return handle


class _Stream:
    """One streamed request, read on its own thread; the handle learns how it ended."""

    def __init__(self, url: str, body: dict, headers: dict, job: JobInput, on_delta, handle: Handle):
        self.url, self.body, self.headers, self.job = url, body, headers, job
        self.on_delta, self.handle = on_delta, handle
        self.cutter = StopCutter(job.params.get("stop") or [])
        self.want_logprobs = bool(job.params.get("logprobs"))
        self.echoed = bool(body.get("echo"))  # the server sends the prompt back first: not output
        self.echo_left: int | None = None  # characters of echoed prompt still to take off
        self.echo_text = ""
        self.entries: list[dict] = []  # log-probabilities in the chat shape, echoed prompt first
        self.logprob_values = 0  # in the entries, alternatives counted
        self.response: requests.Response | None = None
        self.text, self.finish_reason, self.usage = "", None, {}
        self.language = translation.get_language()  # errors are worded for the job's member
        self.started = time.perf_counter()
        self.first_at: float | None = None

    def close(self) -> None:
        response = self.response
        if response is not None:
            response.close()  # the server sees the client leave and stops generating

    def run(self) -> None:
        with translation.override(self.language):
            self._run()

    def _run(self) -> None:
        try:
            self._read()
        except Exception as exc:  # anything the network or the server does ends this job, in words
            if self.handle.cancelled.is_set():
                self.handle.finish(self._outcome("cancelled"))
            else:
                self.handle.finish(error=exc if isinstance(exc, BackendError) else BackendError(
                    _("The model server stopped answering (%(error)s).") % {"error": type(exc).__name__}))
        else:
            self.handle.finish(self._outcome(self.finish_reason or "stop"))

    def _read(self) -> None:
        timeout = (CONNECT_TIMEOUT_S, READ_TIMEOUT_S)
        self.response = requests.post(self.url, json=self.body, headers=self.headers, stream=True, timeout=timeout)
        if self.handle.cancelled.is_set():  # cancelled while connecting
            self.close()
            raise BackendError("cancelled")
        if self.response.status_code >= 400:
            status = self.response.status_code
            raise BackendError(_("The model server refused the request (%(status)d): %(detail)s")
                               % {"status": status, "detail": _detail(self.response)},
                               code="rejected_by_model_server" if status in REQUEST_FAULTS else "")
        for line in self.response.iter_lines(decode_unicode=True):
            if time.monotonic() > self.job.deadline:
                self.finish_reason = "timeout"
                self.close()
                return
            if not line or not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            chunk = json.loads(data)
            if "error" in chunk:
                raise BackendError(_("The model server failed: %(detail)s") % {"detail": _message(chunk["error"])})
            self._take(chunk)
            if self.cutter.stopped:
                self.finish_reason = "stop"
                self.close()  # the server would go on past our stop string: stop it
                return
        tail = self.cutter.flush()
        if tail:
            self._emit(tail)
        if self.finish_reason is None:
            raise BackendError(_("The model server ended the stream before the answer was complete."))

    def _take(self, chunk: dict) -> None:
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            piece = (choice.get("delta") or {}).get("content") or choice.get("text") or ""
            if self.want_logprobs:
                self._take_logprobs(choice.get("logprobs"))
            if self.echoed and piece:
                piece = self._without_echo(piece)
            if piece:
                shown, _stopped = self.cutter.push(piece)
                if shown:
                    self._emit(shown)
            if choice.get("finish_reason"):
                self.finish_reason = "length" if choice["finish_reason"] == "length" else "stop"

    def _take_logprobs(self, logprobs) -> None:
        """A chunk's log-probabilities, chat's shape ({content: [...]}) or the legacy one
        ({tokens, token_logprobs, top_logprobs}), kept in the chat shape."""
        if not isinstance(logprobs, dict):
            return
        if isinstance(logprobs.get("content"), list):
            entries = [_entry(e.get("token", ""), e.get("logprob"), e.get("bytes"),
                              [(t.get("token", ""), t.get("logprob"), t.get("bytes"))
                               for t in e.get("top_logprobs") or []])
                       for e in logprobs["content"] if isinstance(e, dict)]
        else:
            tokens = logprobs.get("tokens") or []
            values = logprobs.get("token_logprobs") or [None] * len(tokens)
            tops = logprobs.get("top_logprobs") or [None] * len(tokens)
            entries = [_entry(token, value, None, [(t, v, None) for t, v in sorted(
                (top or {}).items(), key=lambda kv: -(kv[1] if kv[1] is not None else -1e30))])
                       for token, value, top in zip(tokens, values, tops)]
        self.logprob_values += sum(1 + len(entry["top_logprobs"]) for entry in entries)
        check_logprobs(self.job, self.logprob_values)  # the server may send more than was asked for
        self.entries += entries

    def _without_echo(self, piece: str) -> str:
        """Take the echoed prompt off the front of the text: as long as the prompt's text, or, for
        a prompt of token ids, as long as its tokens' texts."""
        if self.echo_left is None:
            if self.job.prompt_ids:
                self.echo_left = sum(len(e["token"]) for e in self.entries[:len(self.job.prompt_ids)])
            else:
                self.echo_left = len(self.job.prompt)
        cut = min(self.echo_left, len(piece))
        self.echo_text += piece[:cut]
        self.echo_left -= cut
        return piece[cut:]

    def _logprobs(self) -> dict | None:
        if not self.want_logprobs:
            return None
        if not self.echoed:
            return {"content": self.entries, "prompt": None}
        if self.job.prompt_ids:
            count = len(self.job.prompt_ids)
        else:  # the prompt's tokens are those whose texts make up the prompt
            count, chars = 0, 0
            while count < len(self.entries) and chars < len(self.job.prompt):
                chars += len(self.entries[count]["token"])
                count += 1
        prompt = self.entries[:count]
        if prompt:
            prompt[0] = {**prompt[0], "logprob": None, "top_logprobs": []}
        return {"content": self.entries[count:], "prompt": prompt}

    def _emit(self, text: str) -> None:
        if self.first_at is None:
            self.first_at = time.perf_counter()
        self.text += text
        self.on_delta(text)

    def _outcome(self, finish_reason: str) -> Outcome:
        now = time.perf_counter()
        completion = self.usage.get("completion_tokens")
        ttft = (self.first_at - self.started) if self.first_at else None
        decode_s = now - (self.first_at or now)
        rate = (completion - 1) / decode_s if completion and completion > 1 and decode_s > 0 else None
        return Outcome(text=self.text, finish_reason=finish_reason, prompt_tokens=self.usage.get("prompt_tokens"),
                       completion_tokens=completion, ttft_s=ttft, tokens_per_s=rate, logprobs=self._logprobs(),
                       prompt_text=self.echo_text if self.echoed and self.job.prompt_ids else None)


def _entry(token, logprob, raw, top: list[tuple]) -> dict:
    token = str(token).replace("\x00", "\ufffd")
    return {"token": token, "logprob": logprob,
            "bytes": raw if isinstance(raw, list) else list(token.encode("utf-8")),
            "top_logprobs": [{"token": str(t).replace("\x00", "\ufffd"), "logprob": v,
                              "bytes": b if isinstance(b, list) else list(str(t).encode("utf-8"))}
                             for t, v, b in top]}


def _message(error) -> str:
    return str(error.get("message") if isinstance(error, dict) else error)[:500]


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(body, dict):
        return _message(body.get("error") or body.get("detail") or body)
    return str(body)[:500]
