"""The web side of evaluation runs: request one (validated, de-duplicated, within quotas),
cancel it, discuss its result in the forum. The worker side is in `runner.py`."""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from community.models import Category, User
from community.services import create_thread, set_watch
from core import eventlog, queues, quotas
from core.permissions import is_moderator
from models_hub.models import Resource, Runtime
from playground.engine import RuntimeSpec

from . import lmeval, suites
from .models import EvaluationRun, Suite
from .permissions import can_cancel, can_discuss, can_request_run
from .suite_spec import from_dict
from .tasks import enqueue

CONFIG_VERSION = 1  # bump when the way a run is computed changes: old results then stay apart


def runnable_models(viewer=None):
    """Models `viewer` may evaluate: published ones, and their own drafts (moderators: all)."""
    return Resource.objects.runnable(viewer).select_related("runtime").order_by("owner", "name")


def model_revision(runtime: Runtime) -> str:
    """What names the weights that answer: a repository's commit, the converted GGUF's cache key,
    or the upstream server and the model it serves."""
    if runtime.backend == Runtime.Backend.OPENAI:
        ident = f"openai|{runtime.base_url}|{runtime.served_model}"
        return "upstream:" + hashlib.sha256(ident.encode()).hexdigest()[:16]
    if runtime.source == Runtime.Source.REPO:
        return runtime.revision
    try:
        return f"{runtime.source}:" + RuntimeSpec.from_dict(runtime.spec()).cache_key()
    except Exception:  # a package that is not installed here: the worker reports it
        return f"{runtime.source}:" + hashlib.sha256(json.dumps(runtime.spec(), sort_keys=True).encode()).hexdigest()[:16]


def run_config(runtime: Runtime) -> dict:
    return {"version": CONFIG_VERSION, "backend": runtime.backend, "max_length": runtime.context_length,
            "num_fewshot": 0, "bootstrap_iters": lmeval.BOOTSTRAP_ITERS, "limit": None}


def config_hash(*, model: Resource, model_rev: str, suite: Suite, config: dict) -> str:
    key = {"model": model.repo_id, "model_revision": model_rev, "suite": suite.repo_id,
           "suite_revision": suite.revision, "spec": suite.spec, "config": config}
    return hashlib.sha256(json.dumps(key, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _suite_for(dataset: Resource) -> Suite:
    """The dataset's suite at its head, or a 400 naming what is wrong with its declaration."""
    suite = suites.sync_suite(dataset)
    if suite is None:
        raise ValidationError({"suite": [_("This dataset declares no evaluation suite (add an eval.yaml).")]})
    if not suite.is_valid:
        raise ValidationError({f"suite.{name}" if name != "suite" else name: messages
                               for name, messages in suite.error.items()})
    return suite


def request_run(*, user: User, model: Resource, dataset: Resource) -> tuple[EvaluationRun, bool]:
    """A queued run of `model` on the suite `dataset` declares at its head: (run, created). An
    identical run (same revisions and config) that is queued, running or succeeded is returned
    instead of computing it again."""
    if not can_request_run(user):
        raise PermissionDenied
    visible = Resource.objects.visible_to(user)
    if not visible.filter(pk=model.pk).exists():
        raise ValidationError({"model": [_("No such model.")]})
    if not visible.filter(pk=dataset.pk).exists():  # another member's draft is not theirs to run
        raise ValidationError({"suite": [_("No such dataset.")]})
    if not Resource.objects.runnable(user).filter(pk=model.pk).exists():  # a model, with a runtime that runs
        raise ValidationError({"model": [_("This model cannot be run here.")]})
    runtime = model.runtime
    suite = _suite_for(dataset)
    rev = model_revision(runtime)
    config = run_config(runtime)
    digest = config_hash(model=model, model_rev=rev, suite=suite, config=config)
    existing = EvaluationRun.objects.filter(config_hash=digest, status__in=EvaluationRun.HOLDS_CONFIG).first()
    if existing is not None:
        return existing, False
    queues.check_broker()
    try:
        with transaction.atomic():
            if not user.is_staff:
                quotas.enforce(user=user, jobs=EvaluationRun.objects.filter(user=user),
                               max_active=settings.EVALUATION_MAX_ACTIVE_RUNS, active_retry_s=30,
                               window=timedelta(days=1), max_in_window=settings.EVALUATION_RUNS_PER_DAY)
            run = EvaluationRun.objects.create(
                user=user, model=model, suite=suite, dataset_revision=suite.revision, model_revision=rev,
                suite_spec=suite.spec, config=config, config_hash=digest,
                progress_total=0)
            queues.dispatch_on_commit([run], enqueue=enqueue, unavailable=_("The evaluation queue is unavailable."))
    except IntegrityError:  # someone requested the same run a moment ago
        return EvaluationRun.objects.get(config_hash=digest, status__in=EvaluationRun.HOLDS_CONFIG), False
    queues.raise_if_unqueued([run])
    return run, True


def cancel_run(*, user: User, run: EvaluationRun) -> EvaluationRun:
    """A queued run is cancelled at once; a running one hears of it as a `cancel` event."""
    if not can_cancel(user, run):
        raise PermissionDenied
    eventlog.request_cancel(run)
    return run


def _cell(value) -> str:
    return "—" if value is None else f"{value:.4g}"


def discussion_body(run: EvaluationRun) -> str:
    """The Markdown quoting a run's scores, linked back to it. Names and metrics are ours or
    validated (task names, metric names, repo ids); numbers are formatted here."""
    spec = from_dict(run.suite_spec)
    lines = [f"Model: [{run.model.repo_id}]({run.model.get_absolute_url()}) · "
             f"suite: [{run.suite.repo_id}]({run.suite.get_absolute_url()}) at `{run.dataset_revision[:12]}`", "",
             "| task | metric | value | stderr |", "| --- | --- | --- | --- |"]
    for task, metric in spec.metric_columns():
        values = run.metrics.get(task, {})
        lines.append(f"| {task} | {metric} | {_cell(values.get(metric))} | {_cell(values.get(metric + '_stderr'))} |")
    lines += ["", f"[Open the run and its samples]({run.get_absolute_url()})"]
    return "\n".join(lines)


@transaction.atomic
def discuss_run(*, user: User, run: EvaluationRun, category: Category, title: str = ""):
    """A forum thread quoting the run's scores with a link back; one per run (later requests get
    the same thread). It is the run's requester's thread whoever asks first (as a hub resource's
    is its submitter's): a third member who asked could otherwise edit the post that shows the
    scores, or delete the thread. The asker watches it; only the requester or a moderator titles it."""
    if not can_discuss(user, run):
        raise PermissionDenied
    run = (EvaluationRun.objects.select_for_update(of=("self",)).select_related("model", "suite__dataset", "thread")
           .get(pk=run.pk))
    if run.thread is not None:
        return run.thread
    own = user.pk == run.user_id
    if not (own or is_moderator(user)):
        title = ""
    if not (category.members_start_threads or is_moderator(user)):  # the asker's right, not the author's
        raise ValidationError({"category": [_("Threads in this category are started by the site; "
                                              "reply there, or choose another category.")]})
    title = title or _("Evaluation: %(model)s on %(suite)s") % {"model": run.model.repo_id, "suite": run.suite.repo_id}
    thread = create_thread(author=run.user, category=category, title=title, body=discussion_body(run),
                           tags=["evaluation"], enforce_limits=own)
    set_watch(user=user, thread=thread, watching=True)
    run.thread = thread
    run.save(update_fields=["thread"])
    return thread
