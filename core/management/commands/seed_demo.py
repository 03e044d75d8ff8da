"""Idempotent demo data in English and Chinese, contributed by each app.

An app takes part by giving its AppConfig a `seed_demo()` method that returns a summary line;
apps are seeded in INSTALLED_APPS order, so users exist before the catalogue that names them.
"""
from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Load the demo data of every app (safe to run again)."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        for config in apps.get_app_configs():
            seed = getattr(config, "seed_demo", None)
            if callable(seed):
                self.stdout.write(self.style.SUCCESS(f"{config.verbose_name}: {seed()}"))
