"""Every place hub text is shown, against the OWASP vectors: saved through the services (as far
as each field's rules allow), then the catalogue and the resource page are rendered and no
script-capable tag, event handler or script URL may appear beyond the page's own chrome. The
filtered list also echoes the vector from the query string (filter chips, hidden inputs)."""
import json
import re
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError

from models_hub import services
try:  # the community branch moves the corpus and checker to tests/xss.py
    from tests.xss import XSS_VECTORS, dangerous_parts
except ImportError:
    from tests.core.test_markdown import XSS_VECTORS, dangerous_parts
from tests.factories import ResourceFactory, StaffFactory

pytestmark = pytest.mark.django_db

BASE = {"kind": "model", "name": "probe", "title": "Plain", "summary": "plain"}


def as_tag(vector: str) -> str:
    """What the tag rules let through: no control characters, at most 40 characters."""
    return re.sub(r"[\x00-\x1f]", "", vector)[:40]


FIELDS = {
    "title": lambda v: {"title": v[:200]},
    "summary": lambda v: {"summary": v[:500]},
    "card": lambda v: {"card": f"# Card\n\n{v}\n\n{v}"},
    "card_front_matter": lambda v: {"card": f"---\nlicense: {json.dumps(v[:60])}\n"
                                            f"tags: [{json.dumps(as_tag(v))}]\n---\n"},
    "tags": lambda v: {"tags": [as_tag(v)]},
}


def pages(client, resource, reflected: str = "plain") -> dict[str, str]:
    """The list, the list filtered and searched by `reflected` text, and the resource page."""
    urls = {"list": "/hub/", "detail": resource.get_absolute_url(),
            "filtered": "/hub/?" + urlencode({"task": reflected, "tag": reflected, "q": reflected})}
    return {page: client.get(url).content.decode() for page, url in urls.items()}


@pytest.fixture
def chrome(client, staff):
    """The dangerous-looking parts the pages have with plain text (scripts, inline handlers)."""
    resource = services.save_resource(user=staff, data=dict(BASE))
    found = {page: dangerous_parts(html) for page, html in pages(client, resource).items()}
    resource.delete()
    return found


def assert_nothing_added(client, resource, chrome, reflected: str = "plain"):
    for page, html in pages(client, resource, reflected).items():
        assert page == "filtered" or resource.repo_id in html, page
        assert dangerous_parts(html) == chrome[page], page


@pytest.mark.parametrize("vector", XSS_VECTORS)
@pytest.mark.parametrize("field", FIELDS)
def test_no_vector_survives_in_any_field(client, staff, chrome, field, vector):
    data = {**BASE, **FIELDS[field](vector)}
    resource = services.save_resource(user=staff, data=data)
    assert_nothing_added(client, resource, chrome, reflected=vector)


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_rows_stored_before_validation_are_escaped_too(client, chrome, vector):
    resource = ResourceFactory(name="probe", owner=StaffFactory().username, task=vector[:60], library=vector[:60],
                               license=vector[:60], languages=[vector])
    assert_nothing_added(client, resource, chrome)


@pytest.mark.parametrize("vector", XSS_VECTORS)
@pytest.mark.parametrize("field", ["owner", "name", "task", "library"])
def test_identity_and_snippet_fields_refuse_markup(staff, field, vector):
    with pytest.raises(ValidationError) as refused:
        services.save_resource(user=staff, data={**BASE, field: vector})
    assert field in refused.value.message_dict
