from django import forms
from django.utils.translation import gettext_lazy as _

from community.forms import CategoryChoiceField
from community.services import TITLE_MAX_LENGTH
from models_hub.models import Resource

from .models import Suite
from .services import runnable_models


class RunForm(forms.Form):
    """Pick a runnable model and a suite."""

    model = forms.ModelChoiceField(label=_("Model"), queryset=Resource.objects.none(), to_field_name="repo_id")
    suite = forms.ModelChoiceField(label=_("Suite"), queryset=Suite.objects.none())

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].queryset = runnable_models(user)
        self.fields["suite"].queryset = Suite.objects.visible_to(user).listed()
        self.fields["suite"].label_from_instance = lambda suite: f"{suite.repo_id} — {suite.title}"
        self.fields["model"].label_from_instance = lambda model: model.repo_id


class DiscussForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX_LENGTH, required=False)
    category = CategoryChoiceField()
