from django.db import migrations, models


def hub_discussions_are_started_by_the_site(apps, schema_editor):
    apps.get_model("community", "Category").objects.filter(slug="hub-discussions").update(members_start_threads=False)


class Migration(migrations.Migration):
    dependencies = [("community", "0009_revision_title")]

    operations = [
        migrations.AddField(
            model_name="category",
            name="members_start_threads",
            field=models.BooleanField(
                default=True, verbose_name="members start threads here",
                help_text="Off where the site starts each thread (a hub resource's discussion): members reply there."),
        ),
        migrations.RunPython(hub_discussions_are_started_by_the_site, migrations.RunPython.noop),
    ]
