from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = "Community"

    def seed_demo(self) -> str:
        from .seed import seed

        return seed()
