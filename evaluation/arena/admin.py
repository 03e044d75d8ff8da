"""The arena in the admin: moderators look at battles and votes, and void votes."""
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..models.arena import Battle, Vote
from . import services


@admin.register(Battle)
class BattleAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "mode", "model_a", "model_b", "created_at", "revealed_at")
    list_filter = ("mode",)
    search_fields = ("user__username", "prompt")
    raw_id_fields = ("user", "model_a", "model_b", "job_a", "job_b")
    readonly_fields = [f.name for f in Battle._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ("id", "battle", "voter", "winner", "created_at", "voided_at")
    list_filter = ("winner", ("voided_at", admin.EmptyFieldListFilter))
    search_fields = ("battle__user__username",)
    list_select_related = ("battle__user",)
    readonly_fields = [f.name for f in Vote._meta.fields]
    actions = ["void_votes"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description=_("voter"))
    def voter(self, vote: Vote) -> str:
        return vote.battle.user.username

    @admin.action(description=_("Void the selected votes (the leaderboard refits without them)"))
    def void_votes(self, request, queryset) -> None:
        n = services.void_selected(moderator=request.user, votes=queryset, reason=_("voided in the admin"))
        self.message_user(request, ngettext("%(n)d vote voided.", "%(n)d votes voided.", n) % {"n": n},
                          messages.SUCCESS)
