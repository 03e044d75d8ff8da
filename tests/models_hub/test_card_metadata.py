"""A model's or dataset's README front matter is its metadata, as on the Hugging Face Hub: the form
and the API write into it, and a committed README alone gives it."""
import pytest

from models_hub import services
from models_hub.repos import reads
from models_hub.repos.commits import README

from .repo_helpers import commit

pytestmark = pytest.mark.django_db
CARD = "---\nlicense: mit  # SPDX\ntags: [a]\n---\n\n# M"


@pytest.fixture
def model(user):
    return services.save_resource(user=user, data={"kind": "model", "name": "m", "title": "M", "card": CARD})


def readme(resource) -> str:
    entry = reads.entry(reads.head(resource), README)
    return reads.readable_text(entry.blob, 1 << 20)


def edit(client, resource, **fields):
    data = {"kind": "model", "name": "m", "title": "M", "card": resource.card, "license": resource.license,
            "tags": ", ".join(resource.tags.values_list("name", flat=True)), **fields}
    return client.post(f"{resource.get_absolute_url()}edit/", data)


def test_a_field_changed_in_the_form_wins_and_is_written_into_the_readme(model, user, client):
    client.force_login(user)
    assert edit(client, model, license="apache-2.0", tags="a, b").status_code == 302
    model.refresh_from_db()
    assert model.license == "apache-2.0" and sorted(model.tags.values_list("name", flat=True)) == ["a", "b"]
    assert readme(model) == model.card == "---\nlicense: apache-2.0\ntags:\n- a\n- b\n---\n\n# M"


def test_front_matter_edited_in_the_card_wins_over_an_unchanged_field(model, user, client):
    client.force_login(user)
    edit(client, model, card=CARD.replace("mit", "bsd-3-clause"))  # the field still says mit
    model.refresh_from_db()
    assert model.license == "bsd-3-clause" and "license: bsd-3-clause" in readme(model)


def test_a_committed_readme_alone_gives_the_metadata(model, user):
    commit(model, user, {README: b"---\ntags: [c]\n---\n# M\n"})
    model.refresh_from_db()
    assert model.license == "" and list(model.tags.values_list("name", flat=True)) == ["c"]
    assert model.card == "---\ntags: [c]\n---\n# M\n"  # kept as committed


def test_a_tag_added_through_the_api_reaches_the_readme(model, user, as_user):
    response = as_user.patch(f"/api/v1/resources/{model.pk}/", {"tags": ["a", "new"]}, format="json")
    assert response.status_code == 200
    assert readme(model) == "---\nlicense: mit\ntags:\n- a\n- new\n---\n\n# M"


def test_a_card_that_agrees_is_kept_as_typed_and_makes_no_commit(model, user, client):
    commits = reads.history(model).count()
    client.force_login(user)
    edit(client, model, title="Renamed")
    model.refresh_from_db()
    assert model.title == "Renamed" and model.card == CARD and reads.history(model).count() == commits


def test_a_papers_card_is_not_rewritten(user):
    paper = services.save_resource(user=user, data={"kind": "paper", "name": "p", "title": "P", "license": "mit",
                                                    "card": "Body"})
    assert paper.license == "mit" and paper.card == "Body"
