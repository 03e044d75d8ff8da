"""What a resource's "Use this" box offers: how a library loads it, from this site's repository
when that holds files (the clients need HF_ENDPOINT=<this site>), else from the Hugging Face Hub,
whose names the catalogue's entries mirror."""
from __future__ import annotations

from dataclasses import dataclass

from huggingface_hub.utils import HFValidationError, validate_repo_id

from .models import Relation, Resource
from .repos.commits import GITATTRIBUTES, README
from .repos.reads import head

ADAPTER_CONFIG = "adapter_config.json"
CONFIG = "config.json"


@dataclass(frozen=True)
class Usage:
    hosted: bool  # the repository here holds files besides its card and .gitattributes
    client_can_name: bool = True  # huggingface_hub accepts the repo id (ASCII, no '..', no '@')
    has_config: bool = False  # a model with config.json: transformers loads it as it is
    gguf_file: str = ""  # a model without config.json loads from this GGUF file
    adapter_base: Resource | None = None  # a LoRA adapter's base model (its card's base_model), hosted here
    base_gguf_file: str = ""  # the GGUF file of that base, where it has no config.json
    needs_token: bool = False  # a draft: the client sends the member's token


def _files(resource: Resource):
    commit = head(resource)
    return commit.entries.all() if commit is not None else None


def _gguf_file(files) -> str:
    """The GGUF file transformers should load when there is no config.json: the first by path."""
    if files.filter(path=CONFIG).exists():
        return ""
    return files.filter(path__iendswith=".gguf").order_by("path").values_list("path", flat=True).first() or ""


def _names_ok(*repo_ids: str) -> bool:
    try:
        for repo_id in repo_ids:
            validate_repo_id(repo_id)
    except HFValidationError:
        return False
    return True


def usage_of(resource: Resource, user) -> Usage:
    files = _files(resource)
    if files is None or not files.exclude(path__in=[README, GITATTRIBUTES]).exists():
        return Usage(hosted=False, client_can_name=_names_ok(resource.repo_id))
    if resource.kind != Resource.Kind.MODEL:
        return Usage(hosted=True, client_can_name=_names_ok(resource.repo_id), needs_token=not resource.is_published)
    base = base_files = None
    if files.filter(path=ADAPTER_CONFIG).exists():
        base = (Resource.objects.visible_to(user)
                .filter(incoming__source=resource, incoming__kind=Relation.Kind.BASE_MODEL).first())
        base_files = _files(base) if base is not None else None
        if base_files is None or not base_files.exists():
            base = None  # a catalogue entry without files: the client could not load it from here
    return Usage(
        hosted=True, client_can_name=_names_ok(resource.repo_id, *([base.repo_id] if base else [])),
        has_config=files.filter(path=CONFIG).exists(), gguf_file=_gguf_file(files), adapter_base=base,
        base_gguf_file=_gguf_file(base_files) if base is not None else "",
        needs_token=not resource.is_published or (base is not None and not base.is_published))
