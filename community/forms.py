from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from .models import Category, Thread, User
from .services import MAX_TAGS


class SignupForm(UserCreationForm):
    email = forms.EmailField(label=_("Email"), required=True)

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "email"]


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "email", "bio"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=60,
                           help_text=_("What will use it, e.g. “laptop script”."))


class MarkdownField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", settings.MARKDOWN_MAX_LENGTH)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 10, "data-markdown": "1"}))
        super().__init__(**kwargs)


class ThreadForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.all())
    kind = forms.ChoiceField(label=_("Kind"), choices=Thread.Kind.choices, initial="discussion")
    tags = forms.CharField(label=_("Tags"), required=False,
                           help_text=_("Up to five, separated by commas."))
    body = MarkdownField(label=_("Body"), help_text=_("Markdown: **bold**, `code`, ```fenced code```, @mentions."))

    def clean_tags(self) -> list[str]:
        tags = [t.strip() for t in self.cleaned_data["tags"].replace("，", ",").split(",") if t.strip()]
        if len(tags) > MAX_TAGS:
            raise forms.ValidationError(_("At most %(n)d tags.") % {"n": MAX_TAGS})
        return tags


class ReplyForm(forms.Form):
    body = MarkdownField(label=_("Your reply"))
    reply_to = forms.IntegerField(required=False, widget=forms.HiddenInput)


class FlagForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)
