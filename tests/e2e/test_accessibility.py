"""The main pages pass axe-core's WCAG 2.1 A and AA rules, in English and in Chinese."""
import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.factories import make_thread, runnable_model

from .conftest import sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
              "resultTypes": ["violations"]}
LANGUAGES = ["en", "zh-hans"]


@pytest.fixture
def site(db) -> list[str]:
    """A forum thread and a runnable model, so their pages and every list have something in them."""
    model = runnable_model()
    thread = make_thread(title="How do I run SmolLM2 on a CPU?", body="With **two cores**: see [the card](/hub/).")
    return ["/", "/forum/", thread.get_absolute_url(), "/hub/", "/hub/?kind=model", model.get_absolute_url(),
            "/playground/", "/api/", "/leaderboards/", "/arena/", "/search/?q=SmolLM2", "/forum/tags/",
            f"/u/{thread.author.username}/"]


def violations(page, paths: list[str]) -> dict[str, str]:
    axe, found = Axe(), {}
    for path in paths:
        page.goto(path)
        result = axe.run(page, options=WCAG_21_AA)
        if result.violations_count:
            found[path] = result.generate_snapshot()
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_member_s_main_pages_have_no_violations(new_page, site, language):
    page = new_page(locale=language, extra_http_headers={"Accept-Language": language})
    sign_up(page, f"reader-{language}")
    assert violations(page, [*site, "/accounts/settings/", "/playground/runs/", "/forum/notifications/",
                             "/forum/?tab=unread", "/forum/?tab=new"]) == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_visitor_s_pages_have_no_violations(new_page, site, language):
    page = new_page(locale=language, extra_http_headers={"Accept-Language": language})
    assert violations(page, [*site, "/accounts/login/", "/accounts/signup/"]) == {}
