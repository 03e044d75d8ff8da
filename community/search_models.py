"""One search index for threads, posts and resources, so that both apps share one search."""
from django.contrib.postgres.search import SearchVectorField
from django.db import models


class SearchDocument(models.Model):
    class Kind(models.TextChoices):
        THREAD = "thread"
        POST = "post"
        RESOURCE = "resource"

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
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="search_document_once"),
        ]
        # The GIN index on `vector` is created by a PostgreSQL-only migration.
