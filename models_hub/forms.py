from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import MarkdownField, TagsField

from .models import Resource
from .permissions import IDENTITY, can_rename
from .validators import ARXIV_ID_PATTERN, LIBRARY, MAX_PARAMETERS, NAME, TASK


class ResourceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Resource.Kind.choices)
    owner = forms.CharField(label=_("Owner"), max_length=Resource.max_length("owner"), validators=[NAME], required=False,
                            help_text=_("Moderators only: an organisation to publish under. Empty for "
                                        "your username."))
    name = forms.CharField(label=_("Name"), max_length=Resource.max_length("name"), validators=[NAME],
                           help_text=_("Published as your-username/name."))
    title = forms.CharField(label=_("Title"), max_length=Resource.max_length("title"))
    summary = forms.CharField(label=_("Summary"), max_length=Resource.max_length("summary"), required=False)
    card = MarkdownField(
        label=_("Card"), required=False,
        widget=forms.Textarea(attrs={"rows": 14, "data-markdown": "1"}),
        help_text=_("Markdown. A YAML front matter block (license, tags, pipeline_tag, "
                    "library_name, language, datasets, base_model, arxiv) fills the metadata."),
    )
    tags = TagsField(label=_("Tags"))
    task = forms.CharField(label=_("Task"), max_length=Resource.max_length("task"), required=False, validators=[TASK])
    license = forms.CharField(label=_("License"), max_length=Resource.max_length("license"), required=False)
    library = forms.CharField(label=_("Library"), max_length=Resource.max_length("library"), required=False,
                              validators=[LIBRARY])
    parameters = forms.IntegerField(label=_("Parameters"), min_value=0, max_value=MAX_PARAMETERS, required=False)
    arxiv_id = forms.RegexField(label=_("arXiv id"), regex=ARXIV_ID_PATTERN, max_length=Resource.max_length("arxiv_id"),
                                required=False)
    homepage = forms.URLField(label=_("Homepage"), max_length=Resource.max_length("homepage"), required=False)
    code_url = forms.URLField(label=_("Code"), max_length=Resource.max_length("code_url"), required=False)
    paper_url = forms.URLField(label=_("Paper"), max_length=Resource.max_length("paper_url"), required=False)
    private = forms.BooleanField(label=_("Private"), required=False,
                                 help_text=_("A draft only you and the moderators see, until you publish it."))

    def __init__(self, *args, user, resource: Resource | None = None, **kwargs):
        """Members never choose the owner; after publishing, kind, owner and name are shown but
        fixed unless a moderator may still change them (see `can_rename`)."""
        super().__init__(*args, **kwargs)
        if not user.is_staff:
            del self.fields["owner"]
        if resource is not None:  # chosen once: a draft is published with its page's Publish button
            del self.fields["private"]
        if resource is not None and not can_rename(user, resource):
            for name in IDENTITY:
                if name in self.fields:
                    self.fields[name].disabled = True

    @classmethod
    def initial_for(cls, resource: Resource) -> dict:
        data = {f: getattr(resource, f) for f in cls.base_fields if f != "tags" and hasattr(resource, f)}
        data["tags"] = list(resource.tags.values_list("name", flat=True))
        return data
