"""Playground jobs: submit with quotas, run on a worker, cancel, reap, share, post to the forum."""
from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from community.exceptions import RateLimited
from community.models import Category, User
from community.services import create_thread
from models_hub.models import Resource

from .engine import EngineRegistry, GenerationRequest, ModelLoadError, RuntimeSpec
from .models import GenerationJob
from .streams import TokenPublisher

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 2  # the first delivery and one re-delivery after a worker died
Status = GenerationJob.Status


class QueueUnavailable(Exception):
    """The broker cannot be reached; nothing was queued."""


def check_broker() -> None:
    if not settings.REDIS_URL:
        return  # the filesystem transport needs no server
    import redis

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
               prompt: str = "", params: dict, source: str = "api") -> GenerationJob:
    """Create a queued job and hand it to the inference queue once it is committed."""
    from .tasks import run_generation_job

    check_broker()
    with transaction.atomic():
        _enforce_quota(user)
        job = GenerationJob.objects.create(user=user, resource=resource, mode=mode,
                                           messages=messages or [], prompt=prompt or "",
                                           params=params, source=source)
    try:
        run_generation_job.apply_async((job.pk,), retry=False)
    except Exception as exc:  # the broker went away between the check and now
        GenerationJob.objects.filter(pk=job.pk).update(
            status=Status.FAILED, error=_("The inference queue is unavailable."), finished_at=timezone.now())
        raise QueueUnavailable(str(exc)) from exc
    return job


def cancel_job(*, user: User, job: GenerationJob) -> GenerationJob:
    if job.user_id != user.pk and not user.is_staff:
        raise PermissionDenied
    GenerationJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    # A job no worker has started yet is cancelled at once.
    GenerationJob.objects.filter(pk=job.pk, status=Status.QUEUED).update(
        status=Status.CANCELLED, finished_at=timezone.now(), finish_reason="cancelled")
    job.refresh_from_db()
    return job


# --- worker side -------------------------------------------------------------------------------
_registry: EngineRegistry | None = None
_registry_lock = threading.Lock()


def engine_registry() -> EngineRegistry:
    """One registry per worker process: models load once and stay warm across jobs."""
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = EngineRegistry(
                cache_dir=Path(settings.MODEL_CACHE_DIR), max_models=settings.PLAYGROUND_WARM_MODELS,
                max_batch=settings.PLAYGROUND_MAX_BATCH,
            )
        return _registry


def _claim(job_id: int, worker: str) -> GenerationJob | None:
    """Mark the job running; None when there is nothing to do (finished, cancelled, retried out)."""
    with transaction.atomic():
        job = (GenerationJob.objects.select_for_update(of=("self",)).select_related("resource__runtime")
               .filter(pk=job_id).first())
        if job is None or job.is_finished:
            return None  # a re-delivered finished job is a no-op
        now = timezone.now()
        alive_since = now - timedelta(seconds=settings.PLAYGROUND_STALE_AFTER_S)
        if job.status == Status.RUNNING and job.heartbeat_at and job.heartbeat_at > alive_since:
            return None  # a live worker has it (the broker re-delivered early); the reaper covers deaths
        if job.cancel_requested:
            job.status, job.finished_at, job.finish_reason = Status.CANCELLED, now, "cancelled"
            job.save(update_fields=["status", "finished_at", "finish_reason"])
            return None
        if job.attempts >= MAX_ATTEMPTS:
            job.status, job.finished_at = Status.FAILED, now
            job.error = _("The worker running this job stopped twice; giving up.")
            job.save(update_fields=["status", "finished_at", "error"])
            return None
        job.status, job.started_at, job.heartbeat_at, job.worker = Status.RUNNING, now, now, worker[:200]
        job.attempts = F("attempts") + 1
        job.output = ""
        job.save(update_fields=["status", "started_at", "heartbeat_at", "worker", "attempts", "output"])
        job.refresh_from_db(fields=["attempts"])
        return job


def _request_for(job: GenerationJob, engine, *, on_delta, should_cancel) -> GenerationRequest:
    runtime = job.resource.runtime
    params = {**runtime.default_params, **job.params}
    if job.mode == GenerationJob.Mode.CHAT:
        prompt_ids = engine.encode_chat(job.messages)
    else:
        prompt_ids = engine.encode_text(job.prompt)
    max_new = min(int(params.get("max_new_tokens", 256)), runtime.max_new_tokens)
    if len(prompt_ids) + max_new > runtime.context_length:
        raise ValidationError(_("The prompt has %(n)d tokens; with %(m)d new tokens it exceeds the "
                                "model's context of %(c)d.") % {"n": len(prompt_ids), "m": max_new,
                                                              "c": runtime.context_length})
    return GenerationRequest(
        prompt_ids=prompt_ids, max_new_tokens=max_new,
        temperature=float(params.get("temperature", 0.7)), top_p=float(params.get("top_p", 1.0)),
        top_k=int(params.get("top_k", 0)), repetition_penalty=float(params.get("repetition_penalty", 1.0)),
        seed=params.get("seed"), stop=list(params.get("stop") or []),
        min_new_tokens=int(params.get("min_new_tokens", 0)),
        on_delta=on_delta, should_cancel=should_cancel,
    )


def _follow(job: GenerationJob, pending, deltas: queue.SimpleQueue, cancel: threading.Event,
            publisher: TokenPublisher):
    """On the task's thread: publish deltas as they come and watch for a cancel request, so the
    engine's decode loop never waits on the database or Redis."""
    last_check = 0.0
    while True:
        finished = pending.wait(0.02)
        while not deltas.empty():
            publisher.publish(deltas.get())
        if finished:
            return pending.outcome()
        if not cancel.is_set() and time.monotonic() - last_check > 0.25:
            last_check = time.monotonic()
            if GenerationJob.objects.filter(pk=job.pk, cancel_requested=True).exists():
                cancel.set()


def execute_job(*, job_id: int, worker: str = "") -> None:
    """Run one job on this worker's warm engine, streaming its tokens as they are decoded."""
    from .serializers import job_payload

    job = _claim(job_id, worker)
    if job is None:
        return

    def flush_row(text: str) -> None:
        GenerationJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(
            output=text, heartbeat_at=timezone.now())

    publisher = TokenPublisher(job, flush_row)  # a fresh attempt starts a fresh stream
    stop_heartbeat = _start_heartbeat(job.pk)
    try:
        engine = engine_registry().get(RuntimeSpec.from_dict(job.resource.runtime.spec()))
        deltas, cancel = queue.SimpleQueue(), threading.Event()
        request = _request_for(job, engine, on_delta=deltas.put, should_cancel=cancel.is_set)
        result = _follow(job, engine.submit(request), deltas, cancel, publisher)
    except (ModelLoadError, ValidationError) as exc:
        _finish(job, status=Status.FAILED, error=" ".join(getattr(exc, "messages", [str(exc)])))
    except Exception as exc:
        log.exception("job %s failed", job.pk)
        _finish(job, status=Status.FAILED, error=f"{type(exc).__name__}: {exc}")
    else:
        cancelled = result.finish_reason == "cancelled"
        _finish(job, status=Status.CANCELLED if cancelled else Status.SUCCEEDED, output=result.text,
                finish_reason=result.finish_reason, prompt_tokens=result.prompt_tokens,
                completion_tokens=result.completion_tokens, ttft_ms=result.ttft_s * 1000,
                tokens_per_s=result.tokens_per_s)
    finally:
        stop_heartbeat.set()
    job = GenerationJob.objects.select_related("resource").filter(pk=job.pk).first()
    if job is None:
        return  # deleted while it ran
    payload = job_payload(job)
    publisher.close("error" if job.status == Status.FAILED else "done", payload)


def _start_heartbeat(job_id: int) -> threading.Event:
    """Touch the job while it runs (model loads included), so the reaper knows its worker lives."""
    stop = threading.Event()

    def beat() -> None:
        from django.db import connection

        while not stop.wait(settings.PLAYGROUND_HEARTBEAT_S):
            GenerationJob.objects.filter(pk=job_id, status=Status.RUNNING).update(heartbeat_at=timezone.now())
        connection.close()

    threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True).start()
    return stop


def _finish(job: GenerationJob, *, status: str, **fields) -> None:
    GenerationJob.objects.filter(pk=job.pk).update(status=status, finished_at=timezone.now(), **fields)


def reap_stuck_jobs() -> int:
    """Jobs whose worker stopped sending heartbeats: re-queue once, then fail. Returns how many."""
    from .tasks import run_generation_job

    cutoff = timezone.now() - timedelta(seconds=settings.PLAYGROUND_STALE_AFTER_S)
    deadline = timezone.now() - timedelta(seconds=settings.PLAYGROUND_JOB_DEADLINE_S)
    stuck = GenerationJob.objects.filter(status=Status.RUNNING).filter(heartbeat_at__lt=cutoff)
    stuck = stuck | GenerationJob.objects.filter(status=Status.RUNNING, started_at__lt=deadline)
    count = 0
    for job in stuck.distinct():
        with transaction.atomic():
            job = GenerationJob.objects.select_for_update().get(pk=job.pk)
            if job.status != Status.RUNNING:
                continue
            if job.attempts < MAX_ATTEMPTS and job.started_at >= deadline:
                job.status = Status.QUEUED
                job.save(update_fields=["status"])
                transaction.on_commit(lambda pk=job.pk: run_generation_job.delay(pk))
            else:
                job.status, job.finished_at = Status.FAILED, timezone.now()
                job.error = _("The job stopped making progress (its worker died) and was abandoned.")
                job.save(update_fields=["status", "finished_at", "error"])
        count += 1
    return count


def set_public(*, user: User, job: GenerationJob, public: bool) -> GenerationJob:
    if job.user_id != user.pk:
        raise PermissionDenied
    job.is_public = public
    job.save(update_fields=["is_public"])
    return job


@transaction.atomic
def post_to_forum(*, user: User, job: GenerationJob, category: Category, title: str):
    """A thread quoting the run's model, parameters, prompt and output, linked back to it."""
    if job.user_id != user.pk:
        raise PermissionDenied
    if not job.is_public:
        job.is_public = True  # the thread links to the run, so readers must be able to open it
    conversation = job.prompt if job.mode == "completion" else "\n\n".join(
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
