"""Task and library names get a fixed shape (they are shown in copyable code); no SQL change."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('models_hub', '0004_discussions_owned_by_submitter'),
    ]

    operations = [
        migrations.AlterField(
            model_name='resource',
            name='library',
            field=models.CharField(blank=True, db_index=True, max_length=60, validators=[django.core.validators.RegexValidator('^[A-Za-z0-9._-]+\\Z', "A library name is letters, digits, '.', '_' and '-' only.")], verbose_name='library'),
        ),
        migrations.AlterField(
            model_name='resource',
            name='task',
            field=models.CharField(blank=True, db_index=True, max_length=60, validators=[django.core.validators.RegexValidator('^[a-z0-9]+(-[a-z0-9]+)*\\Z', 'A task is lower-case letters and digits in words joined by dashes, such as text-generation.')], verbose_name='task'),
        ),
    ]
