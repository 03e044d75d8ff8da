from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Resource
from .serializers import NAME


class ResourceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Resource.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=100, validators=[NAME],
                           help_text=_("Published as your-username/name."))
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(label=_("Summary"), max_length=500, required=False)
    card = forms.CharField(
        label=_("Card"), required=False, max_length=64000,
        widget=forms.Textarea(attrs={"rows": 14, "data-markdown": "1"}),
        help_text=_("Markdown. A YAML front matter block (license, tags, pipeline_tag, "
                    "library_name, language, datasets, base_model, arxiv) fills the metadata."),
    )
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Up to five, separated by commas."))
    task = forms.CharField(label=_("Task"), max_length=60, required=False)
    license = forms.CharField(label=_("License"), max_length=60, required=False)
    library = forms.CharField(label=_("Library"), max_length=60, required=False)
    parameters = forms.IntegerField(label=_("Parameters"), min_value=0, required=False)
    arxiv_id = forms.RegexField(label=_("arXiv id"), regex=r"^(\d{4}\.\d{4,5}(v\d+)?)?$", required=False)
    homepage = forms.URLField(label=_("Homepage"), required=False)
    code_url = forms.URLField(label=_("Code"), required=False)
    paper_url = forms.URLField(label=_("Paper"), required=False)

    def clean_tags(self) -> list[str]:
        tags = [t.strip() for t in self.cleaned_data["tags"].replace("，", ",").split(",") if t.strip()]
        if len(tags) > 5:
            raise forms.ValidationError(_("At most %(n)d tags.") % {"n": 5})
        return tags

    @classmethod
    def initial_for(cls, resource: Resource) -> dict:
        data = {f: getattr(resource, f) for f in cls.base_fields if f != "tags" and hasattr(resource, f)}
        data["tags"] = ", ".join(resource.tags.values_list("name", flat=True))
        return data
