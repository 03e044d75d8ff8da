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
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from core.authentication import BadKey, request_user
from core.db import release_connection, released
from core.exceptions import RateLimited
from core.queues import QueueUnavailable

from . import services
from .events import job_events
from .models import GenerationJob
from .openai_request import error, first_error, job_inputs, param_name, rate_limit_headers, shape_error
from .serializers import JobCreateSerializer



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


def _submit(user, body: dict, mode: str) -> tuple[list[GenerationJob] | JsonResponse, dict]:
    """The request's jobs, one per prompt (in order), submitted together, or the error response;
    and OpenAI's rate-limit headers once it was counted against the quota."""
    answer = _submit_jobs(user, body, mode)
    if isinstance(answer, JsonResponse) and answer.status_code != 429:
        return answer, {}
    usage = services.quota_usage(user)
    if isinstance(answer, JsonResponse) and usage is not None and usage.remaining:
        return answer, {}  # refused for the jobs still running (Retry-After), not the hour's count
    return answer, rate_limit_headers(usage)


def _submit_jobs(user, body: dict, mode: str) -> list[GenerationJob] | JsonResponse:
    wrong = shape_error(body, mode)
    if wrong:
        return error(wrong[1], status=400, param=wrong[0])
    if body.get("n") not in (None, 1):
        return error("Only n=1 is supported.", status=400, param="n")
    inputs = []
    for item in job_inputs(body, mode):
        data = JobCreateSerializer(data=item, context={"user": user})
        if not data.is_valid():
            param, message = first_error(data.errors)
            if param == "model":
                return error(message, status=404, param="model", code="model_not_found")
            return error(message, status=400, param=param_name(param, body))
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
    jobs, limits = await sync_to_async(_submit)(user, body, mode)
    response = jobs if isinstance(jobs, JsonResponse) else await _respond(user, body, mode, jobs)
    for name, value in limits.items():
        response[name] = value
    return response


async def _respond(user, body: dict, mode: str, jobs: list[GenerationJob]):
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


CORS_PREFLIGHT_MAX_AGE_S = 600  # every answer's CORS headers: core.middleware.V1CorsMiddleware


def only(*methods: str):
    """A /v1/ view that answers `methods` (the first named in the 405, in OpenAI's shape, for any
    other) and a browser's CORS preflight. It takes an API key only, never a cookie, so it needs
    no CSRF check: without the exemption a client's wrong method would get Django's CSRF page."""
    def decorate(view):
        @csrf_exempt
        @wraps(view)
        async def checked(request, *args, **kwargs):
            if request.method == "OPTIONS":  # a browser app's preflight
                response = HttpResponse(status=204)
                response["Access-Control-Allow-Methods"] = ", ".join(methods)
                # Authorization must be named: a wildcard does not cover it. The SDKs add their own
                # x-stainless-* headers, which the wildcard does.
                response["Access-Control-Allow-Headers"] = "Authorization, *"
                response["Access-Control-Max-Age"] = str(CORS_PREFLIGHT_MAX_AGE_S)
                return response
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
