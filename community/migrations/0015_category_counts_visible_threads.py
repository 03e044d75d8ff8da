"""Categories count the threads everyone sees: hidden threads were counted until now."""
from django.db import migrations
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def recount(apps, schema_editor):
    Category = apps.get_model("community", "Category")
    Thread = apps.get_model("community", "Thread")
    visible = (Thread.objects.filter(category=OuterRef("pk"), is_hidden=False).order_by().values("category")
               .annotate(n=Count("pk")).values("n"))
    Category.objects.update(thread_count=Coalesce(Subquery(visible), 0))


class Migration(migrations.Migration):
    dependencies = [("community", "0014_user_pending_email")]
    operations = [migrations.RunPython(recount, migrations.RunPython.noop)]
