from django.apps import AppConfig


class ModelsHubConfig(AppConfig):
    name = "models_hub"
    verbose_name = "Models hub"

    def seed_demo(self) -> str:
        from .seed import seed_catalogue

        return f"{seed_catalogue()} catalogue entries"
