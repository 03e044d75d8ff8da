from django.db import migrations
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def count_visible_replies(apps, schema_editor):
    """A thread's reply_count now counts the replies everyone sees: hidden ones come off."""
    Thread = apps.get_model("community", "Thread")
    Post = apps.get_model("community", "Post")
    visible = (Post.objects.filter(thread=OuterRef("pk"), position__gt=1, is_hidden=False)
               .order_by().values("thread").annotate(n=Count("pk")).values("n"))
    with_hidden = Post.objects.filter(is_hidden=True, position__gt=1).values("thread_id")
    Thread.objects.filter(pk__in=with_hidden).update(reply_count=Coalesce(Subquery(visible), 0))


class Migration(migrations.Migration):
    dependencies = [("community", "0007_username_unique_ignoring_case")]
    operations = [migrations.RunPython(count_visible_replies, migrations.RunPython.noop)]
