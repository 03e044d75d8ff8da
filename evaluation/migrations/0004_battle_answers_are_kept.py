"""Battles made before GenerationJob.kept: their answers are kept too."""
from django.db import migrations
from django.db.models import Q


def keep_battle_answers(apps, schema_editor):
    Battle = apps.get_model("evaluation", "Battle")
    GenerationJob = apps.get_model("playground", "GenerationJob")
    answers = Battle.objects.values_list("job_a_id", "job_b_id")
    GenerationJob.objects.filter(Q(pk__in=answers.values("job_a_id")) | Q(pk__in=answers.values("job_b_id"))).update(
        kept=True)


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0003_battle_keeps_its_answers"),
        ("playground", "0012_job_kept"),
    ]

    operations = [migrations.RunPython(keep_battle_answers, migrations.RunPython.noop)]
