"""Forms for the run pages: they turn whatever a browser posts into typed values or field errors."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from community.forms import CategoryChoiceField
from community.services import TITLE_MAX_LENGTH

from .models import REPORT_REASON_MAX_LENGTH, GenerationJob, ReviewDecision


class PostToForumForm(forms.Form):
    category = CategoryChoiceField(error_messages={"invalid_choice": _("Choose one of the categories.")})
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX_LENGTH, required=False, strip=True)


class ReportForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=REPORT_REASON_MAX_LENGTH, strip=True,
                             widget=forms.Textarea(attrs={"rows": 3}))


class RunFilterForm(forms.Form):
    """My runs, narrowed to where they came from or how they ended."""

    source = forms.ChoiceField(label=_("From"), required=False,
                               choices=[("", _("anywhere"))] + GenerationJob.Source.choices)
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("any"))] + GenerationJob.Status.choices)

    def filter(self, jobs):
        for name in ("source", "status"):
            if self.cleaned_data.get(name):
                jobs = jobs.filter(**{name: self.cleaned_data[name]})
        return jobs


class ReviewForm(forms.Form):
    """A moderator's decision on one reported run."""

    job = forms.ModelChoiceField(queryset=GenerationJob.objects.all(), widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=ReviewDecision.choices)
