"""Tags, the search index and API keys move here from `community`: their tables already exist,
so this migration only records them in the state; 0002 renames the tables."""
import django.contrib.postgres.search
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("community", "0002_search_gin_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name="Tag",
                fields=[
                    ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                    ("name", models.CharField(max_length=40, unique=True)),
                ],
                options={"ordering": ["name"], "db_table": "community_tag"},
            ),
            migrations.CreateModel(
                name="SearchDocument",
                fields=[
                    ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                    ("kind", models.CharField(choices=[("thread", "Thread"), ("post", "Post"), ("resource", "Resource")], max_length=10)),
                    ("object_id", models.BigIntegerField()),
                    ("title", models.CharField(max_length=300)),
                    ("tags", models.TextField(blank=True)),
                    ("body", models.TextField(blank=True)),
                    ("url", models.CharField(max_length=400)),
                    ("is_public", models.BooleanField(default=True)),
                    ("segmented", models.TextField(blank=True)),
                    ("vector", django.contrib.postgres.search.SearchVectorField(null=True)),
                    ("updated_at", models.DateTimeField(auto_now=True)),
                ],
                options={
                    "db_table": "community_searchdocument",
                    "constraints": [models.UniqueConstraint(fields=("kind", "object_id"), name="search_document_once")],
                },
            ),
            migrations.CreateModel(
                name="ApiToken",
                fields=[
                    ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                    ("name", models.CharField(max_length=60, verbose_name="name")),
                    ("prefix", models.CharField(max_length=8)),
                    ("key_hash", models.CharField(max_length=64, unique=True)),
                    ("created_at", models.DateTimeField(auto_now_add=True)),
                    ("last_used_at", models.DateTimeField(blank=True, null=True)),
                    ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="api_tokens", to=settings.AUTH_USER_MODEL)),
                ],
                options={"ordering": ["-created_at"], "db_table": "community_apitoken"},
            ),
        ]),
    ]
