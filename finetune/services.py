"""The web side of fine-tuning: submit (everything checked before anything is queued), quotas,
cancel. What runs on the training worker is in runner.py; publishing the result in publishing.py."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from community.models import User
from core import eventlog, queues, quotas
from models_hub.models import Resource, Runtime
from models_hub.repos.commits import storage_used

from . import params as training_params
from .datasets import check_dataset
from .models import FineTuneJob, Status
from .permissions import can_cancel, quota_exempt
from .tasks import enqueue


def _visible(user: User, repo_id: str, kind: str) -> Resource | None:
    return Resource.objects.visible_to(user).filter(kind=kind, repo_id=repo_id).select_related("runtime").first()


def base_model_for(user: User, repo_id: str) -> Resource:
    """A model the member may see that trains from local weights: an enabled embedded runtime
    (an upstream server's weights are not here), and not itself an adapter."""
    model = _visible(user, repo_id, Resource.Kind.MODEL)
    if model is None:
        raise ValidationError({"base_model": [_("Unknown model %(repo)r.") % {"repo": repo_id}]})
    runtime = getattr(model, "runtime", None)
    if runtime is None or not runtime.enabled or runtime.backend != Runtime.Backend.EMBEDDED:
        raise ValidationError({"base_model": [_("%(repo)s has no weights on this site's workers to train from.")
                                              % {"repo": repo_id}]})
    if runtime.base_id is not None:
        raise ValidationError({"base_model": [_("%(repo)s is itself an adapter; fine-tune its base model "
                                                "instead.") % {"repo": repo_id}]})
    if model.is_taken_down and not user.is_staff:  # its adapters would serve it again
        raise ValidationError({"base_model": [_("%(repo)s was taken down by a moderator.") % {"repo": repo_id}]})
    return model


def dataset_for(user: User, repo_id: str) -> Resource:
    dataset = _visible(user, repo_id, Resource.Kind.DATASET)
    if dataset is None:
        raise ValidationError({"dataset": [_("Unknown dataset %(repo)r.") % {"repo": repo_id}]})
    return dataset


def _check_storage(user: User) -> None:
    """The adapter is committed to the member's hub storage when training ends: a job that could
    not fit it is refused now, not after hours of training."""
    if user.is_staff:
        return
    if storage_used(user) + settings.FINETUNE_OUTPUT_RESERVE_BYTES > settings.HUB_USER_QUOTA_BYTES:
        raise ValidationError({"output_name": [_("Your hub storage is nearly full: free %(n)s first (delete files "
                                                 "or repositories), so the trained model has room.")
                                               % {"n": filesizeformat(settings.FINETUNE_OUTPUT_RESERVE_BYTES)}]})


def _check_output_name(user: User, name: str) -> None:
    if Resource.objects.filter(kind=Resource.Kind.MODEL, owner=user.username, name=name).exists():
        raise ValidationError({"output_name": [_("You already have a model named %(name)s.") % {"name": name}]})
    if FineTuneJob.objects.filter(user=user, output_name=name, status__in=[Status.QUEUED, Status.RUNNING, Status.SUCCEEDED]).exists():
        raise ValidationError({"output_name": [_("Another of your fine-tuning jobs is making %(name)s.")
                                               % {"name": name}]})


def submit_finetune(*, user: User, base_model: str, dataset: str, params: dict, output_name: str,
                    method: str = FineTuneJob.Method.LORA, declaration: dict | None = None) -> FineTuneJob:
    """Check the base model, the dataset's training declaration (`declaration`, else its card's)
    against its rows, the output name and the quotas; then create the job and queue it once
    committed. The job keeps the declaration it was checked with (train_spec)."""
    model = base_model_for(user, base_model)
    data = dataset_for(user, dataset)
    checked = check_dataset(data, declaration)
    queues.check_broker()
    with transaction.atomic():
        if not quota_exempt(user):
            quotas.enforce(user=user, jobs=FineTuneJob.objects.filter(user=user),
                           max_active=settings.FINETUNE_MAX_ACTIVE_JOBS, active_retry_s=60,
                           window=timedelta(hours=24), max_in_window=settings.FINETUNE_JOBS_PER_DAY)
        _check_output_name(user, output_name)
        _check_storage(user)
        try:
            with transaction.atomic():
                job = FineTuneJob.objects.create(
                    user=user, base_model=model, dataset=data, dataset_revision=checked.revision,
                    train_spec=checked.spec.as_dict(), method=method, params=training_params.effective(params),
                    output_name=output_name)
        except IntegrityError:  # a concurrent submit took the name
            raise ValidationError({"output_name": [_("Another of your fine-tuning jobs is making %(name)s.")
                                                   % {"name": output_name}]}) from None
        queues.dispatch_on_commit([job], enqueue=enqueue, unavailable=_("The training queue is unavailable."))
    queues.raise_if_unqueued([job])
    return job


def cancel_finetune(*, user: User, job: FineTuneJob) -> FineTuneJob:
    """A queued job is cancelled at once; a running one hears of it as a `cancel` event in its
    log (and from the row's flag) and stops after its current step."""
    if not can_cancel(user, job):
        raise PermissionDenied
    eventlog.request_cancel(job)
    return job
