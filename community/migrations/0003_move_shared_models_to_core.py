"""Tags, the search index and API keys now belong to `core` (state only: no table changes here)."""
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("community", "0002_search_gin_index"),
        ("core", "0001_initial"),
        ("models_hub", "0003_tags_in_core"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name="thread",
                name="tags",
                field=models.ManyToManyField(blank=True, related_name="threads", to="core.tag"),
            ),
            migrations.DeleteModel(name="ApiToken"),
            migrations.DeleteModel(name="SearchDocument"),
            migrations.DeleteModel(name="Tag"),
        ]),
    ]
