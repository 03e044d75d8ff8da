"""Search results showed a resource as "owner/name Its title", run together: index its title as
"owner/name — Its title" (as models_hub.models.search_title does; copied here, as a migration
must not change when the code does), cut to the index's 300 characters."""
from django.db import migrations

BATCH = 500


def retitle(apps, schema_editor):
    Resource = apps.get_model("models_hub", "Resource")
    SearchDocument = apps.get_model("core", "SearchDocument")
    titles = {pk: " — ".join(part for part in (repo_id, title) if part)[:300]
              for pk, repo_id, title in Resource.objects.filter(is_published=True).values_list("pk", "repo_id", "title")}
    docs = SearchDocument.objects.filter(kind="resource", object_id__in=titles).only("pk", "object_id", "title")
    changed = []
    for doc in docs.iterator(chunk_size=BATCH):
        doc.title = titles[doc.object_id]
        changed.append(doc)
    SearchDocument.objects.bulk_update(changed, ["title"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("models_hub", "0012_blob_claimed_at"),
        ("core", "0003_event_log_for_every_job"),
    ]

    operations = [migrations.RunPython(retitle, migrations.RunPython.noop)]
