from django.apps import AppConfig


class PlaygroundConfig(AppConfig):
    name = "playground"
    verbose_name = "Playground"

    def ready(self) -> None:
        from celery.signals import worker_ready

        from . import reaper

        worker_ready.connect(reaper.start, weak=False, dispatch_uid="playground-reaper")
