"""A finished job's adapter becomes a model repository `<member>/<output_name>`, committed as its
owner: the adapter files, the loss curve and a generated card whose front matter links the base
model and the dataset. It starts as a draft: runnable by its owner (and moderators) at once,
by everyone once the owner publishes it."""
from __future__ import annotations

import itertools
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from core.charts import line_chart
from models_hub.models import Resource
from models_hub.repos.commits import Changes, commit_files
from models_hub.repos.runtimes import make_adapter_runnable
from models_hub.repos.storage import spool, spool_bytes, store
from models_hub.services import save_resource

from . import cards
from .models import FineTuneJob
from .training import ADAPTER_FILES


def _stored(path: Path):
    with path.open("rb") as stream:
        return store(spool(stream, size=path.stat().st_size, label=path.name))


def output_name_free(job: FineTuneJob) -> str:
    """The job's output name, or `<name>-<job id>` when the member has since made a model of that
    name themselves: training has finished, and its result must not be lost over a name."""
    taken = Resource.objects.filter(kind=Resource.Kind.MODEL, owner=job.user.username)
    if not taken.filter(name=job.output_name).exists():
        return job.output_name
    for attempt in itertools.count(1):
        suffix = f"-{job.pk}" + (f"-{attempt}" if attempt > 1 else "")
        name = job.output_name[:Resource.max_length("name") - len(suffix)] + suffix
        if not taken.filter(name=name).exists():
            return name


@transaction.atomic
def publish_output(*, job: FineTuneJob, adapter_dir: Path) -> Resource:
    seconds = job.train_seconds or ((timezone.now() - job.started_at).total_seconds() if job.started_at else 0.0)
    name = output_name_free(job)
    resource = save_resource(user=job.user, data={
        "kind": Resource.Kind.MODEL, "name": name, "is_published": False,
        "title": f"{job.base_model.name} LoRA ({job.dataset.name})"[:Resource.max_length("title")],
        "summary": (f"A LoRA adapter of {job.base_model.repo_id} fine-tuned on {job.dataset.repo_id}."
                    )[:Resource.max_length("summary")],
        "card": cards.render(job, seconds=seconds, name=name), "tags": ["lora", "fine-tuned"],
    })
    curve = line_chart([(p["step"], p["loss"]) for p in job.history], label="Training loss by step",
                       standalone=True)
    additions = [(name, _stored(adapter_dir / name)) for name in ADAPTER_FILES]
    additions.append((cards.LOSS_CURVE, store(spool_bytes(str(curve).encode(), label=cards.LOSS_CURVE))))
    commit = commit_files(resource=resource, user=job.user, title="Add the LoRA adapter",
                          message=f"Trained by fine-tuning job {job.pk} on {job.dataset.repo_id}@{job.dataset_revision}.",
                          changes=Changes(additions=additions))
    make_adapter_runnable(resource=resource, revision=commit.sha, base=job.base_model)
    return resource
