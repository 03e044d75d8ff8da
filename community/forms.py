from datetime import date

from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from core import search
from core.forms import MarkdownField, TagsField
from core.models import ApiToken

from .indexing import in_category
from .models import Category, EmailNotifications, Flag, Post, Thread, User
from .moderation import SUSPENSION_MAX_DAYS, SUSPENSION_REASON_MAX_LENGTH
from .profiles import name_is_claimed

TITLE_MAX_LENGTH = Thread._meta.get_field("title").max_length


MAX_ID = models.BigIntegerField.MAX_BIGINT  # primary keys are BigAutoFields


class IdField(forms.IntegerField):
    """A row id from a form: a positive integer within the primary key's range, so that garbage
    and huge numbers are form errors rather than database errors."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        kwargs.setdefault("widget", forms.HiddenInput)
        super().__init__(**kwargs)


def parse_id(value) -> int | None:
    """A row id from a query parameter, or None when it is not one."""
    try:
        return IdField().clean(value)
    except ValidationError:
        return None


def add_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: per field where the form has it."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class SignupForm(UserCreationForm):
    email = forms.EmailField(label=_("Email"), required=True)

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "email"]

    def clean_username(self) -> str:
        username = super().clean_username()
        if username and name_is_claimed(username):
            raise ValidationError(_("This name is taken on the hub."), code="unique")
        return username


class MemberLoginForm(AuthenticationForm):
    """Django's log-in form; a suspended member who gives the right password is told until when
    and why, rather than that the password is wrong."""

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if user.is_suspended:
            raise ValidationError(
                _("A moderator suspended this account until %(until)s: %(reason)s")
                % {"until": date_format(localtime(user.suspended_until), "DATETIME_FORMAT"),
                   "reason": user.suspension_reason}, code="suspended")


class SuspensionForm(forms.Form):
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=SUSPENSION_MAX_DAYS, initial=7)
    reason = forms.CharField(label=_("Reason (the member and their profile's readers see it)"),
                             max_length=SUSPENSION_REASON_MAX_LENGTH)


class ProfileForm(forms.ModelForm):
    current_password = forms.CharField(
        label=_("Current password"), required=False, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Needed only to change your e-mail address."))
    # Left out of a post (an older form, a script), the choice stays as it is.
    email_notifications = forms.ChoiceField(
        label=_("E-mail me"), choices=EmailNotifications.choices, required=False, widget=forms.RadioSelect,
        help_text=_("Sent when a notification is still unread a few minutes later."))

    class Meta:
        model = User
        fields = ["display_name", "email", "bio"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email_notifications"].initial = self.instance.email_notifications

    def clean_email_notifications(self) -> str | None:
        return self.cleaned_data["email_notifications"] or None


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=ApiToken._meta.get_field("name").max_length,
                           help_text=_("What will use it, e.g. “laptop script”."))


class CategoryChoiceField(forms.ModelChoiceField):
    """The categories members may start threads in, named in the reader's language."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Category.objects.open_to_members(), label=_("Category"), **kwargs)

    def label_from_instance(self, category: Category) -> str:
        return category.local_name


class ThreadForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX_LENGTH)
    category = CategoryChoiceField()
    kind = forms.ChoiceField(label=_("Kind"), choices=Thread.Kind.choices, initial=Thread.Kind.DISCUSSION)
    tags = TagsField(label=_("Tags"))
    body = MarkdownField(label=_("Body"), help_text=_("Markdown: **bold**, `code`, ```fenced code```, @mentions."))


class ReplyForm(forms.Form):
    body = MarkdownField(label=_("Your reply"))
    reply_to = IdField(required=False)


class EditPostForm(forms.Form):
    """A post's body; for the opening post, the thread's title, kind and tags too."""

    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX_LENGTH)
    kind = forms.ChoiceField(label=_("Kind"), choices=Thread.Kind.choices)
    tags = TagsField(label=_("Tags"))
    body = MarkdownField(label=_("Body"))

    THREAD_FIELDS = ("title", "kind", "tags")

    def __init__(self, data=None, *, post: Post):
        thread = post.thread
        super().__init__(data, initial={
            "title": thread.title, "kind": thread.kind, "body": post.body,
            "tags": ", ".join(sorted(tag.name for tag in thread.tags.all())) if post.position == 1 else ""})
        if post.position != 1:
            for name in self.THREAD_FIELDS:
                del self.fields[name]

    def thread_changes(self) -> dict:
        """The thread's fields the form carries (none for a reply), as edit_post takes them."""
        return {name: self.cleaned_data[name] for name in self.THREAD_FIELDS if name in self.fields}


class FlagForm(forms.Form):
    kind = forms.ChoiceField(label=_("Why should moderators look at this?"), choices=Flag.Kind.choices,
                             required=False, widget=forms.RadioSelect)  # none: something else, said in `reason`
    reason = forms.CharField(label=_("Reason"), required=False, max_length=Flag._meta.get_field("reason").max_length)


class PostIdForm(forms.Form):
    """A button that names a post (accept an answer: empty to unaccept)."""

    post = IdField(required=False)


class ReviewForm(forms.Form):
    post = IdField()
    decision = forms.ChoiceField(choices=[("restore", _("Restore post")), ("hide", _("Keep hidden"))])


class RevokeTokenForm(forms.Form):
    token = IdField()


SEARCH_DATES = (date(1970, 1, 1), date(2999, 12, 31))


class SearchForm(forms.Form):
    """A search: words, and filters that narrow it (what kind, which category, by whom, when, in
    what order). The search page and `GET /api/v1/search/` read the same parameters."""

    q = forms.CharField(label=_("Search for"), required=False)
    type = forms.ChoiceField(label=_("Type"), required=False,
                             choices=[("", _("Everything")), *search.Kind.choices])
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.all(), to_field_name="slug",
                                      required=False, empty_label=_("Any category"))
    author = forms.CharField(label=_("Author"), required=False, max_length=User._meta.get_field("username").max_length + 1)
    after = forms.DateField(label=_("On or after"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    before = forms.DateField(label=_("Before"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    order = forms.ChoiceField(label=_("Order"), required=False,
                              choices=[("", _("Most relevant")), ("newest", _("Newest first"))])

    def clean_q(self) -> str:
        query = self.cleaned_data["q"]
        if refusal := search.query_too_long(query):
            raise ValidationError(refusal)
        return query

    def clean_author(self) -> User | None:
        name = self.cleaned_data["author"].removeprefix("@")
        if not name:
            return None
        member = User.objects.filter(username__iexact=name).first()
        if member is None:
            raise ValidationError(_("No member is called %(name)s.") % {"name": name})
        return member

    def _clean_day(self, field: str) -> date | None:
        day = self.cleaned_data[field]
        if day is not None and not SEARCH_DATES[0] <= day <= SEARCH_DATES[1]:
            raise ValidationError(_("Enter a date from %(start)s to %(end)s.")
                                  % {"start": SEARCH_DATES[0].isoformat(), "end": SEARCH_DATES[1].isoformat()})
        return day

    def clean_after(self) -> date | None:
        return self._clean_day("after")

    def clean_before(self) -> date | None:
        return self._clean_day("before")

    def clean(self) -> dict:
        data = super().clean()
        if data.get("after") and data.get("before") and data["after"] >= data["before"]:
            self.add_error("before", _("Must be later than the “on or after” date."))
        return data

    def filters(self) -> search.Filters:
        data = self.cleaned_data
        author, category = data.get("author"), data.get("category")
        return search.Filters(author_id=author.pk if author else None, after=data.get("after"),
                              before=data.get("before"), within=in_category(category) if category else None,
                              newest_first=data.get("order") == "newest")

    def kinds(self) -> list[str] | None:
        kind = self.cleaned_data.get("type")
        return [kind] if kind else None

    @property
    def searches(self) -> bool:
        """Whether there is anything to search for: words, or a filter that narrows."""
        return bool(self.cleaned_data.get("q")) or self.filters().narrows
