"""Hand each existing hub discussion to the resource's submitter (or the system account).

Until now whoever first opened a resource's discussion became the thread's author, and with
it could delete the thread and every reply. Their threads and opening posts change owner.
"""
from django.conf import settings
from django.contrib.auth.hashers import is_password_usable, make_password
from django.db import migrations


def hand_discussions_to_submitters(apps, schema_editor):
    Resource = apps.get_model("models_hub", "Resource")
    Thread = apps.get_model("community", "Thread")
    Post = apps.get_model("community", "Post")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    bot = None
    for resource in Resource.objects.exclude(thread=None).only("pk", "thread_id", "submitter_id"):
        owner_id = resource.submitter_id
        if owner_id is None:
            if bot is None:
                name = getattr(settings, "HUB_SYSTEM_USERNAME", "community-bot")
                bot, _created = User.objects.get_or_create(
                    username=name, defaults={"is_active": False, "password": make_password(None)})
                if bot.is_active or is_password_usable(bot.password):
                    raise RuntimeError(f"The user {name!r} is a real account; set HUB_SYSTEM_USERNAME "
                                       "to a free name before migrating.")
            owner_id = bot.pk
        Thread.objects.filter(pk=resource.thread_id).exclude(author_id=owner_id).update(author_id=owner_id)
        Post.objects.filter(thread_id=resource.thread_id, position=1).exclude(author_id=owner_id).update(
            author_id=owner_id)


class Migration(migrations.Migration):
    dependencies = [
        ("models_hub", "0003_tags_in_core"),
        ("community", "0004_vote_value_choices"),
    ]

    operations = [migrations.RunPython(hand_discussions_to_submitters, migrations.RunPython.noop)]
