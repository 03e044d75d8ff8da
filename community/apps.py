from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = "Community"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .accounts import remember_language

        def remember(sender, request, user, **kwargs):
            remember_language(user=user, language=getattr(request, "LANGUAGE_CODE", ""))

        user_logged_in.connect(remember, weak=False, dispatch_uid="community-remember-language")

    def seed_demo(self) -> str:
        from .seed import seed

        return seed()

    def rebake(self) -> str:
        from .services import rebake_posts

        return f"{rebake_posts()} posts and revisions rendered anew"
