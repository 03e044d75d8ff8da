from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import MarkdownField, TagsField

from .models import Resource
from .validators import ARXIV_ID_PATTERN, NAME


def _max(field: str) -> int:
    return Resource._meta.get_field(field).max_length


class ResourceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Resource.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=_max("name"), validators=[NAME],
                           help_text=_("Published as your-username/name."))
    title = forms.CharField(label=_("Title"), max_length=_max("title"))
    summary = forms.CharField(label=_("Summary"), max_length=_max("summary"), required=False)
    card = MarkdownField(
        label=_("Card"), required=False,
        widget=forms.Textarea(attrs={"rows": 14, "data-markdown": "1"}),
        help_text=_("Markdown. A YAML front matter block (license, tags, pipeline_tag, "
                    "library_name, language, datasets, base_model, arxiv) fills the metadata."),
    )
    tags = TagsField(label=_("Tags"))
    task = forms.CharField(label=_("Task"), max_length=_max("task"), required=False)
    license = forms.CharField(label=_("License"), max_length=_max("license"), required=False)
    library = forms.CharField(label=_("Library"), max_length=_max("library"), required=False)
    parameters = forms.IntegerField(label=_("Parameters"), min_value=0, required=False)
    arxiv_id = forms.RegexField(label=_("arXiv id"), regex=ARXIV_ID_PATTERN, required=False)
    homepage = forms.URLField(label=_("Homepage"), required=False)
    code_url = forms.URLField(label=_("Code"), required=False)
    paper_url = forms.URLField(label=_("Paper"), required=False)

    @classmethod
    def initial_for(cls, resource: Resource) -> dict:
        data = {f: getattr(resource, f) for f in cls.base_fields if f != "tags" and hasattr(resource, f)}
        data["tags"] = list(resource.tags.values_list("name", flat=True))
        return data
