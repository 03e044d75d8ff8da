from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = "Community"

    def seed_demo(self) -> str:
        from .seed import seed

        return seed()

    def rebake(self) -> str:
        from .services import rebake_posts

        return f"{rebake_posts()} posts and revisions rendered anew"
