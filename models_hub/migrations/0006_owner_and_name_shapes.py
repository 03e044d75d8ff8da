"""Owner and name get the shapes their URL and repo id need; no SQL change."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('models_hub', '0005_task_and_library_shapes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='resource',
            name='name',
            field=models.CharField(max_length=100, validators=[django.core.validators.RegexValidator('^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\\Z', "Letters, digits, '.', '_' and '-' only, starting with a letter or digit.")], verbose_name='name'),
        ),
        migrations.AlterField(
            model_name='resource',
            name='owner',
            field=models.CharField(max_length=100, validators=[django.core.validators.RegexValidator('^(?!\\.{1,2}\\Z)[\\w.@+-]+\\Z', "An owner is letters, digits, '.', '@', '+', '_' and '-' only.")], verbose_name='owner'),
        ),
    ]
