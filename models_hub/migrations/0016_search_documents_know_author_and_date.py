"""Search filters by author and date: fill the new columns of the hub's search documents from
their resources (the member who submitted each, and when)."""
from django.db import migrations
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    SearchDocument = apps.get_model("core", "SearchDocument")
    source = apps.get_model("models_hub", "Resource").objects.filter(pk=OuterRef("object_id"))
    SearchDocument.objects.filter(kind="resource").update(
        author_id=Subquery(source.values("submitter_id")[:1]),
        created_at=Subquery(source.values("created_at")[:1]))


class Migration(migrations.Migration):
    dependencies = [
        ("models_hub", "0015_resource_downloads"),
        ("core", "0004_search_document_author_and_date"),
    ]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
