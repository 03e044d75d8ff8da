"""Tags moved to `core` (state only: the join table keeps pointing at the same rows)."""
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("models_hub", "0002_list_order_indexes"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name="resource",
                name="tags",
                field=models.ManyToManyField(blank=True, related_name="resources", to="core.tag"),
            ),
        ]),
    ]
