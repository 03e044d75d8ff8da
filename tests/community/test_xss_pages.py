"""Every XSS vector, put through the services into every field of forum user text, leaves no
script-capable markup on any page that shows that field."""
import pytest
from django.urls import reverse

from community import accounts, services
from community.models import Thread, User
from core.models import TAG_MAX_LENGTH
from core.services import clean_tags
from tests.factories import StaffFactory, UserFactory
from tests.xss import XSS_VECTORS, dangerous_page_parts, is_site_markup

pytestmark = pytest.mark.django_db

NEEDLE = "needle"  # a word in every body, so that search finds them and shows snippets


def fit(vector: str, model, field: str) -> str:
    return vector[: model._meta.get_field(field).max_length]


def member_named(vector: str, **kwargs) -> User:
    member = UserFactory(**kwargs)
    return accounts.update_profile(user=member, display_name=fit(vector, User, "display_name"), bio=vector)


@pytest.fixture
def forum_with(category):
    """The forum with `vector` in each field of user text, and the pages that show them."""
    def build(vector: str) -> dict[str, tuple[User | None, str]]:
        reader = member_named(vector, username="reader")
        author, replier, flagger = member_named(vector), member_named(vector), member_named(vector)
        printable = "".join(ch for ch in vector if ch.isprintable())  # tags refuse control characters
        tag = clean_tags([printable[:TAG_MAX_LENGTH]])[0]
        thread = services.create_thread(
            author=author, category=category, title=fit(vector, Thread, "title"), tags=[tag],
            body=f"{NEEDLE} {vector} @reader", kind=Thread.Kind.QUESTION, enforce_limits=False)
        opening = thread.posts.get(position=1)
        services.edit_post(editor=author, post=opening, body=f"{NEEDLE} edited {vector} @reader")
        reply = services.create_post(author=replier, thread=thread, body=f"{NEEDLE} {vector} @reader",
                                     reply_to=opening, enforce_limits=False)
        services.flag_post(user=flagger, post=reply, reason=vector)
        staff = StaffFactory()
        return {
            "thread": (reader, thread.get_absolute_url()),
            "thread (anonymous)": (None, thread.get_absolute_url()),
            "forum index": (None, reverse("community:index")),
            "category": (None, category.get_absolute_url()),
            "tag": (None, reverse("community:tag", args=[tag])),
            "profile": (None, author.get_absolute_url()),
            "search": (None, f"{reverse('community:search')}?q={NEEDLE}"),
            "notifications and nav": (reader, reverse("community:notifications")),
            "revisions": (None, reverse("community:revisions", args=[opening.pk])),
            "edit": (author, reverse("community:edit-post", args=[opening.pk])),
            "review queue": (staff, reverse("community:review")),
        }
    return build


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_no_page_shows_script_capable_user_text(client, forum_with, vector):
    problems = {}
    for page, (viewer, url) in forum_with(vector).items():
        client.logout()
        if viewer is not None:
            client.force_login(viewer)
        response = client.get(url)
        assert response.status_code == 200, (page, url)
        found = dangerous_page_parts(response.content.decode())
        if found:
            problems[page] = found
    assert problems == {}


def test_the_page_check_still_catches_injected_markup():
    page = ('<body><script src="/static/js/site.js" defer></script><form method="post" action="/x/">'
            '</form><svg onload="x"></svg><form action="//evil.example/"></form></body>')
    assert dangerous_page_parts(page) == ["svg", "onload", "form"]
    assert is_site_markup("script", {"src": "/static/js/site.js", "defer": None})
