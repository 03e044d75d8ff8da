"""What a /v1/ request asks for, in OpenAI's shapes: the checks on its body, the jobs API input
it becomes, and OpenAI's error object for what is wrong with it."""
from __future__ import annotations

import math

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from rest_framework.exceptions import ErrorDetail

from core.quotas import Usage


def error(message: str, *, status: int, type_: str = "invalid_request_error", param: str | None = None,
          code: str | None = None, headers: dict | None = None) -> JsonResponse:
    response = JsonResponse({"error": {"message": message, "type": type_, "param": param, "code": code}},
                            status=status)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def duration(seconds: float) -> str:
    """A wait as OpenAI's headers write it: 45s, 6m0s, 1h0m0s."""
    seconds = math.ceil(max(0.0, seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{seconds}s"
    return f"{minutes}m{seconds}s" if minutes else f"{seconds}s"


def rate_limit_headers(usage: Usage | None) -> dict[str, str]:
    """OpenAI's x-ratelimit-*-requests headers from the member's hourly quota (staff have none):
    the reset is when the oldest request within the hour leaves it, freeing a place."""
    if usage is None:
        return {}
    wait = (usage.frees_at - timezone.now()).total_seconds() if usage.frees_at else 0
    return {"x-ratelimit-limit-requests": str(usage.max_in_window),
            "x-ratelimit-remaining-requests": str(usage.remaining),
            "x-ratelimit-reset-requests": duration(wait)}


def first_error(errors, prefix: str = "") -> tuple[str, str]:
    """The first (param, message) in DRF's nested error structure."""
    if isinstance(errors, dict):
        key, value = next(iter(errors.items()))
        return first_error(value, f"{prefix}.{key}" if prefix else str(key))
    if isinstance(errors, list) and errors:
        if isinstance(errors[0], (dict, list)):
            return first_error(next(e for e in errors if e), prefix)
        return prefix, str(errors[0])
    return prefix, str(errors if isinstance(errors, ErrorDetail) else "Invalid request.")


PARAM_NAMES = {"params.max_new_tokens": "max_tokens", "params.temperature": "temperature",
               "params.top_p": "top_p", "params.seed": "seed", "params.stop": "stop",
               "params.logprobs": "logprobs", "params.top_logprobs": "top_logprobs", "params.echo": "echo",
               "params.min_new_tokens": "min_tokens", "params.top_k": "top_k",
               "params.repetition_penalty": "repetition_penalty", "params.presence_penalty": "presence_penalty",
               "params.frequency_penalty": "frequency_penalty"}
LEGACY_MAX_LOGPROBS = 5  # /v1/completions' `logprobs`, as OpenAI bounds it


def param_name(path: str, body: dict) -> str:
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
    "presence_penalty": (_is_number, "a number"),
    "frequency_penalty": (_is_number, "a number"),
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
    "logit_bias": lambda v: v == {}, "best_of": lambda v: _is_int(v) and v == 1, "suffix": lambda v: v == "",
    "response_format": lambda v: v == {"type": "text"}, "modalities": lambda v: v == ["text"],
    "audio": lambda v: False, "prediction": lambda v: False,
}


def _unsupported(body: dict) -> str | None:
    return next((name for name, neutral in UNSUPPORTED.items()
                 if body.get(name) is not None and not neutral(body[name])), None)


def shape_error(body: dict, mode: str) -> tuple[str, str] | None:
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
                  "top_k": "top_k", "repetition_penalty": "repetition_penalty", "min_tokens": "min_new_tokens",
                  "presence_penalty": "presence_penalty", "frequency_penalty": "frequency_penalty"}


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


def job_inputs(body: dict, mode: str) -> list[dict]:
    """The jobs API's input for each job the request makes: one per prompt."""
    params: dict = {}
    for name, ours in REQUEST_PARAMS.items():
        if body.get(name) is not None and ours not in params:
            params[ours] = body[name]
    if isinstance(params.get("stop"), str):
        params["stop"] = [params["stop"]]
    # OpenAI takes any 64-bit seed and a top_p of 0. The engine's seeds are 0 to 2**63 - 1, so a
    # negative one maps to one of those (the same each time); and top_p 0 keeps only the likeliest
    # token, which is greedy decoding.
    if _is_int(params.get("seed")) and -2**63 <= params["seed"] < 0:
        params["seed"] += 2**63
    if params.get("top_p") == 0:
        del params["top_p"]
        params["temperature"] = 0
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
