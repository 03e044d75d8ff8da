"""The web side of playground jobs: submit with quotas, cancel, share, post to the forum.

What runs in the worker is in `runner.py` (and `reaper.py`); the engine is in `engine/`.
"""
from __future__ import annotations

from datetime import timedelta
from functools import partial

import redis
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import Category, User
from community.services import create_thread
from core.exceptions import RateLimited, ServiceUnavailable
from models_hub.models import Resource

from . import params as generation_params
from .models import GenerationJob
from .permissions import can_cancel, can_post_to_forum, can_share
from .tasks import enqueue

Status = GenerationJob.Status


class QueueUnavailable(ServiceUnavailable):
    """The broker cannot be reached; nothing was queued."""


def check_broker() -> None:
    if not settings.REDIS_URL:
        return  # the filesystem transport needs no server
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as exc:
        raise QueueUnavailable(str(exc)) from exc


def _enforce_quota(user: User) -> None:
    if user.is_staff:
        return
    User.objects.select_for_update().filter(pk=user.pk).first()  # serialise this user's submits
    jobs = GenerationJob.objects.filter(user=user)
    if jobs.active().count() >= settings.PLAYGROUND_MAX_ACTIVE_JOBS:
        raise RateLimited(retry_after=5)
    hour_ago = timezone.now() - timedelta(hours=1)
    recent = jobs.filter(created_at__gte=hour_ago).order_by("created_at")
    if recent.count() >= settings.PLAYGROUND_JOBS_PER_HOUR:
        oldest = recent.values_list("created_at", flat=True).first()
        raise RateLimited(retry_after=(oldest + timedelta(hours=1) - timezone.now()).total_seconds())


def submit_job(*, user: User, resource: Resource, mode: str, messages: list[dict] | None = None,
               prompt: str = "", params: dict, source: str = GenerationJob.Source.API) -> GenerationJob:
    """Create a queued job and hand it to the inference queue once it is committed."""
    check_broker()
    with transaction.atomic():
        _enforce_quota(user)
        job = GenerationJob.objects.create(
            user=user, resource=resource, mode=mode, messages=messages or [], prompt=prompt or "",
            params=generation_params.effective_params(resource.runtime, params), source=source)
        transaction.on_commit(partial(_dispatch, job.pk))  # a worker must find the row
    return job


def _dispatch(job_id: int) -> None:
    try:
        enqueue(GenerationJob.objects.select_related("resource__runtime").get(pk=job_id))
    except Exception as exc:  # the broker went away between the check and now
        GenerationJob.objects.filter(pk=job_id).update(
            status=Status.FAILED, error=_("The inference queue is unavailable."), finished_at=timezone.now())
        raise QueueUnavailable(str(exc)) from exc


def cancel_job(*, user: User, job: GenerationJob) -> GenerationJob:
    if not can_cancel(user, job):
        raise PermissionDenied
    GenerationJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    # A job no worker has started yet is cancelled at once.
    GenerationJob.objects.filter(pk=job.pk, status=Status.QUEUED).update(
        status=Status.CANCELLED, finished_at=timezone.now(), finish_reason=GenerationJob.FinishReason.CANCELLED)
    job.refresh_from_db()
    return job


def set_public(*, user: User, job: GenerationJob, public: bool) -> GenerationJob:
    if not can_share(user, job):
        raise PermissionDenied
    job.is_public = public
    job.save(update_fields=["is_public"])
    return job


@transaction.atomic
def post_to_forum(*, user: User, job: GenerationJob, category: Category, title: str):
    """A thread quoting the run's model, parameters, prompt and output, linked back to it."""
    if not can_post_to_forum(user, job):
        raise PermissionDenied
    if not job.is_public:
        job.is_public = True  # the thread links to the run, so readers must be able to open it
    conversation = job.prompt if job.mode == GenerationJob.Mode.COMPLETION else "\n\n".join(
        f"**{m['role']}**: {m['content']}" for m in job.messages)
    params = ", ".join(f"`{k}={v}`" for k, v in sorted(job.params.items()))
    quoted = "\n".join("> " + line for line in (job.output or "").splitlines() or [""])
    body = (f"Model: [{job.resource.repo_id}]({job.resource.get_absolute_url()}) · {job.mode}\n\n"
            f"Parameters: {params or '(defaults)'}\n\n### Prompt\n\n{conversation}\n\n"
            f"### Output\n\n{quoted}\n\n[Open the run]({job.get_absolute_url()})")
    thread = create_thread(author=user, category=category, title=title, body=body,
                           tags=["playground"])
    job.thread = thread
    job.save(update_fields=["is_public", "thread"])
    return thread
