"""OpenAI-compatible /v1/ endpoints over the same jobs, queue, quotas and history.

The platform API token is the API key (`Authorization: Bearer <key>`). Errors use OpenAI's JSON
shape: {"error": {"message", "type", "param", "code"}}.
"""
from __future__ import annotations

import asyncio
import json
import time
from contextlib import aclosing
from functools import wraps

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import ErrorDetail

from core.authentication import BadKey, request_user
from core.db import release_connection, released
from core.exceptions import RateLimited
from core.queues import QueueUnavailable

from . import services
from .events import job_events
from .models import GenerationJob
from .serializers import JobCreateSerializer


def error(message: str, *, status: int, type_: str = "invalid_request_error", param: str | None = None,
          code: str | None = None, headers: dict | None = None) -> JsonResponse:
    response = JsonResponse({"error": {"message": message, "type": type_, "param": param, "code": code}},
                            status=status)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def _first_error(errors, prefix: str = "") -> tuple[str, str]:
    """The first (param, message) in DRF's nested error structure."""
    if isinstance(errors, dict):
        key, value = next(iter(errors.items()))
        return _first_error(value, f"{prefix}.{key}" if prefix else str(key))
    if isinstance(errors, list) and errors:
        if isinstance(errors[0], (dict, list)):
            return _first_error(next(e for e in errors if e), prefix)
        return prefix, str(errors[0])
    return prefix, str(errors if isinstance(errors, ErrorDetail) else "Invalid request.")


PARAM_NAMES = {"params.max_new_tokens": "max_tokens", "params.temperature": "temperature",
               "params.top_p": "top_p", "params.seed": "seed", "params.stop": "stop",
               "params.logprobs": "logprobs", "params.top_logprobs": "top_logprobs", "params.echo": "echo",
               "params.min_new_tokens": "min_tokens", "params.top_k": "top_k",
               "params.repetition_penalty": "repetition_penalty"}
LEGACY_MAX_LOGPROBS = 5  # /v1/completions' `logprobs`, as OpenAI bounds it


def _param_name(path: str, body: dict) -> str:
    """Our serializer's error path as the request's own parameter, the way OpenAI names them
    ("messages.[0].content"); never a name the client did not send."""
    parts = [p for p in path.split(".") if p != "non_field_errors"]
    if parts[:1] == ["params"]:
        name = PARAM_NAMES.get(".".join(parts[:2]), parts[-1])
        if name == "max_tokens" and "max_completion_tokens" in body:
            return "max_completion_tokens"
        if name == "top_logprobs" and "top_logprobs" not in body:
            return "logprobs"  # /v1/completions' logprobs is the number of alternatives
        return name
    if parts[:1] == ["prompt_ids"]:
        return "prompt"
    return ".".join(f"[{p}]" if p.isdigit() else p for p in parts) or "body"


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_str_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_ids(value) -> bool:
    """A non-empty list of token ids."""
    return isinstance(value, list) and bool(value) and all(_is_int(v) and v >= 0 for v in value)


def _prompts(prompt) -> list | None:
    """/v1/completions' prompt as a list of prompts (strings or token-id lists), as OpenAI takes
    it: a string, strings, token ids, or lists of token ids; None when it is none of these."""
    if isinstance(prompt, str):
        return [prompt]
    if not isinstance(prompt, list) or not prompt:
        return None
    if _is_str_list(prompt):
        return prompt
    if _is_ids(prompt):
        return [prompt]
    if all(_is_ids(p) for p in prompt):
        return prompt
    return None


# The shape of each parameter we read (None is always allowed: it means "the default").
# Values are checked after this, by the jobs API's own serializer (ranges, lengths, the model).
SHAPES = {
    "model": (lambda v: isinstance(v, str), "a string"),
    "max_tokens": (_is_int, "an integer"),
    "max_completion_tokens": (_is_int, "an integer"),
    "seed": (_is_int, "an integer"),
    "n": (_is_int, "an integer"),
    "temperature": (_is_number, "a number"),
    "top_p": (_is_number, "a number"),
    "stop": (lambda v: isinstance(v, str) or _is_str_list(v), "a string or an array of strings"),
    "stream": (lambda v: isinstance(v, bool), "a boolean"),
    "stream_options": (lambda v: isinstance(v, dict) and isinstance(v.get("include_usage", False), bool),
                       "an object like {\"include_usage\": true}"),
    "top_logprobs": (_is_int, "an integer"),
    "echo": (lambda v: isinstance(v, bool), "a boolean"),
}


# What OpenAI's API takes and these models cannot honour, each with a test for the values that ask
# for nothing (clients often send them at their defaults). Anything else is refused naming the
# parameter, never silently dropped: a client asking for JSON mode or a tool call must not get
# plain text back.
UNSUPPORTED = {
    "tools": lambda v: v == [], "functions": lambda v: v == [],
    "tool_choice": lambda v: v == "none", "function_call": lambda v: v == "none",
    "parallel_tool_calls": lambda v: isinstance(v, bool),
    "frequency_penalty": lambda v: _is_number(v) and v == 0, "presence_penalty": lambda v: _is_number(v) and v == 0,
    "logit_bias": lambda v: v == {}, "best_of": lambda v: _is_int(v) and v == 1, "suffix": lambda v: v == "",
    "response_format": lambda v: v == {"type": "text"}, "modalities": lambda v: v == ["text"],
    "audio": lambda v: False, "prediction": lambda v: False,
}


def _unsupported(body: dict) -> str | None:
    return next((name for name, neutral in UNSUPPORTED.items()
                 if body.get(name) is not None and not neutral(body[name])), None)


def _shape_error(body: dict, mode: str) -> tuple[str, str] | None:
    """(param, message) for the first parameter of the wrong JSON type or one these models
    cannot honour, else None."""
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model", "You must provide a model parameter (a string)."
    unsupported = _unsupported(body)
    if unsupported:
        return unsupported, f"'{unsupported}' is not supported here: leave it out (or at its default)."
    for name, (ok, what) in SHAPES.items():
        if body.get(name) is not None and not ok(body[name]):
            return name, f"'{name}' must be {what}."
    if mode == "chat":
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "messages", "'messages' must be a non-empty array of {role, content} objects."
        for i, message in enumerate(messages):
            if not isinstance(message, dict):
                return f"messages.[{i}]", "Each message must be an object with a role and a content."
            if not isinstance(message.get("role"), str):
                return f"messages.[{i}].role", "'role' must be a string."
            if _message_text(message.get("content")) is None:
                return f"messages.[{i}].content", ("'content' must be a string or an array of text parts "
                                                   "({\"type\": \"text\", \"text\": ...}); these models read text only.")
        if body.get("logprobs") is not None and not isinstance(body["logprobs"], bool):
            return "logprobs", "'logprobs' must be a boolean (top_logprobs sets how many alternatives)."
        if body.get("echo"):
            return "echo", "'echo' is for /v1/completions."
    else:
        prompts = _prompts(body.get("prompt"))
        if prompts is None:
            return "prompt", ("'prompt' must be a string, an array of strings, an array of token ids, or an "
                              "array of arrays of token ids (none of them empty).")
        if len(prompts) > settings.PLAYGROUND_MAX_PROMPTS_PER_REQUEST:
            return "prompt", f"At most {settings.PLAYGROUND_MAX_PROMPTS_PER_REQUEST} prompts in one request."
        logprobs = body.get("logprobs")
        if logprobs is not None and not (_is_int(logprobs) and 0 <= logprobs <= LEGACY_MAX_LOGPROBS):
            return "logprobs", f"'logprobs' must be an integer from 0 to {LEGACY_MAX_LOGPROBS}."
        if body.get("top_logprobs") is not None:
            return "top_logprobs", "'top_logprobs' is for /v1/chat/completions; here 'logprobs' is the number."
        if body.get("echo") and body.get("stream") and not isinstance(prompts[0], str):
            return "echo", "'echo' with 'stream' needs text prompts."
    return None


# OpenAI's names (and vLLM's extras) -> ours. What a request leaves out comes from the model's
# runtime defaults, as on the playground page and in the jobs API (playground/params.py).
REQUEST_PARAMS = {"max_completion_tokens": "max_new_tokens", "max_tokens": "max_new_tokens",
                  "temperature": "temperature", "top_p": "top_p", "seed": "seed", "stop": "stop",
                  "top_k": "top_k", "repetition_penalty": "repetition_penalty", "min_tokens": "min_new_tokens"}


def _message_text(content) -> str | None:
    """A message's text: the string itself, or its text parts joined by newlines (as vLLM joins
    them); None for anything else (an image or audio part, a number)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and content and all(
            isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)
            for part in content):
        return "\n".join(part["text"] for part in content)
    return None


def _chat_messages(messages: list[dict]) -> list[dict]:
    """OpenAI's messages as the jobs API takes them: text content, and `developer` (the newer
    name OpenAI's clients send for instructions) as `system`."""
    return [{"role": "system" if m["role"] == "developer" else m["role"], "content": _message_text(m["content"])}
            for m in messages]


def _job_inputs(body: dict, mode: str) -> list[dict]:
    """The jobs API's input for each job the request makes: one per prompt."""
    params: dict = {}
    for name, ours in REQUEST_PARAMS.items():
        if body.get(name) is not None and ours not in params:
            params[ours] = body[name]
    if isinstance(params.get("stop"), str):
        params["stop"] = [params["stop"]]
    if mode == "chat":
        if body.get("logprobs"):
            params["logprobs"] = True
        if body.get("top_logprobs") is not None:
            params["top_logprobs"] = body["top_logprobs"]
    else:
        if body.get("logprobs") is not None:  # the number of alternatives; 0 still asks for logprobs
            params["logprobs"], params["top_logprobs"] = True, body["logprobs"]
        if body.get("echo"):
            params["echo"] = True
    data = {"model": body.get("model", ""), "mode": mode, "params": params}
    if mode == "chat":
        return [{**data, "messages": _chat_messages(body["messages"])}]
    return [{**data, "prompt": p} if isinstance(p, str) else {**data, "prompt_ids": p}
            for p in _prompts(body.get("prompt"))]


API_KEY_SCHEMES = ("bearer", "token")


async def authenticated(request):
    """The key's owner. Only an API key counts here, never the session cookie: these views are
    CSRF-exempt (API clients send no CSRF token), so a cookie would let any site a member visits
    run jobs in their name."""
    scheme, _sep, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() not in API_KEY_SCHEMES or not key.strip():
        return None, error("You didn't provide an API key. Use `Authorization: Bearer <token>`.",
                           status=401, code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})
    try:
        user = await request_user(request)
    except BadKey:
        user = None
    if user is None or not user.is_authenticated:
        return None, error("Incorrect API key provided.", status=401, code="invalid_api_key",
                           headers={"WWW-Authenticate": "Bearer"})
    return user, None


def _submit(user, body: dict, mode: str) -> list[GenerationJob] | JsonResponse:
    """The request's jobs, one per prompt (in order), submitted together; or the error response."""
    shape_error = _shape_error(body, mode)
    if shape_error:
        return error(shape_error[1], status=400, param=shape_error[0])
    if body.get("n") not in (None, 1):
        return error("Only n=1 is supported.", status=400, param="n")
    inputs = []
    for item in _job_inputs(body, mode):
        data = JobCreateSerializer(data=item, context={"user": user})
        if not data.is_valid():
            param, message = _first_error(data.errors)
            if param == "model":
                return error(message, status=404, param="model", code="model_not_found")
            return error(message, status=400, param=_param_name(param, body))
        inputs.append(data.validated_data)
    v = inputs[0]
    prompts = [item.get("prompt_ids") or item.get("prompt", "") for item in inputs]
    try:
        return services.submit_jobs(user=user, resource=v["model"], mode=mode, messages=v.get("messages"),
                                    prompts=prompts, params=v["params"], source=GenerationJob.Source.OPENAI)
    except ValidationError as exc:
        param, message = next(iter(exc.message_dict.items()))
        return error(message[0], status=400, param=param)
    except RateLimited as exc:
        return error(f"Rate limit reached; retry in {exc.retry_after}s.", status=429, type_="rate_limit_exceeded",
                     code="rate_limit_exceeded", headers={"Retry-After": str(exc.retry_after)})
    except QueueUnavailable:
        return error("The inference queue is unavailable.", status=503, type_="server_error")


def _usage(jobs: list[dict]) -> dict:
    prompt = sum(job["metrics"]["prompt_tokens"] or 0 for job in jobs)
    completion = sum(job["metrics"]["completion_tokens"] or 0 for job in jobs)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _finish_reason(job: dict) -> str:
    """OpenAI's reasons: a job that ran out of time stopped short as one out of tokens does."""
    limited = (GenerationJob.FinishReason.LENGTH, GenerationJob.FinishReason.TIMEOUT)
    return "length" if job["finish_reason"] in limited else "stop"


def _failed(event: str, job: dict) -> bool:
    """Whether a job's final event says it failed (read from the job itself, whatever the event's name)."""
    return event != "timeout" and job.get("status") == GenerationJob.Status.FAILED


def _failure(job: dict, mode: str) -> dict:
    """A failed job as OpenAI's error object. Where the request was at fault (a prompt too long
    for the context) it is the client's error: the OpenAI SDKs retry a server's error twice, and
    each retry would fail again and spend the member's quota."""
    code = job.get("error_code") or None
    if code is None:
        return {"message": job["error"], "type": "server_error", "param": None, "code": None}
    param = None if code == GenerationJob.ErrorCode.REJECTED else ("messages" if mode == "chat" else "prompt")
    return {"message": job["error"], "type": "invalid_request_error", "param": param, "code": code}


def _top(entry: dict) -> dict:
    """A legacy top_logprobs dict: the alternatives, best first, and the token itself (as vLLM
    gives it), so that it is never empty and the token's value can be compared with the best."""
    top = {}
    for alternative in entry["top_logprobs"]:
        top.setdefault(alternative["token"], alternative["logprob"])
    top.setdefault(entry["token"], entry["logprob"])
    return top


def _legacy_logprobs(job: dict, *, echo: bool) -> dict | None:
    """OpenAI's legacy completions shape, {tokens, token_logprobs, top_logprobs, text_offset}:
    the prompt's tokens first with echo (the first with null entries), then the output's."""
    stored = job.get("logprobs")
    if not stored:
        return None
    entries = ((stored.get("prompt") or []) if echo else []) + (stored.get("content") or [])
    offset = 0 if echo else len(job["prompt"])
    result = {"tokens": [], "token_logprobs": [], "top_logprobs": [], "text_offset": []}
    for entry in entries:
        result["tokens"].append(entry["token"])
        result["token_logprobs"].append(entry["logprob"])
        result["top_logprobs"].append(None if entry["logprob"] is None else _top(entry))
        result["text_offset"].append(offset)
        offset += len(entry["token"])
    return result


def _chat_logprobs(job: dict) -> dict | None:
    stored = job.get("logprobs")
    return {"content": stored.get("content") or [], "refusal": None} if stored else None


async def _events(jobs: list[GenerationJob]):
    """(index, event, data) of several jobs' events as they come, each job's in order; their logs
    are read with every other log of this process, over one Redis connection (core.logreader)."""
    queue: asyncio.Queue = asyncio.Queue()
    done = object()

    async def pump(index: int, job: GenerationJob) -> None:
        try:
            async for item in job_events(job):
                data = item.data.get("text", "") if item.kind == "token" else item.data
                await queue.put((index, item.kind, data))
        except Exception as exc:  # handed to the reader, not lost in the task
            await queue.put((index, done, exc))
        else:
            await queue.put((index, done, None))

    tasks = [asyncio.create_task(pump(i, job)) for i, job in enumerate(jobs)]
    try:
        running = len(tasks)
        while running:
            index, event, data = await queue.get()
            if event is done:
                running -= 1
                if data is not None:
                    raise data
                continue
            yield index, event, data
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _cancel(user, jobs: list[GenerationJob]) -> None:
    for job in jobs:
        await released(lambda job=job: services.cancel_job(user=user, job=job))


TIMEOUT_MESSAGE = "The job did not finish in time (it was still queued or running), so it was cancelled."


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


async def _handle(request, mode: str):
    user, failure = await authenticated(request)
    if failure:
        return failure
    try:
        body = json.loads(request.body or b"{}", parse_constant=_reject_constant)
    except RequestDataTooBig:
        return error("The request body is too large.", status=413)
    except (ValueError, RecursionError):  # not JSON, NaN/Infinity, or nested past any sense
        return error("The request body is not valid JSON.", status=400)
    if not isinstance(body, dict):
        return error("The request body is not a JSON object.", status=400)
    jobs = await sync_to_async(_submit)(user, body, mode)
    if isinstance(jobs, JsonResponse):
        return jobs
    await release_connection()  # what follows waits for the jobs: it holds no database connection meanwhile
    created, model = int(time.time()), jobs[0].resource.repo_id
    obj = "chat.completion" if mode == "chat" else "text_completion"
    ident = f"{'chatcmpl' if mode == 'chat' else 'cmpl'}-{jobs[0].pk}"
    base = {"id": ident, "created": created, "model": model}
    echo = mode == "completion" and bool(body.get("echo"))
    want_logprobs = (bool(body.get("logprobs")) if mode == "chat" else body.get("logprobs") is not None)

    def logprobs_of(job: dict) -> dict | None:
        if not want_logprobs:
            return None
        return _chat_logprobs(job) if mode == "chat" else _legacy_logprobs(job, echo=echo)

    def choice(index: int, text: str, finish: str | None, logprobs: dict | None = None) -> dict:
        if mode == "chat":
            chunk = {"index": index, "delta": {"content": text} if text else {}, "finish_reason": finish}
            if logprobs is not None:
                chunk["logprobs"] = logprobs
            return chunk
        return {"index": index, "text": text, "logprobs": logprobs, "finish_reason": finish}

    if body.get("stream"):
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        async def chunks():
            finished: dict[int, dict] = {}
            try:
                chunk_obj = "chat.completion.chunk" if mode == "chat" else "text_completion"
                for index, job in enumerate(jobs):
                    if mode == "chat":
                        first = {**base, "object": chunk_obj,
                                 "choices": [{"index": index, "delta": {"role": "assistant", "content": ""},
                                              "finish_reason": None}]}
                        yield f"data: {json.dumps(first)}\n\n"
                    elif echo:  # the prompt first, as the text it continues
                        yield f"data: {json.dumps({**base, 'object': chunk_obj, 'choices': [choice(index, job.prompt, None)]}, ensure_ascii=False)}\n\n"
                async with aclosing(_events(jobs)) as events:
                    async for index, event, data in events:
                        if event == "token":
                            yield f"data: {json.dumps({**base, 'object': chunk_obj, 'choices': [choice(index, data, None)]}, ensure_ascii=False)}\n\n"
                            continue
                        if event == "timeout":  # still queued or running at the stream's limit: give up
                            yield f"data: {json.dumps({'error': {'message': TIMEOUT_MESSAGE, 'type': 'timeout'}})}\n\n"
                            break
                        finished[index] = data
                        if _failed(event, data):
                            yield f"data: {json.dumps({'error': _failure(data, mode)}, ensure_ascii=False)}\n\n"
                            break
                        # Log-probabilities come with the choice's last chunk, for all its tokens.
                        last = choice(index, "", _finish_reason(data), logprobs_of(data))
                        yield f"data: {json.dumps({**base, 'object': chunk_obj, 'choices': [last]}, ensure_ascii=False)}\n\n"
                if include_usage and len(finished) == len(jobs):
                    usage = _usage(list(finished.values()))
                    yield f"data: {json.dumps({**base, 'object': chunk_obj, 'choices': [], 'usage': usage})}\n\n"
                yield "data: [DONE]\n\n"
            finally:
                # The client went away, time ran out, or another prompt failed: stop spending compute.
                await _cancel(user, [job for index, job in enumerate(jobs) if index not in finished])

        response = StreamingHttpResponse(chunks(), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        return response

    finals: dict[int, tuple[str, dict]] = {}
    try:
        async with aclosing(_events(jobs)) as events:
            async for index, event, data in events:
                if event != "token":
                    finals[index] = (event, data)
                    if event == "timeout" or _failed(event, data):
                        break  # the request has failed: the other prompts need not finish
    finally:
        await _cancel(user, [job for index, job in enumerate(jobs)
                             if index not in finals or finals[index][0] == "timeout"])
    if any(event == "timeout" for event, _data in finals.values()):
        return error(TIMEOUT_MESSAGE, status=504, type_="timeout", code="timeout")
    failed = [data for event, data in finals.values() if _failed(event, data)]
    if failed:
        failure = _failure(failed[0], mode)
        return error(failure["message"], status=400 if failure["code"] else 500, type_=failure["type"],
                     param=failure["param"], code=failure["code"])
    if len(finals) < len(jobs):
        return error("The job ended without a result.", status=500, type_="server_error")
    results = [finals[index][1] for index in range(len(jobs))]
    if mode == "chat":
        choices = [{"index": i, "message": {"role": "assistant", "content": data["output"]},
                    "logprobs": logprobs_of(data), "finish_reason": _finish_reason(data)}
                   for i, data in enumerate(results)]
    else:
        choices = [{"index": i, "text": (data["prompt"] if echo else "") + data["output"],
                    "logprobs": logprobs_of(data), "finish_reason": _finish_reason(data)}
                   for i, data in enumerate(results)]
    return JsonResponse({**base, "object": obj, "choices": choices, "usage": _usage(results)})


def only(*methods: str):
    """A /v1/ view that answers `methods` (the first named in the 405, in OpenAI's shape, for any
    other). It takes an API key only, never a cookie, so it needs no CSRF check: without the
    exemption a client's wrong method would get Django's CSRF page."""
    def decorate(view):
        @csrf_exempt
        @wraps(view)
        async def checked(request, *args, **kwargs):
            if request.method not in methods:
                return error(f"Use {methods[0]}.", status=405)
            return await view(request, *args, **kwargs)
        return checked
    return decorate


@only("POST")
async def chat_completions(request):
    return await _handle(request, "chat")


@only("POST")
async def completions(request):
    return await _handle(request, "completion")
