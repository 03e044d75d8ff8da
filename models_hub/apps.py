from django.apps import AppConfig


class ModelsHubConfig(AppConfig):
    name = "models_hub"
    verbose_name = "Models hub"

    def ready(self) -> None:
        from celery.signals import worker_ready

        from .repos import sweep

        worker_ready.connect(sweep.start, weak=False, dispatch_uid="hub-blob-sweep")

    def seed_demo(self) -> str:
        from .seed import seed_catalogue, seed_repositories

        catalogue = seed_catalogue()
        return f"{catalogue} catalogue entries, {seed_repositories()} repositories"

    def profile_section(self, *, person, viewer):
        """The member's models, datasets and other entries, newest first (as a Hugging Face
        profile lists a user's repositories)."""
        from .profile import resources_section

        return resources_section(person=person, viewer=viewer)

    def holds_thread_hidden(self, thread_id: int) -> str | None:
        """A taken-down resource's discussion stays hidden until the resource is published again."""
        from django.utils.translation import gettext as _

        from .models import Resource

        if Resource.objects.filter(thread=thread_id, is_taken_down=True).exists():
            return _("This is the discussion of a resource a moderator took down: publish the resource again "
                     "to show it.")
        return None

    def claims_name(self, name: str) -> bool:
        """A catalogue namespace (an organisation's, say) is no name to sign up under, nor the
        system account's (services.system_user), whose discussions a member would otherwise
        stop from being opened."""
        from django.conf import settings

        from .models import Resource

        return name.lower() == settings.HUB_SYSTEM_USERNAME.lower() or Resource.objects.filter(
            owner__iexact=name).exists()

    def rebake(self) -> str:
        from .services import rebake_cards

        return f"{rebake_cards()} cards rendered anew"
