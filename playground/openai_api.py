"""OpenAI-compatible /v1/ endpoints over the same jobs, queue, quotas and history.

The platform API token is the API key (`Authorization: Bearer <key>`). Errors use OpenAI's JSON
shape: {"error": {"message", "type", "param", "code"}}.
"""
from __future__ import annotations

import json
import time

from asgiref.sync import sync_to_async
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import ErrorDetail

from core.authentication import BadKey, request_user
from core.exceptions import RateLimited
from models_hub.models import Resource

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
               "params.top_p": "top_p", "params.seed": "seed", "params.stop": "stop"}


def _param_name(path: str, body: dict) -> str:
    """Our serializer's error path as the request's own parameter, the way OpenAI names them
    ("messages.[0].content"); never a name the client did not send."""
    parts = [p for p in path.split(".") if p != "non_field_errors"]
    if parts[:1] == ["params"]:
        name = PARAM_NAMES.get(".".join(parts[:2]), parts[-1])
        if name == "max_tokens" and "max_completion_tokens" in body:
            return "max_completion_tokens"
        return name
    return ".".join(f"[{p}]" if p.isdigit() else p for p in parts) or "body"


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_str_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


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
}


def _shape_error(body: dict, mode: str) -> tuple[str, str] | None:
    """(param, message) for the first parameter of the wrong JSON type, else None."""
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model", "You must provide a model parameter (a string)."
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
            for key in ("role", "content"):
                if not isinstance(message.get(key), str):
                    return f"messages.[{i}].{key}", f"'{key}' must be a string."
    else:
        prompt = body.get("prompt")
        if not (isinstance(prompt, str) or _is_str_list(prompt) and len(prompt) == 1):
            return "prompt", "'prompt' must be a string (or an array of exactly one string)."
    return None


# OpenAI's names (and vLLM's extras) -> ours. What a request leaves out comes from the model's
# runtime defaults, as on the playground page and in the jobs API (playground/params.py).
REQUEST_PARAMS = {"max_completion_tokens": "max_new_tokens", "max_tokens": "max_new_tokens",
                  "temperature": "temperature", "top_p": "top_p", "seed": "seed", "stop": "stop",
                  "top_k": "top_k", "repetition_penalty": "repetition_penalty", "min_tokens": "min_new_tokens"}


def _job_input(body: dict, mode: str) -> dict:
    params: dict = {}
    for name, ours in REQUEST_PARAMS.items():
        if body.get(name) is not None and ours not in params:
            params[ours] = body[name]
    if isinstance(params.get("stop"), str):
        params["stop"] = [params["stop"]]
    data = {"model": body.get("model", ""), "mode": mode, "params": params}
    if mode == "chat":
        data["messages"] = body.get("messages")
    else:
        prompt = body.get("prompt")
        data["prompt"] = prompt[0] if isinstance(prompt, list) and len(prompt) == 1 else prompt
    return data


API_KEY_SCHEMES = ("bearer", "token")


async def _authenticated(request):
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


async def models(request):
    user, failure = await _authenticated(request)
    if failure:
        return failure
    rows = await sync_to_async(list)(Resource.objects.runnable().order_by("repo_id"))
    return JsonResponse({"object": "list", "data": [
        {"id": r.repo_id, "object": "model", "created": int(r.created_at.timestamp()), "owned_by": r.owner}
        for r in rows]})


def _submit(user, body: dict, mode: str) -> GenerationJob | JsonResponse:
    shape_error = _shape_error(body, mode)
    if shape_error:
        return error(shape_error[1], status=400, param=shape_error[0])
    if body.get("n") not in (None, 1):
        return error("Only n=1 is supported.", status=400, param="n")
    data = JobCreateSerializer(data=_job_input(body, mode))
    if not data.is_valid():
        param, message = _first_error(data.errors)
        if param == "model":
            return error(message, status=404, param="model", code="model_not_found")
        return error(message, status=400, param=_param_name(param, body))
    v = data.validated_data
    try:
        return services.submit_job(user=user, resource=v["model"], mode=mode, messages=v.get("messages"),
                                   prompt=v.get("prompt", ""), params=v["params"],
                                   source=GenerationJob.Source.OPENAI)
    except RateLimited as exc:
        return error(f"Rate limit reached; retry in {exc.retry_after}s.", status=429, type_="rate_limit_exceeded",
                     code="rate_limit_exceeded", headers={"Retry-After": str(exc.retry_after)})
    except services.QueueUnavailable:
        return error("The inference queue is unavailable.", status=503, type_="server_error")


def _usage(job: dict) -> dict:
    m = job["metrics"]
    prompt, completion = m["prompt_tokens"] or 0, m["completion_tokens"] or 0
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _finish_reason(job: dict) -> str:
    return "length" if job["finish_reason"] == GenerationJob.FinishReason.LENGTH else "stop"


TIMEOUT_MESSAGE = "The job did not finish in time (it was still queued or running), so it was cancelled."


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


async def _handle(request, mode: str):
    user, failure = await _authenticated(request)
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
    job = await sync_to_async(_submit)(user, body, mode)
    if isinstance(job, JsonResponse):
        return job
    created, model = int(time.time()), job.resource.repo_id
    obj = "chat.completion" if mode == "chat" else "text_completion"
    ident = f"{'chatcmpl' if mode == 'chat' else 'cmpl'}-{job.pk}"
    base = {"id": ident, "created": created, "model": model}

    def choice(text: str, finish: str | None) -> dict:
        if mode == "chat":
            return {"index": 0, "delta": {"content": text} if text else {}, "finish_reason": finish}
        return {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}

    if body.get("stream"):
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        async def chunks():
            finished = False
            try:
                if mode == "chat":
                    first = {**base, "object": "chat.completion.chunk",
                             "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                          "finish_reason": None}]}
                    yield f"data: {json.dumps(first)}\n\n"
                chunk_obj = "chat.completion.chunk" if mode == "chat" else "text_completion"
                async for item in job_events(job):
                    event, data = item.kind, (item.data.get("text", "") if item.kind == "token" else item.data)
                    if event == "token":
                        yield f"data: {json.dumps({**base, 'object': chunk_obj, 'choices': [choice(data, None)]}, ensure_ascii=False)}\n\n"
                        continue
                    if event == "timeout":  # still queued or running at the stream's limit: give up
                        yield f"data: {json.dumps({'error': {'message': TIMEOUT_MESSAGE, 'type': 'timeout'}})}\n\n"
                        break
                    finished = True
                    if event == "failed":
                        yield f"data: {json.dumps({'error': {'message': data['error'], 'type': 'server_error'}})}\n\n"
                        break
                    yield f"data: {json.dumps({**base, 'object': chunk_obj, 'choices': [choice('', _finish_reason(data))]})}\n\n"
                    if include_usage:
                        yield f"data: {json.dumps({**base, 'object': chunk_obj, 'choices': [], 'usage': _usage(data)})}\n\n"
                yield "data: [DONE]\n\n"
            finally:
                if not finished:  # the client went away or time ran out: stop spending compute on it
                    await sync_to_async(services.cancel_job)(user=user, job=job)

        response = StreamingHttpResponse(chunks(), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        return response

    final = None
    try:
        async for item in job_events(job):
            if item.kind != "token":
                final = (item.kind, item.data)
    finally:
        if final is None or final[0] == "timeout":  # the client went away or time ran out
            await sync_to_async(services.cancel_job)(user=user, job=job)
    if final is not None and final[0] == "timeout":
        return error(TIMEOUT_MESSAGE, status=504, type_="timeout", code="timeout")
    if final is None or final[0] == "failed":
        message = final[1]["error"] if final else "The job ended without a result."
        return error(message, status=500, type_="server_error")
    data = final[1]
    if mode == "chat":
        choices = [{"index": 0, "message": {"role": "assistant", "content": data["output"]},
                    "logprobs": None, "finish_reason": _finish_reason(data)}]
    else:
        choices = [{"index": 0, "text": data["output"], "logprobs": None, "finish_reason": _finish_reason(data)}]
    return JsonResponse({**base, "object": obj, "choices": choices, "usage": _usage(data)})


@csrf_exempt
async def chat_completions(request):
    if request.method != "POST":
        return error("Use POST.", status=405)
    return await _handle(request, "chat")


@csrf_exempt
async def completions(request):
    if request.method != "POST":
        return error("Use POST.", status=405)
    return await _handle(request, "completion")
