from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import MAX_TAGS


class MarkdownField(forms.CharField):
    """A Markdown textarea with a live preview tab (static/js/site.js), capped at the site limit."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", settings.MARKDOWN_MAX_LENGTH)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 10, "data-markdown": "1"}))
        super().__init__(**kwargs)


class TagsField(forms.CharField):
    """Comma-separated tags (ASCII or full-width commas) as a list; at most MAX_TAGS."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("Up to five, separated by commas."))
        super().__init__(**kwargs)

    def to_python(self, value) -> list[str]:
        text = super().to_python(value) or ""
        return [t.strip() for t in text.replace("，", ",").split(",") if t.strip()]

    def validate(self, value: list[str]) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(value) > MAX_TAGS:
            raise forms.ValidationError(_("At most %(n)d tags.") % {"n": MAX_TAGS})

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, (list, tuple)) else value
