"""The worker side of a job: claim it, run it on this process's warm engine, stream its text,
keep it alive with heartbeats, and record how it ended. Runs in Celery workers only.

Every job has a wall-clock deadline (PLAYGROUND_JOB_DEADLINE_S) that holds under any pool: the
engine ends the row at the deadline, and the task's thread stops waiting shortly after it even
if the engine is stuck. A worker told to stop closes its engines; the jobs it holds are handed
back to the queue (see tasks.py) instead of keeping the worker alive.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core import attempts
from core.heartbeat import start_heartbeat
from core.i18n import in_language_of

from . import params as generation_params
from .backends import Arrival, BackendError, Handle, JobInput, backend_for, close_engines
from .engine import EngineClosed, GenerationError, ModelLoadError
from .models import GenerationJob
from .eventlog import JobLog

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 2  # the first delivery and one re-delivery after a worker died
Status = GenerationJob.Status

DEADLINE_GRACE_S = 15  # past the deadline, how long the task waits for the backend to give up
# How often the task looks for a cancel event. While the job appends text, the log pump finds a
# cancel at its next append (one that skips a number) and stops the job itself; the task's look
# is for a job without appends (a prefill, a wait for a place in the batch, a model loading, a
# slow upstream). 8 running jobs wake 32 times a second, not 80: each wake takes the
# interpreter's lock from the engine's thread.
CANCEL_CHECK_S = 0.25
# A job appending text reads the log only after this long without one of its own appends.
QUIET_S = 0.3
ROW_EVERY_S = 1.0  # how often the row gets the text so far (and is asked whether to stop)
_stopping = threading.Event()


class HandedBack(Exception):
    """This worker is stopping: the job went back to `queued` for another worker to run."""


class DeadlineExceeded(Exception):
    """The engine did not end the job by its deadline."""


def _claim(job_id: int, worker: str) -> GenerationJob | None:
    """Mark the job running; None when there is nothing to do (finished, cancelled, retried out)."""
    with transaction.atomic():
        job = (GenerationJob.objects.select_for_update(of=("self",)).select_related("resource__runtime", "user")
               .filter(pk=job_id).first())
        if job is None or job.is_finished:
            return None  # a re-delivered finished job is a no-op
        now = timezone.now()
        alive_since = now - timedelta(seconds=settings.PLAYGROUND_STALE_AFTER_S)
        if job.status == Status.RUNNING and job.heartbeat_at and job.heartbeat_at > alive_since:
            return None  # a live worker has it (the broker re-delivered early); the reaper covers deaths
        if job.cancel_requested:
            job.status, job.finished_at, job.finish_reason = Status.CANCELLED, now, GenerationJob.FinishReason.CANCELLED
            job.save(update_fields=["status", "finished_at", "finish_reason"])
            return None
        if job.attempts >= MAX_ATTEMPTS:
            job.status, job.finished_at = Status.FAILED, now
            with in_language_of(job.user):
                job.error = _("The worker running this job stopped twice; giving up.")
            job.save(update_fields=["status", "finished_at", "error"])
            return None
        job.status, job.started_at, job.heartbeat_at, job.worker = Status.RUNNING, now, now, worker[:200]
        job.attempts += 1  # the row is locked: nobody else counts meanwhile
        job.output = ""
        job.save(update_fields=["status", "started_at", "heartbeat_at", "worker", "attempts", "output"])
        return job


def shutdown(**_kwargs) -> None:
    """worker_shutting_down receiver: refuse new work and fail what the engines hold at once, so
    that the worker stops within a step instead of waiting for every job to finish."""
    _stopping.set()
    close_engines()


def _deadline(job: GenerationJob) -> float:
    """The job's deadline as a time.monotonic() instant."""
    ends = job.started_at + timedelta(seconds=settings.PLAYGROUND_JOB_DEADLINE_S)
    return time.monotonic() + (ends - timezone.now()).total_seconds()


def _input_for(job: GenerationJob) -> JobInput:
    runtime = job.resource.runtime
    return JobInput(mode=job.mode, messages=job.messages, prompt=job.prompt,
                    params=generation_params.effective_params(runtime, job.params),
                    context_length=runtime.context_length, deadline=_deadline(job), prompt_ids=job.prompt_ids,
                    logprobs_max=_logprobs_share(job))


def _logprobs_share(job: GenerationJob) -> int:
    """The job's share of its request's PLAYGROUND_MAX_LOGPROBS: the web answers a request with
    all its jobs' log-probabilities at once."""
    if not job.params.get("logprobs"):
        return 0
    jobs = GenerationJob.objects.filter(request_group=job.request_group).count() if job.request_group else 1
    return settings.PLAYGROUND_MAX_LOGPROBS // max(1, jobs)


def _follow(job: GenerationJob, handle: Handle, job_log: JobLog, deadline: float):
    """On the task's thread, while the backend streams its text to the log (through the pump):
    watch the log for a cancel event, keep the row's text current and hold the deadline. The
    thread wakes every CANCEL_CHECK_S, not per token; a look costs nothing while the job's
    appends come steadily (see QUIET_S)."""
    last_row_update = time.monotonic()  # the row has had no text yet
    give_up_at = deadline + DEADLINE_GRACE_S
    while not handle.wait(CANCEL_CHECK_S):
        if time.monotonic() > give_up_at:
            handle.cancel()  # the backend lets go whenever it can
            raise DeadlineExceeded
        if not handle.cancelled.is_set() and job_log.cancel_requested(unless_seen_within=QUIET_S):
            handle.cancel()
        if time.monotonic() - last_row_update >= ROW_EVERY_S:
            last_row_update = time.monotonic()
            if not _update_row(job, job_log.text) and not handle.cancelled.is_set():
                handle.cancel()
    return handle.result()


def _update_row(job: GenerationJob, text: str) -> bool:
    """The text so far on the row, for its readers (history, a reload, a reader whose log is
    down); False when the row says stop: its cancel flag is set (the cancel event may not have
    reached a log that was down) or this attempt no longer holds it (the reaper took it back)."""
    return bool(attempts.held(job).filter(cancel_requested=False).update(output=text, heartbeat_at=timezone.now()))


def execute_job(*, job_id: int, worker: str = "") -> None:
    """Run one job on this worker's warm engine, streaming its tokens as they are decoded.

    Raises HandedBack when the worker is stopping and the job went back to the queue."""
    if _stopping.is_set():
        raise HandedBack  # not claimed: tasks.py queues it again for another worker
    with Arrival() as arrival:  # on its way to an engine until its request is submitted
        job = _claim(job_id, worker)
        if job is not None:
            with in_language_of(job.user):  # errors are worded for the member who asked
                _run_claimed(job, arrival)


def _run_claimed(job: GenerationJob, arrival: Arrival) -> None:
    job_log = JobLog(job)  # a fresh attempt starts a fresh log
    stop_heartbeat = _start_heartbeat(job)
    try:
        job_input = _input_for(job)
        handle = backend_for(job.resource.runtime).start(job_input, on_delta=job_log.deliver)
        job_log.on_cancel = handle.cancel
        arrival.done()
        result = _follow(job, handle, job_log, job_input.deadline)
    except EngineClosed:
        stop_heartbeat.set()
        if _stopping.is_set():
            # The log first: once the row is queued, another worker may claim the job under this
            # attempt's number, and a reset landing after its start would wipe its log.
            job_log.discard()
            _hand_back(job)
            raise HandedBack from None
        status = attempts.finish(job, status=Status.FAILED, error=_("The model was unloaded while this job ran."))
    except DeadlineExceeded:
        status = attempts.finish(job, status=Status.FAILED, output=job_log.text,
                                 error=_("The job did not finish within its time limit of %(s)d seconds.")
                                 % {"s": settings.PLAYGROUND_JOB_DEADLINE_S})
    except (ModelLoadError, ValidationError, GenerationError, BackendError) as exc:
        status = attempts.finish(job, status=Status.FAILED, error=" ".join(getattr(exc, "messages", [str(exc)])),
                                 error_code=exc.code if isinstance(exc, BackendError) else "")
    except Exception as exc:
        log.exception("job %s failed", job.pk)
        status = attempts.finish(job, status=Status.FAILED, error=f"{type(exc).__name__}: {exc}")
    else:
        cancelled = result.finish_reason == GenerationJob.FinishReason.CANCELLED  # "timeout" succeeds
        extra = {"prompt": result.prompt_text} if job.prompt_ids and result.prompt_text is not None else {}
        status = attempts.finish(job, status=Status.CANCELLED if cancelled else Status.SUCCEEDED,
                                 output=result.text, finish_reason=result.finish_reason,
                                 prompt_tokens=result.prompt_tokens, completion_tokens=result.completion_tokens,
                                 ttft_ms=result.ttft_s * 1000 if result.ttft_s is not None else None,
                                 tokens_per_s=result.tokens_per_s, logprobs=result.logprobs, **extra)
    finally:
        stop_heartbeat.set()
    if status is None:
        job_log.abandon()  # superseded: the reaper ended the job, or another attempt holds it
    else:
        job_log.close("failed" if status == Status.FAILED else "done")


def _start_heartbeat(job: GenerationJob) -> threading.Event:
    """Touch the job while it runs (model loads included), so the reaper knows its worker lives."""
    return start_heartbeat(attempts.held(job), every_s=lambda: settings.PLAYGROUND_HEARTBEAT_S,
                           name=f"heartbeat-{job.pk}")


def _hand_back(job: GenerationJob) -> None:
    """Back to `queued`, the interrupted attempt not counted against the job (unless this attempt
    no longer held it)."""
    attempts.held(job).update(status=Status.QUEUED, attempts=F("attempts") - 1, output="", worker="")
