"""Forms for the arena pages: whatever a browser posts becomes typed values or field errors."""
from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from community.models import User
from models_hub.models import Resource

from ..models.arena import BattleMode, Winner
from .services import VOID_REASON_MAX_LENGTH


class BattleForm(forms.Form):
    prompt = forms.CharField(label=_("Your prompt"), max_length=settings.PLAYGROUND_MAX_PROMPT_CHARS,
                             widget=forms.Textarea(attrs={"rows": 4}))
    mode = forms.ChoiceField(label=_("Mode"), choices=BattleMode.choices, initial=BattleMode.BLIND,
                             widget=forms.RadioSelect)
    model_a = forms.ModelChoiceField(label=_("Model A"), required=False, to_field_name="repo_id",
                                     queryset=Resource.objects.none())
    model_b = forms.ModelChoiceField(label=_("Model B"), required=False, to_field_name="repo_id",
                                     queryset=Resource.objects.none())

    def __init__(self, data=None, *, user, query=None):
        """`query` (the page's GET) preselects a compare battle, as "Send to arena" links do
        (?mode=compare&a=owner/name); a member may compare their own drafts."""
        query = query or {}
        initial = {"mode": query.get("mode")} if query.get("mode") in BattleMode.values else {}
        initial |= {field: query[key] for field, key in (("model_a", "a"), ("model_b", "b")) if query.get(key)}
        super().__init__(data, initial=initial)
        for name in ("model_a", "model_b"):
            self.fields[name].queryset = Resource.objects.runnable(user).select_related("runtime").order_by("repo_id")

    def clean(self) -> dict:
        data = super().clean()
        if data.get("mode") == BattleMode.COMPARE:
            for name in ("model_a", "model_b"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, _("Pick a model to compare."))
        return data

    def chosen_models(self) -> list[Resource] | None:
        """The compare battle's two models, or None for a blind battle."""
        if self.cleaned_data["mode"] != BattleMode.COMPARE:
            return None
        return [self.cleaned_data["model_a"], self.cleaned_data["model_b"]]


class VoteForm(forms.Form):
    winner = forms.ChoiceField(choices=Winner.choices)


class VoidVotesForm(forms.Form):
    username = forms.CharField(label=_("Member"), max_length=User._meta.get_field("username").max_length)
    reason = forms.CharField(label=_("Reason"), max_length=VOID_REASON_MAX_LENGTH, required=False)

    def clean_username(self) -> User:
        """The member, however their name is capitalised (@Alice is alice, as everywhere)."""
        member = User.objects.filter(username__lower_exact=self.cleaned_data["username"]).first()
        if member is None:
            raise forms.ValidationError(_("No member has that username."))
        return member
