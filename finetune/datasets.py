"""A dataset repository's training declaration, checked against its files before a job is
queued (a bad dataset is a 400 naming the key, not a failed job later), and its rows read by
the worker at the pinned revision."""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from models_hub.front_matter import split_front_matter
from models_hub.models import Resource
from models_hub.repos.models import Commit
from models_hub.repos.reads import entry, head
from models_hub.repos.storage import iter_bytes, local_file, read_head

from .formats import DECLARATION_KEYS, FormatError, TrainSpec, examples, parquet_rows, parse_rows, spec_from_card

SAMPLE_BYTES = 1024 * 1024  # what submit reads of the file to check its rows
SAMPLE_ROWS = 200


@dataclass(frozen=True)
class CheckedDataset:
    spec: TrainSpec
    revision: str


def check_dataset(dataset: Resource, declaration: dict | None = None) -> CheckedDataset:
    """The training declaration (the request's, else the card's) and the head revision, once the
    file's first rows have been read with it. A request's own declaration is refused naming its
    field; the card's, naming the dataset (and the card's key)."""
    if dataset.kind != Resource.Kind.DATASET:
        raise ValidationError({"dataset": [_("%(repo)s is not a dataset.") % {"repo": dataset.repo_id}]})

    def _refuse(exc: FormatError) -> ValidationError:
        if declaration:
            return ValidationError({exc.key if exc.key in DECLARATION_KEYS else "train_file": [str(exc)]})
        return ValidationError({"dataset": [_("%(key)s: %(message)s") % {"key": exc.key, "message": str(exc)}]})

    try:
        spec = spec_from_card(declaration or split_front_matter(dataset.card)[0])
    except FormatError as exc:
        raise _refuse(exc) from None
    commit = head(dataset)
    found = entry(commit, spec.file)
    if found is None:
        raise _refuse(FormatError("train_file", _("%(file)s is not in the repository.") % {"file": spec.file}))
    if found.blob.size > settings.FINETUNE_MAX_DATASET_BYTES:
        raise _refuse(FormatError("train_file", _("%(file)s is larger than %(n)d bytes.")
                                  % {"file": spec.file, "n": settings.FINETUNE_MAX_DATASET_BYTES}))
    try:
        examples(_rows(found.blob, spec, limit=SAMPLE_ROWS, sample=True), spec)
    except FormatError as exc:
        raise _refuse(exc) from None
    except UnicodeDecodeError:
        raise _refuse(FormatError("train_file", _("%(file)s is not UTF-8 text.") % {"file": spec.file})) from None
    return CheckedDataset(spec=spec, revision=commit.sha)


def training_examples(dataset: Resource, revision: str, spec: TrainSpec) -> list[dict]:
    """Every example of the file at the pinned revision (at most FINETUNE_MAX_EXAMPLES)."""
    commit = Commit.objects.get(resource=dataset, sha=revision)
    found = entry(commit, spec.file)
    if found is None:
        raise FormatError("train_file", _("%(file)s is not in revision %(rev)s.")
                          % {"file": spec.file, "rev": revision[:12]})
    return examples(_rows(found.blob, spec, limit=settings.FINETUNE_MAX_EXAMPLES), spec)


def _rows(blob, spec: TrainSpec, *, limit: int, sample: bool = False) -> list[dict]:
    """The file's first `limit` rows. Text files are read from their head when only a sample is
    wanted; a Parquet file keeps its index at the end, so it is opened whole (on local storage,
    in place)."""
    path = spec.file
    if path.lower().endswith(".parquet"):
        with local_file(blob, max_copy_bytes=settings.FINETUNE_MAX_DATASET_BYTES) as local_path:
            return parquet_rows(local_path, path, columns=spec.columns(), max_bytes=settings.FINETUNE_MAX_DATASET_BYTES,
                                limit=limit)
    if sample:
        return parse_rows(read_head(blob, SAMPLE_BYTES), path, limit=limit, partial=blob.size > SAMPLE_BYTES)
    return parse_rows(b"".join(iter_bytes(blob)), path, limit=limit)
