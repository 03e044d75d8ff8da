"""The GIN index on the search vector exists on PostgreSQL only (SQLite uses the fallback scan)."""
from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS community_searchdocument_vector_gin "
            "ON community_searchdocument USING gin (vector)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS community_searchdocument_vector_gin")


class Migration(migrations.Migration):
    dependencies = [("community", "0001_initial")]
    operations = [migrations.RunPython(create_index, drop_index)]
