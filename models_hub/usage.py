"""What a resource's "Use this" box offers: how a library loads it, from this site's repository
when that holds files (the clients need HF_ENDPOINT=<this site>), else from the Hugging Face Hub,
whose names the catalogue's entries mirror."""
from __future__ import annotations

from dataclasses import dataclass

from .models import Relation, Resource
from .repos.reads import entries, head

ADAPTER_CONFIG = "adapter_config.json"


@dataclass(frozen=True)
class Usage:
    hosted: bool  # the repository here holds files
    gguf_file: str = ""  # a model without config.json loads from this GGUF file
    adapter_base: Resource | None = None  # a LoRA adapter's base model (its card's base_model)
    base_gguf_file: str = ""  # the GGUF file of that base, where it has no config.json


def _gguf_file(paths: list[str]) -> str:
    """The GGUF file transformers should load when there is no config.json: the first by path."""
    if "config.json" in paths:
        return ""
    return next((p for p in paths if p.lower().endswith(".gguf")), "")


def _paths(resource: Resource) -> list[str]:
    return list(entries(head(resource)).values_list("path", flat=True))


def usage_of(resource: Resource, user) -> Usage:
    paths = _paths(resource)
    if not paths:
        return Usage(hosted=False)
    if resource.kind != Resource.Kind.MODEL:
        return Usage(hosted=True)
    base = None
    if ADAPTER_CONFIG in paths:
        base = (Resource.objects.visible_to(user)
                .filter(incoming__source=resource, incoming__kind=Relation.Kind.BASE_MODEL).first())
    return Usage(hosted=True, gguf_file=_gguf_file(paths), adapter_base=base,
                 base_gguf_file=_gguf_file(_paths(base)) if base is not None else "")
