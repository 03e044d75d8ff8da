"""Render stored user text (posts, revisions, cards) again with today's Markdown renderer and
sanitiser, as Discourse's `rake posts:rebake` does: HTML is rendered once, at save time, so a
change to the renderer or a tightened allow-list reaches old text only through this command.

An app takes part by giving its AppConfig a `rebake()` method that returns a summary line.
"""
from django.apps import apps
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Render every stored post, revision and card again (after the renderer or sanitiser changed)."

    def handle(self, *args, **options) -> None:
        for config in apps.get_app_configs():
            rebake = getattr(config, "rebake", None)
            if callable(rebake):
                self.stdout.write(self.style.SUCCESS(f"{config.verbose_name}: {rebake()}"))
