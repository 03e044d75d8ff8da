"""The one writer of repositories: `commit_files`. A commit is all or nothing: its rows, the
head move and the card it may change land in one transaction (blobs are content-addressed, so
bytes stored for a commit that failed are simply unreferenced)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Resource
from .models import REPO_KINDS, Blob, Commit, Entry
from .paths import BadPath, check_collisions, clean_path
from .permissions import can_commit
from .reads import head
from .storage import Spooled, read_head, spool_bytes, store

README = "README.md"
GITATTRIBUTES = ".gitattributes"
DEFAULT_GITATTRIBUTES = "".join(f"*.{ext} filter=lfs diff=lfs merge=lfs -text\n" for ext in (
    "7z", "arrow", "bin", "bz2", "ckpt", "gguf", "gz", "h5", "joblib", "model", "msgpack", "npy", "npz",
    "onnx", "ot", "parquet", "pb", "pickle", "pkl", "pt", "pth", "safetensors", "tar", "tflite", "zip", "zst"))

# Sent after a commit that changed README.md, inside its transaction: the catalogue re-reads
# the card (a receiver that raises ValidationError undoes the commit). Args: resource, text.
readme_committed = Signal()


class CommitConflict(Exception):
    """`parent_commit` was given and `main` has moved past it."""


class QuotaExceeded(ValidationError):
    pass


@dataclass
class Changes:
    additions: list[tuple[str, Blob]] = field(default_factory=list)  # (path, stored blob)
    deletions: list[str] = field(default_factory=list)
    deleted_folders: list[str] = field(default_factory=list)


def _commit_sha(*, resource: Resource, parent: Commit | None, tree: dict[str, Blob], author: str,
                title: str, message: str, when) -> str:
    digest = hashlib.sha1()
    for path in sorted(tree):
        digest.update(f"{path}\0{tree[path].sha256}\n".encode())
    header = (f"repo {resource.kind}/{resource.pk}\ntree {digest.hexdigest()}\n"
              f"parent {parent.sha if parent else ''}\nauthor {author} {when.isoformat()}\n\n{title}\n\n{message}")
    return hashlib.sha1(header.encode()).hexdigest()


def storage_used(user) -> int:
    """Bytes held by the distinct blobs of every revision of the repositories `user` owns."""
    blobs = Blob.objects.filter(entries__commit__resource__submitter=user).values("pk").distinct()
    return Blob.objects.filter(pk__in=blobs).aggregate(n=Sum("size"))["n"] or 0


def _quota_message(path: str, used: int) -> str:
    return _("%(path)r: the upload would use %(used)d bytes of your %(quota)d-byte storage quota.") % {
        "path": path, "used": used, "quota": settings.HUB_USER_QUOTA_BYTES}


class UploadAllowance:
    """What one upload may still store before `commit_files` sees it: a number of files, and
    bytes of content not stored yet (unbounded for the site's own repositories). Checked file by
    file as an upload or an archive is read, so a small archive of huge members cannot fill the
    disk before the quota is checked."""

    def __init__(self, resource: Resource):
        owner = resource.submitter
        self.files_left = settings.HUB_MAX_FILES_PER_COMMIT
        self.used = 0 if owner is None or owner.is_staff else storage_used(owner)
        self.bounded = owner is not None and not owner.is_staff

    def admit(self, path: str, size: int) -> None:
        """Before the bytes are read: one more file, of `size` bytes, still fits."""
        self.files_left -= 1
        if self.files_left < 0:
            raise ValidationError({"path": [_("A commit changes at most %(n)d files.")
                                            % {"n": settings.HUB_MAX_FILES_PER_COMMIT}]})
        if self.bounded and self.used + size > settings.HUB_USER_QUOTA_BYTES:
            raise QuotaExceeded({"path": [_quota_message(path, self.used + size)]})

    def store(self, spooled: Spooled) -> Blob:
        """Store admitted content; only bytes the storage does not hold yet count."""
        if not Blob.objects.filter(sha256=spooled.sha256).exists():
            self.used += spooled.size
        return store(spooled)


def _check_quota(resource: Resource, tree: dict[str, Blob]) -> None:
    owner = resource.submitter
    if owner is None or owner.is_staff:
        return  # the site's own repositories (seeded, moderators') are not counted
    # The quota spans the owner's repositories, and the commit holds only this one's lock: the
    # owner's row serialises their commits, so two pushes to two repositories cannot both fit.
    type(owner).objects.select_for_update(no_key=True).filter(pk=owner.pk).first()
    held = set(Blob.objects.filter(entries__commit__resource__submitter=owner).values_list("pk", flat=True))
    new = {b.pk: b.size for b in tree.values() if b.pk not in held}
    used = storage_used(owner) + sum(new.values())
    if new and used > settings.HUB_USER_QUOTA_BYTES:
        path = next(p for p, b in tree.items() if b.pk in new)
        raise QuotaExceeded({"path": [_quota_message(path, used)]})


def _apply(tree: dict[str, Blob], changes: Changes) -> dict[str, Blob]:
    tree = dict(tree)
    for raw in changes.deleted_folders:
        prefix = clean_path(raw.rstrip("/")) + "/"
        doomed = [p for p in tree if p.startswith(prefix)]
        if not doomed:
            raise BadPath(raw, _("There is no such folder in the repository."))
        for p in doomed:
            del tree[p]
    for raw in changes.deletions:
        path = clean_path(raw)
        if tree.pop(path, None) is None:
            raise BadPath(raw, _("There is no such file in the repository."))
    added: dict[str, str] = {}
    for raw, blob in changes.additions:
        path = clean_path(raw)
        if path in added and added[path] != raw:
            raise BadPath(raw, _("It is the same name as %(other)r once Unicode is normalised.")
                          % {"other": added[path]})
        added[path] = raw
        tree[path] = blob
    check_collisions(sorted(tree))
    if len(tree) > settings.HUB_MAX_FILES_PER_COMMIT:
        raise ValidationError({"path": [_("A repository holds at most %(n)d files.")
                                        % {"n": settings.HUB_MAX_FILES_PER_COMMIT}]})
    return tree


COMMIT_TITLE_MAX_LENGTH = Commit._meta.get_field("title").max_length
COMMIT_MESSAGE_MAX_LENGTH = 10_000


def _commit_text(field: str, value: str) -> str:
    """A commit's title or message, stripped; a NUL (PostgreSQL refuses it) is a ValidationError
    naming the field."""
    value = (value or "").strip()
    if "\x00" in value:
        raise ValidationError({field: [_("Must be text without NUL characters.")]})
    return value


@transaction.atomic
def commit_files(*, resource: Resource, user, title: str, changes: Changes, message: str = "",
                 parent_sha: str | None = None, check_permission: bool = True,
                 notify_readme: bool = True) -> Commit:
    """A new commit on `main` with `changes` applied to the head's tree. A commit that changes
    nothing returns the head unchanged."""
    if resource.kind not in REPO_KINDS:
        raise ValidationError({"kind": [_("Only models and datasets hold files.")]})
    if check_permission and (user is None or not can_commit(user, resource)):
        raise PermissionDenied(_("Only the owner or a moderator may change this repository's files."))
    title = _commit_text("title", title)[:COMMIT_TITLE_MAX_LENGTH] or _("Update files")  # cut, as git's tools do
    message = _commit_text("message", message)
    if len(message) > COMMIT_MESSAGE_MAX_LENGTH:
        raise ValidationError({"message": [_("At most %(n)d characters.") % {"n": COMMIT_MESSAGE_MAX_LENGTH}]})
    resource = Resource.objects.select_for_update(of=("self",)).select_related("submitter").get(pk=resource.pk)
    parent = head(resource)
    if parent_sha and (parent is None or not parent.sha.startswith(parent_sha.lower())):
        raise CommitConflict(parent_sha)
    before = {e.path: e.blob for e in parent.entries.select_related("blob")} if parent else {}
    tree = _apply(before, changes)
    if parent is not None and {p: b.pk for p, b in tree.items()} == {p: b.pk for p, b in before.items()}:
        return parent
    _check_quota(resource, tree)
    now = timezone.now()
    author = getattr(user, "username", "") or ""
    commit = Commit(resource=resource, parent=parent, author=user if getattr(user, "pk", None) else None,
                    title=title, message=message, created_at=now, file_count=len(tree),
                    total_size=sum(b.size for b in tree.values()),
                    sha=_commit_sha(resource=resource, parent=parent, tree=tree, author=author, title=title,
                                    message=message, when=now))
    try:
        with transaction.atomic():
            commit.save()
    except IntegrityError:
        raise CommitConflict(parent.sha if parent else "")
    Entry.objects.bulk_create([Entry(commit=commit, path=p, blob=b) for p, b in sorted(tree.items())])
    Resource.objects.filter(pk=resource.pk).update(updated_at=now)
    readme = tree.get(README)
    if notify_readme and readme is not None and (before.get(README) is None or before[README].pk != readme.pk):
        readme_committed.send(sender=Commit, resource=resource, text=_readme_text(readme))
    return commit


def _readme_text(blob: Blob) -> str:
    if blob.size > settings.MARKDOWN_MAX_LENGTH * 4:
        raise BadPath(README, _("The card is longer than %(n)d characters.") % {"n": settings.MARKDOWN_MAX_LENGTH})
    try:
        return read_head(blob, blob.size).decode("utf-8")
    except UnicodeDecodeError:
        raise BadPath(README, _("The card must be UTF-8 text."))


def store_text(path: str, text: str) -> Blob:
    return store(spool_bytes(text.encode("utf-8"), label=path))


def commit_card(*, resource: Resource, user, card: str, creating: bool = False) -> Commit | None:
    """Editing the card of a model or dataset is a commit of README.md; a new repository starts
    with `.gitattributes` (and the card), as on the Hugging Face Hub."""
    if resource.kind not in REPO_KINDS:
        return None
    current = head(resource)
    changes = Changes()
    if current is None:
        changes.additions.append((GITATTRIBUTES, store_text(GITATTRIBUTES, DEFAULT_GITATTRIBUTES)))
    readme = current.entries.select_related("blob").filter(path=README).first() if current else None
    if card and (readme is None or readme.blob.sha256 != hashlib.sha256(card.encode()).hexdigest()):
        changes.additions.append((README, store_text(README, card)))
    elif not card and readme is not None and not creating:
        changes.deletions.append(README)
    if not changes.additions and not changes.deletions:
        return current
    title = _("Initial commit") if current is None else _("Update README.md")
    return commit_files(resource=resource, user=user, title=title, changes=changes,
                        check_permission=False, notify_readme=False)
