"""Forms for the run pages: they turn whatever a browser posts into typed values or field errors."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from community.models import Category
from community.services import TITLE_MAX_LENGTH


class PostToForumForm(forms.Form):
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.all(),
                                      error_messages={"invalid_choice": _("Choose one of the categories.")})
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX_LENGTH, required=False, strip=True)
