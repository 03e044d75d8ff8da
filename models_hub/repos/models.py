"""A repository is the list of commits of a model or dataset resource; each commit lists the
whole tree (path -> blob), so any revision is read with one query. Blobs are content-addressed:
the same bytes in many commits or repositories are stored once."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

REPO_KINDS = ("model", "dataset")  # the resource kinds that hold files


def blob_key(sha256: str) -> str:
    """Where the content with this sha256 lies in STORAGES["hub"]."""
    return f"blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"


class Blob(models.Model):
    sha256 = models.CharField(max_length=64, unique=True)
    git_oid = models.CharField(max_length=40, db_index=True)  # sha1 of "blob <size>\0" + content
    size = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    # When an upload last stored or found this content (sweep.py: a blob no commit holds goes once
    # this is older than an upload's URL lives, plus a grace).
    claimed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(size__gte=0), name="blob_size_non_negative")]

    def __str__(self) -> str:
        return self.sha256

    @property
    def storage_key(self) -> str:
        return blob_key(self.sha256)


class Commit(models.Model):
    resource = models.ForeignKey("models_hub.Resource", on_delete=models.CASCADE, related_name="commits")
    sha = models.CharField(max_length=40)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="hub_commits")
    title = models.CharField(max_length=300)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    file_count = models.PositiveIntegerField(default=0)
    total_size = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["resource", "sha"], name="commit_sha_unique_per_repo"),
            # `main` is linear: one child per parent, so two racing commits cannot both land.
            models.UniqueConstraint(fields=["parent"], name="commit_one_child"),
        ]
        indexes = [models.Index(fields=["resource", "-id"], name="commit_history")]

    def __str__(self) -> str:
        return f"{self.resource_id}@{self.sha[:7]}"


class Entry(models.Model):
    """A file in a commit's tree."""

    commit = models.ForeignKey(Commit, on_delete=models.CASCADE, related_name="entries")
    path = models.CharField(max_length=1000)
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="entries")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["commit", "path"], name="entry_path_unique")]
        ordering = ["path"]

    def __str__(self) -> str:
        return self.path


class LfsGrant(models.Model):
    """An LFS object a member was given an upload URL for (hf_api lfs_batch). Until it is
    committed, or the URL and a grace pass, its size counts against their storage quota; once they
    have sent its bytes (`uploaded_at`) they may commit it. Content stored by others is committed
    only by those who send its bytes too: knowing a hash is no proof of holding the file."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    uploaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "sha256"], name="lfs_grant_once"),
            models.CheckConstraint(condition=Q(size__gte=0), name="lfs_grant_size_non_negative"),
        ]
