"""Search filters by author and date: fill the new columns of the forum's search documents from
their threads (title, tags and opening post) and replies."""
from django.db import migrations
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    SearchDocument = apps.get_model("core", "SearchDocument")
    for kind, model in (("thread", "Thread"), ("post", "Post")):
        source = apps.get_model("community", model).objects.filter(pk=OuterRef("object_id"))
        SearchDocument.objects.filter(kind=kind).update(
            author_id=Subquery(source.values("author_id")[:1]),
            created_at=Subquery(source.values("created_at")[:1]))


class Migration(migrations.Migration):
    dependencies = [
        ("community", "0021_revision_redaction"),
        ("core", "0004_search_document_author_and_date"),
    ]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
