"""Manage how catalogue models run: `runtime add`, `runtime list`, `runtime queues`.

    python manage.py runtime add <repo_id> --backend openai --base-url URL --served-model NAME \\
        [--api-key-env VAR] [--upstream-params top_k,repetition_penalty,min_tokens] \\
        [--max-new-tokens N] [--context-length N] [--param temperature=0.3 ...]
    python manage.py runtime add <repo_id> --backend embedded --source package|local|hub \\
        --location X [--gguf-file F] [...]
    python manage.py runtime list
    python manage.py runtime queues [--backend embedded] [--also default]
"""
from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from models_hub.models import Resource, Runtime
from playground import params as generation_params
from playground.queues import queue_for, queues


def _param(text: str) -> tuple[str, object]:
    name, _, value = text.partition("=")
    names = [n for n in generation_params.ALL_PARAMS if n not in generation_params.UPSTREAM_FEATURES]  # per request
    if not value or name not in names:
        raise CommandError(f"--param takes NAME=VALUE with NAME one of {', '.join(names)}")
    try:
        return name, json.loads(value)
    except ValueError:
        return name, value


class Command(BaseCommand):
    help = "Add, list and show the queues of model runtimes (how catalogue models run)."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Make a catalogue model runnable (created if missing).")
        add.add_argument("repo_id")
        add.add_argument("--backend", choices=Runtime.Backend.values, required=True)
        add.add_argument("--base-url", default="")
        add.add_argument("--served-model", default="")
        add.add_argument("--api-key-env", default="")
        add.add_argument("--upstream-params", default="",
                         help="comma-separated, e.g. top_k,repetition_penalty,min_tokens,logprobs,echo")
        add.add_argument("--source", choices=Runtime.Source.values, default="")
        add.add_argument("--location", default="")
        add.add_argument("--gguf-file", default="")
        add.add_argument("--max-new-tokens", type=int)
        add.add_argument("--context-length", type=int)
        add.add_argument("--param", action="append", default=[], type=_param, help="a default, NAME=VALUE")
        add.add_argument("--disabled", action="store_true")
        sub.add_parser("list", help="One line per runtime, starting with its repo_id.")
        show = sub.add_parser("queues", help="Comma-separated queue names for a worker's -Q.")
        show.add_argument("--backend", choices=Runtime.Backend.values)
        show.add_argument("--also", action="append", default=[], help="another queue to include, e.g. default")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"_{action}")(**options)

    @transaction.atomic
    def _add(self, *, repo_id: str, backend: str, param: list, upstream_params: str, disabled: bool,
             max_new_tokens: int | None, context_length: int | None, **options) -> None:
        owner, slash, name = repo_id.partition("/")
        if not slash or not owner or not name:
            raise CommandError("repo_id is owner/name")
        resource, created = Resource.objects.get_or_create(
            kind=Resource.Kind.MODEL, owner=owner, name=name, defaults={"title": name})
        runtime = Runtime.objects.filter(resource=resource).first() or Runtime(resource=resource)
        fields = {key: options[key] for key in ("base_url", "served_model", "api_key_env", "source", "location",
                                                "gguf_file")}
        runtime.backend, runtime.enabled = backend, not disabled
        for key, value in fields.items():
            setattr(runtime, key, value)
        runtime.upstream_params = [p.strip() for p in upstream_params.split(",") if p.strip()]
        if max_new_tokens is not None:
            runtime.max_new_tokens = max_new_tokens
        if context_length is not None:
            runtime.context_length = context_length
        runtime.default_params = {**runtime.default_params, **dict(param)}
        try:
            runtime.full_clean(exclude=["resource"])
        except ValidationError as exc:
            raise CommandError("; ".join(f"--{k.replace('_', '-')}: {' '.join(v)}"
                                         for k, v in exc.message_dict.items())) from exc
        runtime.save()
        self.stdout.write(self.style.SUCCESS(
            f"{'Created' if created else 'Updated'} {repo_id}: {backend}, queue {queue_for(runtime)}. "
            f"A worker must consume that queue (celery -A config worker -Q {queue_for(runtime)} ...)."))

    def _list(self, **options) -> None:
        for runtime in Runtime.objects.select_related("resource").order_by("resource__owner", "resource__name"):
            target = (f"{runtime.base_url} model={runtime.served_model}" if runtime.backend == Runtime.Backend.OPENAI
                      else f"{runtime.source}:{runtime.location}{'/' + runtime.gguf_file if runtime.gguf_file else ''}")
            state = "enabled" if runtime.enabled else "disabled"
            self.stdout.write(f"{runtime.resource.repo_id}\t{runtime.backend}\t{queue_for(runtime)}\t{target}\t{state}")

    def _queues(self, *, backend: str | None, also: list[str], **options) -> None:
        self.stdout.write(",".join(queues(backend=backend) + also))
