"""What every app shares: tags, the search index and API keys."""
from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _

MAX_TAGS = 5  # per thread or resource, as on Stack Overflow


class Tag(models.Model):
    """A topic label shared by forum threads and hub resources."""

    name = models.CharField(max_length=40, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


TAG_MAX_LENGTH = Tag._meta.get_field("name").max_length


class SearchDocument(models.Model):
    """One search index for every searchable object, so that all apps share one search."""

    class Kind(models.TextChoices):
        THREAD = "thread", _("Thread")
        POST = "post", _("Post")
        RESOURCE = "resource", _("Resource")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    object_id = models.BigIntegerField()
    title = models.CharField(max_length=300)
    tags = models.TextField(blank=True)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=400)
    is_public = models.BooleanField(default=True)
    # Segmented text (jieba for Chinese) that the vector is built from, and that the SQLite
    # fallback scans.
    segmented = models.TextField(blank=True)
    vector = SearchVectorField(null=True)
    # Who wrote the object and when, for the "by" and date filters; neither changes after writing.
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    created_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="search_document_once"),
        ]
        indexes = [models.Index(fields=["-created_at", "-id"], name="search_document_newest")]
        # The GIN index on `vector` is created by a PostgreSQL-only migration.


class ApiToken(models.Model):
    """A named API key. Only its SHA-256 is stored: the key itself is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(_("name"), max_length=60)
    prefix = models.CharField(max_length=8)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class LogEvent(models.Model):
    """One event of a job's numbered log in embedded mode (server mode keeps logs in Redis
    streams). `stream` names the job (core.eventlog.stream_name), whichever app it belongs to."""

    stream = models.CharField(max_length=120)
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=20)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["stream", "seq"]
        constraints = [models.UniqueConstraint(fields=["stream", "seq"], name="log_event_seq_once")]

    def __str__(self) -> str:
        return f"{self.stream}#{self.seq} {self.kind}"
