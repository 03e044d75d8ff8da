"""The web side of playground jobs: submit with quotas, cancel, share, post to the forum.

What runs in the worker is in `runner.py` (and `reaper.py`); the engine is in `engine/`.
"""
from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import timedelta

import redis
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.db.models import RestrictedError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import Category, User
from community.services import create_thread
from core import eventlog as core_eventlog
from core import queues, quotas
from core.eventlog import request_cancel
from models_hub.models import Resource

from . import params as generation_params
from .models import (REPORT_REASON_MAX_LENGTH, DeletedRun, GenerationJob, MessageRole, ReviewDecision, RunReport,
                     new_share_token)
from .permissions import can_cancel, can_post_to_forum, can_report, can_review_reports, can_share
from .tasks import enqueue

Status = GenerationJob.Status
log = logging.getLogger(__name__)
QUOTA_WINDOW = timedelta(hours=1)  # PLAYGROUND_JOBS_PER_HOUR counts the runs started within it


def submit_job(*, user: User, resource: Resource, mode: str, messages: list[dict] | None = None,
               prompt: str = "", prompt_ids: list[int] | None = None, params: dict,
               source: str = GenerationJob.Source.API) -> GenerationJob:
    """Create a queued job and hand it to the inference queue once it is committed."""
    prompts = [prompt_ids] if prompt_ids else [prompt or ""]
    return submit_jobs(user=user, resource=resource, mode=mode, messages=messages, prompts=prompts,
                       params=params, source=source)[0]


def submit_jobs(*, user: User, resource: Resource, mode: str, messages: list[dict] | None = None,
                prompts: list[str | list[int]], params: dict,
                source: str = GenerationJob.Source.API) -> list[GenerationJob]:
    """One job per prompt (a string, or token ids), with the same parameters, queued together so
    that the engine batches them. Several count as one unit against the member's quotas (an
    evaluation tool sends its batches this way), up to PLAYGROUND_MAX_PROMPTS_PER_REQUEST."""
    if not prompts or len(prompts) > settings.PLAYGROUND_MAX_PROMPTS_PER_REQUEST:
        raise ValidationError({"prompt": [_("Send 1 to %(n)d prompts.")
                                          % {"n": settings.PLAYGROUND_MAX_PROMPTS_PER_REQUEST}]})
    queues.check_broker()
    group = uuid.uuid4() if len(prompts) > 1 else None
    effective = generation_params.effective_params(resource.runtime, params)
    with transaction.atomic():
        if not user.is_staff:
            quotas.enforce(user=user, active_retry_s=5, **_quota(user))
        jobs = [GenerationJob.objects.create(
            user=user, resource=resource, mode=mode, messages=messages or [],
            prompt=prompt if isinstance(prompt, str) else "",
            prompt_ids=None if isinstance(prompt, str) else list(prompt),
            params=effective, source=source, request_group=group) for prompt in prompts]
        queues.dispatch_on_commit(jobs, enqueue=enqueue, unavailable=_("The inference queue is unavailable."))
    queues.raise_if_unqueued(jobs)  # inside an outer transaction (a battle), its caller checks
    return jobs


def _quota(user: User) -> dict:
    """The member's generations as the quota counts them: a request's prompts count once."""
    return {"jobs": GenerationJob.objects.filter(user=user), "group": "request_group",
            "deleted": DeletedRun.objects.filter(user=user), "max_active": settings.PLAYGROUND_MAX_ACTIVE_JOBS,
            "window": QUOTA_WINDOW, "max_in_window": settings.PLAYGROUND_JOBS_PER_HOUR}


def quota_usage(user: User) -> quotas.Usage | None:
    """Where the member stands against the generation quota; None for staff, who have none."""
    return None if user.is_staff else quotas.usage(**_quota(user))


def cancel_job(*, user: User, job: GenerationJob) -> GenerationJob:
    if not can_cancel(user, job):
        raise PermissionDenied
    request_cancel(job, finish_reason=GenerationJob.FinishReason.CANCELLED)
    return job


class CannotDelete(Exception):
    """The run cannot be deleted now; the message says why, in words for its member."""


@transaction.atomic
def delete_job(*, user: User, job: GenerationJob) -> None:
    """A member deletes one of their runs for good, its prompt and answer with it (its share link
    stops working; a forum post that quoted it keeps its text). Only once it has ended: a running
    job's worker would go on writing to it."""
    row = GenerationJob.objects.owned_by(user).select_for_update(of=("self",)).filter(pk=job.pk).first()
    if row is None:
        raise Http404  # not theirs, or deleted meanwhile
    if not row.is_finished:
        raise CannotDelete(_("Stop the run before deleting it."))
    if row.request_group and GenerationJob.objects.filter(
            request_group=row.request_group, status__in=[GenerationJob.Status.QUEUED, GenerationJob.Status.RUNNING]
    ).exists():  # its request's other prompts share out its limits by how many there are
        raise CannotDelete(_("This run's request still has prompts running; delete it once they have ended."))
    if row.kept:
        raise CannotDelete(_("This run is an answer in an arena battle, which keeps it."))
    if row.reports.filter(resolved=False).exists():  # the reports (and who made them) would go with it
        raise CannotDelete(_("Moderators are reviewing a report on this run; it can be deleted once they have."))
    stream = core_eventlog.stream_name(row)
    try:
        with transaction.atomic():  # a savepoint: the refusal leaves the lock and the row as they were
            row.delete()
    except RestrictedError:  # evaluation.Battle keeps its answers (on_delete=RESTRICT), flag or not
        raise CannotDelete(_("This run is an answer in an arena battle, which keeps it.")) from None
    hour_ago = timezone.now() - QUOTA_WINDOW
    DeletedRun.objects.filter(user=user, created_at__lt=hour_ago).delete()  # out of every window now
    last_of_its_request = not (row.request_group
                               and GenerationJob.objects.filter(request_group=row.request_group).exists())
    if row.created_at >= hour_ago and last_of_its_request:
        DeletedRun.objects.create(user=user, created_at=row.created_at)
    transaction.on_commit(lambda: _forget_log(stream))


def _forget_log(stream: str) -> None:
    """A deleted run's text leaves the event log now, not when the log expires."""
    try:
        core_eventlog.reset(stream)
    except (redis.RedisError, DatabaseError):  # the log expires by itself (core.eventlog.TTL_S)
        log.warning("could not clear the log of deleted run %s", stream)


def _lock_sharing(job: GenerationJob) -> None:
    """Lock the row and read its sharing state afresh, so concurrent shares agree on one token."""
    row = GenerationJob.objects.select_for_update().values("is_public", "share_token").filter(pk=job.pk).first()
    if row is None:
        raise Http404  # its owner deleted it meanwhile
    job.is_public, job.share_token = row["is_public"], row["share_token"]


def _publish(job: GenerationJob) -> None:
    """Public with a share token; a run shared again after being private gets a new one."""
    _lock_sharing(job)
    job.is_public = True
    if not job.share_token:
        job.share_token = new_share_token()


def _unpublish(job: GenerationJob) -> None:
    """Private, and the token is dropped, so every link handed out so far stops working."""
    _lock_sharing(job)
    job.is_public = False
    job.share_token = None


@transaction.atomic
def set_public(*, user: User, job: GenerationJob, public: bool) -> GenerationJob:
    if not can_share(user, job):
        raise PermissionDenied
    if public:
        _publish(job)
    else:
        _unpublish(job)
    job.save(update_fields=["is_public", "share_token"])
    return job


# --- the forum post quoting a run ------------------------------------------------------------------
# Prompts, outputs and parameters are anyone's text: each goes where Markdown cannot turn it into
# structure (a heading, a fake "Open the run" link) or active markup. Text is quoted line by line,
# so it cannot leave its blockquote; parameters sit in code spans fenced past any backticks they
# hold, on one line. The Markdown sanitiser then strips whatever markup is left.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def _md_escape(text: str) -> str:
    """Plain text, every ASCII punctuation mark backslash-escaped (CommonMark allows them all)."""
    return _PUNCTUATION.sub(r"\\\1", " ".join(str(text).splitlines()))


def _quote(text: str) -> str:
    """A blockquote holding `text`: every line, as Python splits lines (a superset of Markdown's
    line endings), starts with '> ', so nothing in it can end the quote early."""
    return "\n".join("> " + line for line in (text or "").splitlines()) or ">"


def _code(text: str) -> str:
    """An inline code span holding `text` on one line, delimited by more backticks than any run
    of backticks inside it."""
    text = " ".join(text.splitlines())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}"


def _role(role) -> str:
    return role if isinstance(role, str) and role in MessageRole.values else "?"


def forum_body(job: GenerationJob) -> str:
    """The Markdown of a forum post quoting the run's model, parameters, prompt and output."""
    if job.mode == GenerationJob.Mode.COMPLETION:
        conversation = _quote(job.prompt)
    else:
        conversation = "\n\n".join(
            f"**{_md_escape(_role(m.get('role')))}**:\n\n{_quote(str(m.get('content', '')))}"
            for m in job.messages if isinstance(m, dict))
    params = ", ".join(_code(f"{k}={json.dumps(v, ensure_ascii=False)}") for k, v in sorted(job.params.items()))
    return (f"Model: [{_md_escape(job.resource.repo_id)}]({job.resource.get_absolute_url()}) · {job.mode}\n\n"
            f"Parameters: {params or '(defaults)'}\n\n### Prompt\n\n{conversation}\n\n"
            f"### Output\n\n{_quote(job.output)}\n\n[Open the run]({job.get_share_url()})")


@transaction.atomic
def post_to_forum(*, user: User, job: GenerationJob, category: Category, title: str):
    """A thread quoting the run's model, parameters, prompt and output, linked back to it."""
    if not can_post_to_forum(user, job):
        raise PermissionDenied
    _publish(job)  # the thread links to the run, so readers must be able to open it
    body = forum_body(job)
    thread = create_thread(author=user, category=category, title=title, body=body,
                           tags=["playground"])
    job.thread = thread
    job.save(update_fields=["is_public", "share_token", "thread"])
    return thread


@transaction.atomic
def report_run(*, user: User, job: GenerationJob, reason: str) -> tuple[RunReport, bool]:
    """A member's report of a shared run for the moderators' queue: (report, created). One per
    member and run; reporting again returns the first report."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why this run should be reviewed.")]})
    if len(reason) > REPORT_REASON_MAX_LENGTH:
        raise ValidationError({"reason": [_("At most %(n)d characters.") % {"n": REPORT_REASON_MAX_LENGTH}]})
    if not can_report(user, job):
        raise PermissionDenied(_("You cannot report your own run."))
    with transaction.atomic():
        # Locked: a delete waits for the report (and is then refused), or has already happened.
        if not GenerationJob.objects.select_for_update().filter(pk=job.pk).exists():
            raise Http404
        return RunReport.objects.get_or_create(reporter=user, job=job, defaults={"reason": reason})


@transaction.atomic
def review_run(*, moderator: User, job: GenerationJob, decision: str) -> GenerationJob:
    """A moderator's decision on a reported run; it resolves the run's open reports."""
    if not can_review_reports(moderator):
        raise PermissionDenied(_("Only moderators may do this."))
    if decision not in ReviewDecision.values:
        raise ValidationError({"decision": [_("Unknown decision.")]})
    if decision == ReviewDecision.MAKE_PRIVATE:
        _unpublish(job)  # the token goes too: every link to the run stops working
        job.save(update_fields=["is_public", "share_token"])
    job.reports.filter(resolved=False).update(resolved=True)
    return job
