from django.apps import AppConfig


class PlaygroundConfig(AppConfig):
    name = "playground"
    verbose_name = "Playground"

    def ready(self) -> None:
        from celery.signals import worker_ready, worker_shutting_down

        from . import reaper, runner

        worker_ready.connect(reaper.start, weak=False, dispatch_uid="playground-reaper")
        worker_shutting_down.connect(runner.shutdown, weak=False, dispatch_uid="playground-shutdown")
