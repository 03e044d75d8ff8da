"""Give the moved models their own table names, and carry their content types (and so their
permissions and admin history) over to this app."""
from django.db import migrations

MOVED = ("tag", "searchdocument", "apitoken")


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label="core", model=model).exists():
            ContentType.objects.filter(app_label="community", model=model).update(app_label="core")


def rename_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER INDEX IF EXISTS community_searchdocument_vector_gin "
                              "RENAME TO core_searchdocument_vector_gin")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("community", "0003_move_shared_models_to_core"),
        ("models_hub", "0003_tags_in_core"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelTable(name="tag", table=None),
        migrations.AlterModelTable(name="searchdocument", table=None),
        migrations.AlterModelTable(name="apitoken", table=None),
        migrations.RunPython(rename_search_index, migrations.RunPython.noop),
        migrations.RunPython(move_content_types, migrations.RunPython.noop),
    ]
