"""Share runs by an unguessable token instead of their sequential id.

Runs that are already public get a token here (their old /playground/runs/<id>/ links stop
working for everyone but the owner, which is the point)."""
import secrets

from django.db import migrations, models


def give_public_runs_a_token(apps, schema_editor):
    GenerationJob = apps.get_model("playground", "GenerationJob")
    for pk in GenerationJob.objects.filter(is_public=True, share_token__isnull=True).values_list("pk", flat=True):
        GenerationJob.objects.filter(pk=pk).update(share_token=secrets.token_urlsafe(16))


class Migration(migrations.Migration):

    dependencies = [
        ('playground', '0003_protect_job_resource'),
    ]

    operations = [
        migrations.AddField(
            model_name='generationjob',
            name='share_token',
            field=models.CharField(blank=True, editable=False, max_length=32, null=True, unique=True),
        ),
        migrations.RunPython(give_public_runs_a_token, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='generationjob',
            constraint=models.CheckConstraint(condition=models.Q(('is_public', False), ('share_token__isnull', False), _connector='OR'), name='job_public_has_share_token'),
        ),
    ]
