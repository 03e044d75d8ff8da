"""A moderator makes a model repository runnable from its own files at a revision."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import Resource, Runtime
from .permissions import can_set_runtime
from .reads import RevisionNotFound, entries, resolve


@transaction.atomic
def make_runnable(*, user, resource: Resource, revision: str, gguf_file: str = "") -> Runtime:
    """A Runtime whose source is this repository at `revision` (pinned to the full sha): the
    worker loads those files, with remote code off. `gguf_file` names a GGUF file among them."""
    if not can_set_runtime(user):
        raise PermissionDenied(_("Only moderators choose what the workers run."))
    if resource.kind != Resource.Kind.MODEL:
        raise ValidationError({"kind": [_("Only a model can run in the playground.")]})
    try:
        commit = resolve(resource, revision)
    except RevisionNotFound:
        commit = None
    if commit is None:
        raise ValidationError({"revision": [_("No commit %(rev)s in this repository.") % {"rev": revision}]})
    paths = set(entries(commit).values_list("path", flat=True))
    if gguf_file and gguf_file not in paths:
        raise ValidationError({"gguf_file": [_("%(path)r is not in that revision.") % {"path": gguf_file}]})
    if not gguf_file and "config.json" not in paths:
        raise ValidationError({"revision": [_("That revision has no config.json; name a GGUF file instead.")]})
    runtime, _created = Runtime.objects.update_or_create(resource=resource, defaults={
        "source": Runtime.Source.REPO, "location": resource.repo_id, "revision": commit.sha,
        "gguf_file": gguf_file, "enabled": True})
    return runtime


@transaction.atomic
def make_adapter_runnable(*, resource: Resource, revision: str, base: Resource) -> Runtime:
    """The runtime of an adapter (LoRA) repository: the worker loads `base`'s runtime, then the
    adapter's files at `revision` onto it. The platform does this for its own fine-tuning
    outputs (safetensors and JSON, no code), so no moderator is asked; the base is already runnable."""
    base_runtime = Runtime.objects.filter(resource=base, enabled=True).first()
    if base_runtime is None or base_runtime.base_id is not None:
        raise ValidationError({"base_model": [_("%(repo)s is not a runnable base model.") % {"repo": base.repo_id}]})
    commit = resolve(resource, revision)
    if "adapter_config.json" not in set(entries(commit).values_list("path", flat=True)):
        raise ValidationError({"revision": [_("That revision has no adapter_config.json.")]})
    runtime, _created = Runtime.objects.update_or_create(resource=resource, defaults={
        "backend": Runtime.Backend.EMBEDDED, "source": Runtime.Source.REPO, "location": resource.repo_id,
        "revision": commit.sha, "gguf_file": "", "base": base, "enabled": True,
        "context_length": base_runtime.context_length, "max_new_tokens": base_runtime.max_new_tokens,
        "default_params": base_runtime.default_params})
    return runtime
