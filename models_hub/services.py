"""Writes for the catalogue: resources from cards with front matter, likes, discussions."""
from __future__ import annotations

import re

import yaml
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import Category, Thread, User
from community.services import create_thread
from core import markdown, search
from core.models import MAX_TAGS
from core.services import clean_tags, tags_named

from .models import Like, Relation, Resource
from .permissions import can_change
from .repos.commits import commit_card, readme_committed

FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.S)
DISCUSSION_CATEGORY = "hub-discussions"


def split_front_matter(card: str) -> tuple[dict, str]:
    """The YAML block at the top of a card (as on the Hugging Face Hub) and the body after it."""
    match = FRONT_MATTER.match(card or "")
    if not match:
        return {}, card or ""
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise ValidationError({"card": [_("The front matter is not valid YAML: %(e)s") % {"e": exc}]})
    if not isinstance(meta, dict):
        raise ValidationError({"card": [_("The front matter must be a mapping of keys to values.")]})
    return meta, card[match.end():]


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def _fit(field: str, value) -> str:
    """A front-matter value as text no longer than the model field allows."""
    return str(value or "")[: Resource._meta.get_field(field).max_length]


def _apply_card(resource: Resource, card: str, tags: list[str]) -> tuple[list[str], dict]:
    meta, body = split_front_matter(card)
    resource.card = card
    resource.card_html = markdown.render(body).html if body.strip() else ""
    resource.license = _fit("license", meta.get("license") or resource.license)
    resource.task = _fit("task", meta.get("pipeline_tag") or resource.task)
    resource.library = _fit("library", meta.get("library_name") or resource.library)
    if meta.get("language"):
        resource.languages = _as_list(meta["language"])
    arxiv = _as_list(meta.get("arxiv"))
    if arxiv:
        resource.arxiv_id = _fit("arxiv_id", arxiv[0].removeprefix("arxiv:"))
    all_tags = clean_tags(list(dict.fromkeys(tags + _as_list(meta.get("tags"))))[:MAX_TAGS])
    return all_tags, meta


def _link_from_meta(resource: Resource, meta: dict) -> None:
    links = [(name, Resource.Kind.DATASET, Relation.Kind.TRAINED_ON) for name in _as_list(meta.get("datasets"))]
    links += [(name, Resource.Kind.MODEL, Relation.Kind.BASE_MODEL) for name in _as_list(meta.get("base_model"))]
    for repo_id, kind, relation in links:
        target = Resource.objects.filter(kind=kind, repo_id=repo_id).first()
        if target is not None and target.pk != resource.pk:
            Relation.objects.get_or_create(source=resource, target=target, kind=relation)


def reindex(resource: Resource) -> None:
    search.index(kind=search.Kind.RESOURCE, object_id=resource.pk, title=f"{resource.repo_id} {resource.title}",
                 tags=list(resource.tags.values_list("name", flat=True)),
                 body=f"{resource.summary}\n{markdown.plain_text(split_front_matter(resource.card)[1])}",
                 url=resource.get_absolute_url())


@transaction.atomic
def save_resource(*, user: User | None, data: dict, resource: Resource | None = None) -> Resource:
    """Create or update a resource from validated fields; the card's front matter fills metadata."""
    creating = resource is None
    if creating:
        resource = Resource(submitter=user)
    elif user is not None and not can_change(user, resource):
        raise PermissionDenied(_("Only the owner or a moderator may change this resource."))
    tags = data.pop("tags", None)
    card = data.pop("card", None)
    for field, value in data.items():
        setattr(resource, field, value)
    if creating and user is not None and not user.is_staff:
        resource.owner = user.username  # members publish under their own name
    meta: dict = {}
    if card is not None or creating:
        tags, meta = _apply_card(resource, card or "", tags or [])
    resource.updated_at = timezone.now()
    try:
        with transaction.atomic():
            resource.save()
    except IntegrityError:
        raise ValidationError({"name": [_("A %(kind)s named %(repo)s already exists.")
                                        % {"kind": resource.kind, "repo": resource.repo_id}]})
    if tags is not None:
        resource.tags.set(tags_named(tags))
    _link_from_meta(resource, meta)
    if card is not None or creating:  # a model's or dataset's card is its repository's README.md
        commit_card(resource=resource, user=user, card=resource.card, creating=creating)
    reindex(resource)
    return resource


@receiver(readme_committed)
def _card_from_readme(sender, *, resource: Resource, text: str, **kwargs) -> None:
    """A commit that changed README.md changes the card and the metadata its front matter gives."""
    save_resource(user=None, data={"card": text}, resource=resource)


@transaction.atomic
def delete_resource(*, user: User, resource: Resource) -> None:
    if not can_change(user, resource):
        raise PermissionDenied(_("Only the owner or a moderator may delete this resource."))
    search.remove(kind=search.Kind.RESOURCE, object_id=resource.pk)
    resource.delete()


@transaction.atomic
def set_like(*, user: User, resource: Resource, liked: bool) -> Resource:
    if liked:
        try:
            with transaction.atomic():
                Like.objects.create(user=user, resource=resource)
        except IntegrityError:
            pass  # already liked (maybe by a concurrent request)
        else:
            Resource.objects.filter(pk=resource.pk).update(likes=F("likes") + 1)
    else:
        deleted, _rows = Like.objects.filter(user=user, resource=resource).delete()
        if deleted:
            Resource.objects.filter(pk=resource.pk).update(likes=F("likes") - 1)
    resource.refresh_from_db(fields=["likes"])
    resource.liked = liked
    return resource


@transaction.atomic
def ensure_discussion(*, resource: Resource, user: User) -> Thread:
    """The resource's forum thread, created in "Hub discussions" the first time it is wanted."""
    resource = Resource.objects.select_for_update().get(pk=resource.pk)
    if resource.thread_id:
        return resource.thread
    category, _created = Category.objects.get_or_create(
        slug=DISCUSSION_CATEGORY,
        defaults={"name": "Hub discussions", "name_zh": "模型库讨论", "position": 90,
                  "description": "One thread for each model, dataset, paper, tool and tutorial.",
                  "description_zh": "每个模型、数据集、论文、工具和教程各有一个讨论帖。"},
    )
    thread = create_thread(
        author=user, category=category, title=f"{resource.repo_id}: {resource.title}"[:200],
        body=f"Discussion of the {resource.kind} [{resource.repo_id}]({resource.get_absolute_url()}).",
        tags=[resource.kind], enforce_limits=False,
    )
    resource.thread = thread
    resource.save(update_fields=["thread"])
    return thread
