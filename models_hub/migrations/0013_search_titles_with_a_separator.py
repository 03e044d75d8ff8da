"""Search results showed a resource as "owner/name Its title", run together: index its title as
"owner/name — Its title" (models_hub.models.search_title)."""
from django.db import migrations

from models_hub.models import search_title


def retitle(apps, schema_editor):
    Resource = apps.get_model("models_hub", "Resource")
    SearchDocument = apps.get_model("core", "SearchDocument")
    for pk, repo_id, title in Resource.objects.filter(is_published=True).values_list("pk", "repo_id", "title"):
        SearchDocument.objects.filter(kind="resource", object_id=pk).update(title=search_title(repo_id, title))


class Migration(migrations.Migration):
    dependencies = [
        ("models_hub", "0012_blob_claimed_at"),
        ("core", "0003_event_log_for_every_job"),
    ]

    operations = [migrations.RunPython(retitle, migrations.RunPython.noop)]
