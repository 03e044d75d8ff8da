"""Suites read from dataset repositories: the declaration at a revision, validated, and the
catalogue's `Suite` row kept in step with the repository's head."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from models_hub.models import Resource
from models_hub.repos.commits import README
from models_hub.repos.models import Commit
from models_hub.repos.reads import entries, readable_text

from . import suite_spec
from .models import Suite

MAX_DECLARATION_BYTES = suite_spec.MAX_BYTES * 4  # a README may hold more than its front matter


def read_suite(dataset: Resource, commit: Commit | None) -> suite_spec.SuiteSpec | None:
    """The validated suite a dataset declares at `commit`; None if it declares none. Raises
    ValidationError naming the field when the declaration is wrong."""
    if dataset.kind != Resource.Kind.DATASET:
        raise ValidationError({"suite": [_("Only a dataset repository declares an evaluation suite.")]})
    if commit is None:
        return None
    rows = {row.path: row.blob for row in entries(commit)}
    texts = {}
    for path in (suite_spec.EVAL_FILE, README):
        if path in rows:
            texts[path] = readable_text(rows[path], MAX_DECLARATION_BYTES)
            if texts[path] is None:
                raise ValidationError({"eval": [_("%(path)s is not UTF-8 text of at most %(n)d bytes.")
                                                % {"path": path, "n": MAX_DECLARATION_BYTES}]})
    raw = suite_spec.declaration(eval_yaml=texts.get(suite_spec.EVAL_FILE), readme=texts.get(README))
    if raw is None:
        return None
    return suite_spec.parse(raw, files=set(rows), default_title=dataset.title)


@transaction.atomic
def sync_suite(dataset: Resource) -> Suite | None:
    """The dataset's Suite row as of its head commit: created, updated (with the errors of a bad
    declaration, so its page can show them), or deleted when it declares none and was never run."""
    commit = Commit.objects.filter(resource=dataset).order_by("-id").first()
    suite = Suite.objects.select_for_update().filter(dataset=dataset).first()
    if suite is not None and commit is not None and suite.revision == commit.sha:
        return suite
    try:
        spec, error = read_suite(dataset, commit), {}
    except ValidationError as exc:
        spec, error = None, exc.message_dict
    if spec is None and not error:
        if suite is not None and not suite.runs.exists():
            suite.delete()
            return None
        if suite is None:
            return None
        error = {"eval": [_("This dataset no longer declares an evaluation suite.")]}
    fields = {"title": spec.title if spec else (suite.title if suite else dataset.title),
              "revision": commit.sha if commit else "", "spec": spec.as_dict() if spec else {},
              "error": error, "updated_at": timezone.now()}
    if suite is None:
        try:
            with transaction.atomic():
                return Suite.objects.create(dataset=dataset, **fields)
        except IntegrityError:  # two first views of the dataset's page at once: the other made it
            return Suite.objects.get(dataset=dataset)
    for name, value in fields.items():
        setattr(suite, name, value)
    suite.save(update_fields=list(fields))
    return suite
