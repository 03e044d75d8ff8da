"""Writes for the catalogue: resources from cards with front matter, likes, discussions."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError, RestrictedError
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from community.indexing import sync_visibility
from community.models import Category, ModerationLog, Post, Thread, User, Watch
from community.moderation import log_action, set_thread_hidden
from community.services import create_thread
from core import markdown, search
from core.models import MAX_TAGS, SearchDocument
from core.permissions import is_moderator
from core.services import clean_tags, tags_named

from .front_matter import as_list as _as_list
from .front_matter import CARD_KEYS, body_of, card_fields, split_front_matter, with_metadata
from .models import Like, Relation, Resource, Runtime, search_title
from .permissions import IDENTITY, can_change, has_runtime
from .repos.commits import commit_card, readme_committed
from .repos.links import relative_urls
from .repos.models import REPO_KINDS

DISCUSSION_CATEGORY = "hub-discussions"
# Stored once and read by everyone, so in both of the site's languages, as the category is.
DISCUSSION_BODY = "Discussion of the {kind} {link}.\n\n关于{kind_zh} {link} 的讨论。"
URL_MAX_LENGTH = SearchDocument._meta.get_field("url").max_length


def _apply_card(resource: Resource, card: str, *, changed: dict, tags: list[str] | None,
                current_tags: list[str], creating: bool, readme: bool) -> tuple[list[str], dict]:
    """Make the metadata and the card agree, as on the Hugging Face Hub, where a repository's
    README front matter is its metadata. A field changed in this request (form or API) wins and is
    written into a model's or dataset's front matter; otherwise the front matter gives it, and a
    key it lacks keeps the field, except in a committed README (`readme`), which alone gives the
    metadata and is never rewritten. The tags work the same way (a new resource takes both sets)."""
    meta, _body = split_front_matter(card)
    from_card = card_fields(meta)
    for field in CARD_KEYS:
        if field in changed:
            value = changed[field]
        elif field in from_card or readme:
            value = from_card.get(field, type(getattr(resource, field))())
        else:
            value = getattr(resource, field)
        setattr(resource, field, value)
    card_tags = clean_tags(_as_list(meta.get("tags")))
    given = clean_tags(tags) if tags is not None else None
    if creating:
        final_tags = clean_tags(list(dict.fromkeys((given or []) + card_tags))[:MAX_TAGS])
    elif given is not None and set(given) != set(current_tags):
        final_tags = given
    else:
        final_tags = card_tags if "tags" in meta or readme else current_tags
    if resource.kind in REPO_KINDS and not readme:
        card = with_metadata(card, {f: getattr(resource, f) for f in CARD_KEYS}, final_tags)
    resource.card = card
    resource.card_html = card_html(resource)
    return final_tags, meta


def card_html(resource: Resource) -> str:
    """The card's body as HTML; in a repository, relative links point at its files."""
    body = body_of(resource.card)
    links = relative_urls(resource) if resource.kind in REPO_KINDS else None  # a paper has no files
    return markdown.render(body, relative_urls=links).html if body.strip() else ""


def rebake_cards(batch_size: int = 200) -> int:
    """Render every stored card again with today's renderer and sanitiser (after either changed:
    a tightened allow-list must reach HTML saved before it). Returns how many changed."""
    changed = 0
    for resource in Resource.objects.only("pk", "kind", "owner", "name", "card", "card_html").iterator(batch_size):
        html = card_html(resource)
        if html != resource.card_html:
            changed += Resource.objects.filter(pk=resource.pk).update(card_html=html)
    return changed


def _link_from_meta(resource: Resource, meta: dict) -> None:
    links = [(name, Resource.Kind.DATASET, Relation.Kind.TRAINED_ON) for name in _as_list(meta.get("datasets"))]
    links += [(name, Resource.Kind.MODEL, Relation.Kind.BASE_MODEL) for name in _as_list(meta.get("base_model"))]
    for repo_id, kind, relation in links:
        target = Resource.objects.filter(kind=kind, repo_id=repo_id).first()
        if target is not None and target.pk != resource.pk:
            Relation.objects.get_or_create(source=resource, target=target, kind=relation)


def reindex(resource: Resource) -> None:
    if not resource.is_published:  # a draft is found by nobody but its owner, who has its page
        search.remove(kind=search.Kind.RESOURCE, object_ids=[resource.pk])
        return
    search.index(kind=search.Kind.RESOURCE, object_id=resource.pk, title=search_title(resource.repo_id, resource.title),
                 tags=list(resource.tags.values_list("name", flat=True)),
                 body=f"{resource.summary}\n{markdown.plain_text(split_front_matter(resource.card)[1])}",
                 url=resource.get_absolute_url(), author_id=resource.submitter_id, created_at=resource.created_at)


def _check_identity(user: User | None, resource: Resource, data: dict) -> None:
    """Kind, owner and name make the URL and the repo id others copy and the playground runs:
    after publishing only moderators change them, and nobody once there is a runtime."""
    changed = [f for f in IDENTITY if f in data and data[f] != getattr(resource, f)]
    if not changed:
        return
    if user is not None and not user.is_staff:
        raise ValidationError({f: [_("Only a moderator can change this after publishing.")] for f in changed})
    if has_runtime(resource):
        raise ValidationError({f: [_("The playground runs this resource under its repo id, so this "
                                     "cannot change.")] for f in changed})


def _check_namespace(user: User, owner: str) -> None:
    """A member publishes under their username only where nobody else has: a namespace the
    catalogue already holds for an organisation (HuggingFaceTB, Qwen) is not theirs for
    signing up under that name."""
    if Resource.objects.filter(owner__iexact=owner).exclude(submitter=user).exists():
        raise ValidationError({"owner": [_("%(owner)s is a namespace other members publish under; ask a moderator.")
                                         % {"owner": owner}]})


@transaction.atomic
def save_resource(*, user: User | None, data: dict, resource: Resource | None = None,
                  readme: bool = False) -> Resource:
    """Create or update a resource from validated fields; the card's front matter fills metadata.

    An empty owner means none was given: members always, and staff by default, publish under
    their username. `private` (creating only) makes it a draft until its owner publishes it.
    Every field is checked against the model (lengths, ranges, shapes) before
    anything is written, so odd input is a 400 naming the field, never a database error.
    """
    data = dict(data)
    if not data.get("owner"):
        data.pop("owner", None)
    private = data.pop("private", False)
    creating = resource is None
    if creating:
        # A private one starts as a draft: only its owner and moderators see it until it is published.
        resource = Resource(submitter=user, is_published=not private)
    else:
        # Locked and read afresh: the whole row is saved below, and a like (its F() count), a new
        # discussion's link or a README commit that came meanwhile must not be written over.
        resource = Resource.objects.select_for_update(no_key=True).get(pk=resource.pk)
        if user is not None and not can_change(user, resource):
            raise PermissionDenied(_("Only the owner or a moderator may change this resource."))
        _check_identity(user, resource, data)
    tags = data.pop("tags", None)
    card = data.pop("card", None)
    current_tags = [] if creating else list(resource.tags.order_by("name").values_list("name", flat=True))
    changed = {f: data[f] for f in CARD_KEYS if f in data and data[f] != getattr(resource, f)}
    for field, value in data.items():
        setattr(resource, field, value)
    if creating and user is not None and (not user.is_staff or "owner" not in data):
        resource.owner = user.username
    if creating and user is not None and not user.is_staff:
        _check_namespace(user, resource.owner)
    meta: dict = {}
    rewrite = card is not None or creating or changed or (tags is not None and set(clean_tags(tags)) != set(current_tags))
    if rewrite:
        tags, meta = _apply_card(resource, resource.card if card is None else card, changed=changed, tags=tags,
                                 current_tags=current_tags, creating=creating, readme=readme)
    resource.full_clean(exclude=["submitter", "thread", "repo_id"], validate_unique=False,
                        validate_constraints=False)
    if len(resource.get_absolute_url()) > URL_MAX_LENGTH:  # a non-ASCII username, percent-encoded
        raise ValidationError({"owner": [_("This owner is too long to publish under; ask a moderator.")]})
    resource.updated_at = timezone.now()
    try:
        with transaction.atomic():
            resource.save()
    except IntegrityError:
        raise ValidationError({"name": [_("%(repo)s already exists.") % {"repo": resource.repo_id}]})
    if tags is not None:
        resource.tags.set(tags_named(tags))
    _link_from_meta(resource, meta)
    if rewrite:  # a model's or dataset's card is its repository's README.md
        commit_card(resource=resource, user=user, card=resource.card, creating=creating)
    reindex(resource)
    return resource


@transaction.atomic
def publish_resource(*, user: User, resource: Resource) -> Resource:
    """A draft becomes public: listed, searchable and runnable by everyone."""
    if not can_change(user, resource):
        raise PermissionDenied(_("Only the owner or a moderator may publish this resource."))
    # Read under a lock: a publish that read the row before a takedown must not undo it.
    resource = Resource.objects.select_for_update().get(pk=resource.pk)
    if resource.is_taken_down and not is_moderator(user):
        raise PermissionDenied(_("A moderator took this resource down: only a moderator may publish it again."))
    return _set_published(resource, published=True)


@transaction.atomic
def take_down(*, moderator: User, resource: Resource) -> Resource:
    """A moderator takes a published resource back to a draft (an abusive card, say): only its
    owner and the moderators see it, it leaves the public search, and only a moderator publishes
    it again. Its rows and runs stay."""
    if not is_moderator(moderator):
        raise PermissionDenied(_("Only a moderator may take a resource down."))
    resource = _set_published(Resource.objects.select_for_update().get(pk=resource.pk), published=False)
    log_action(moderator=moderator, action=ModerationLog.Action.TAKE_DOWN, subject=resource.repo_id,
               link=resource.get_absolute_url(), member=resource.submitter)
    return resource


def _set_published(resource: Resource, *, published: bool) -> Resource:
    """Published, or taken down (only a moderator unpublishes a resource), and in or out of the
    public search accordingly. Its discussion goes with a takedown (its title is the resource's,
    its first post quotes the card) and comes back when a moderator publishes it again, unless it
    was hidden before, or its opening post is now, on its own account."""
    had_hidden = resource.takedown_hid_discussion
    hides = not published and resource.thread_id is not None and (
        had_hidden or Thread.objects.filter(pk=resource.thread_id, is_hidden=False).exists())
    Resource.objects.filter(pk=resource.pk).update(is_published=published, is_taken_down=not published,
                                                   takedown_hid_discussion=hides, updated_at=timezone.now())
    resource.refresh_from_db(fields=["is_published", "is_taken_down", "takedown_hid_discussion", "updated_at"])
    reindex(resource)
    if resource.thread_id is not None and (hides or (published and had_hidden)):
        hidden = hides or Post.objects.filter(thread=resource.thread_id, position=1, is_hidden=True).exists()
        set_thread_hidden(thread_id=resource.thread_id, hidden=hidden)
        sync_visibility(thread_id=resource.thread_id)
    return resource


class ResourceInUse(ValidationError):
    """Deleting the resource would take a live model or members' playground runs with it."""


@receiver(readme_committed)
def _card_from_readme(sender, *, resource: Resource, text: str, **kwargs) -> None:
    """A commit that changed README.md changes the card and the metadata its front matter gives."""
    save_resource(user=None, data={"card": text}, resource=resource, readme=True)


@transaction.atomic
def delete_resource(*, user: User, resource: Resource) -> None:
    """Delete a resource nothing else depends on. A runnable model (its runtime enabled) or one
    with playground runs is refused: a moderator disables the runtime first, and runs are kept."""
    if not can_change(user, resource):
        raise PermissionDenied(_("Only the owner or a moderator may delete this resource."))
    resource = Resource.objects.select_for_update().get(pk=resource.pk)
    if resource.is_taken_down and not is_moderator(user):
        # Else its owner could delete it and publish the same name and files again at once.
        raise PermissionDenied(_("A moderator took this resource down: only a moderator may delete it."))
    if Runtime.objects.filter(resource=resource, enabled=True).exists():
        raise ResourceInUse(_("This model runs in the playground: a moderator must disable its runtime "
                              "before it can be deleted."))
    jobs = getattr(resource, "jobs", None)  # playground runs; the layer above names the relation
    if jobs is not None and jobs.exists():
        raise ResourceInUse(_("Playground runs were made with this resource and are kept, so it cannot "
                              "be deleted."))
    search.remove(kind=search.Kind.RESOURCE, object_ids=[resource.pk])
    # A commit protects its parent; with the whole history going, the chain is cut first (else
    # any repository with two commits could never be deleted).
    resource.commits.update(parent=None)
    try:
        resource.delete()
    except (ProtectedError, RestrictedError):
        raise ResourceInUse(_("Other records depend on this resource, so it cannot be deleted."))


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


def system_user() -> User:
    """The account that owns what no member does: discussions of resources without a submitter
    (the seeded catalogue). Inactive with an unusable password, so nobody can log in as it.

    Its username (HUB_SYSTEM_USERNAME, default "community-bot") can also be signed up for; a
    real account holding it is refused rather than handed every such thread.
    """
    name = settings.HUB_SYSTEM_USERNAME
    bot, _created = get_user_model().objects.get_or_create(
        username__lower_exact=name, defaults={"username": name, "is_active": False, "password": make_password(None)})
    if bot.is_active or bot.has_usable_password():
        raise ImproperlyConfigured(f"The user {name!r} is a real account, not the system account; "
                                   "set HUB_SYSTEM_USERNAME to a free name.")
    return bot


def _discussion_body(resource: Resource) -> str:
    kind = Resource.Kind(resource.kind)
    with override("en"):
        english = str(kind.label).lower()
    with override("zh-hans"):
        chinese = str(kind.label)
    return DISCUSSION_BODY.format(link=f"[{resource.repo_id}]({resource.get_absolute_url()})",
                                  kind=english, kind_zh=chinese)


@transaction.atomic
def ensure_discussion(*, resource: Resource, user: User) -> Thread:
    """The resource's forum thread, created in "Hub discussions" the first time it is wanted.

    The thread belongs to the resource's submitter (or the system account), never to `user`,
    who only asked for it and watches it: its author may delete it with everyone's replies.
    """
    resource = Resource.objects.select_for_update().get(pk=resource.pk)
    if resource.thread_id:
        return resource.thread
    if not resource.is_published:  # a forum thread is public; a draft is not yet
        raise PermissionDenied(_("A draft has no discussion until it is published."))
    category, _created = Category.objects.get_or_create(
        slug=DISCUSSION_CATEGORY,
        defaults={"name": "Hub discussions", "name_zh": "模型库讨论", "position": 90, "members_start_threads": False,
                  "description": "One thread for each model, dataset, paper, tool and tutorial.",
                  "description_zh": "每个模型、数据集、论文、工具和教程各有一个讨论帖。"},
    )
    thread = create_thread(
        author=resource.submitter or system_user(), category=category,
        title=f"{resource.repo_id}: {resource.title}"[:200],
        body=_discussion_body(resource),
        tags=[resource.kind], enforce_limits=False, started_by_site=True,
    )
    Watch.objects.get_or_create(user=user, thread=thread)
    resource.thread = thread
    resource.save(update_fields=["thread"])
    return thread
