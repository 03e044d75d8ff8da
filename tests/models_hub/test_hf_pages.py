"""The Hugging Face Hub's page addresses that its client prints, sent on to this site's pages."""
import pytest

from models_hub import services
from tests.factories import ResourceFactory, UserFactory

from .repo_helpers import commit

pytestmark = pytest.mark.django_db


@pytest.fixture
def repo(user):
    resource = services.save_resource(user=user, data={"kind": "model", "name": "tiny", "title": "Tiny"})
    commit(resource, user, {"docs/guide.md": b"# Guide\n", "config.json": b"{}"})
    return resource


def lands(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code in (301, 302), (url, response.status_code)
    return response["Location"]


def test_a_repositorys_address_is_its_page(repo, client):
    assert lands(client, f"/{repo.repo_id}") == repo.get_absolute_url()


def test_a_datasets_address_is_its_page(user, client):
    dataset = services.save_resource(user=user, data={"kind": "dataset", "name": "d", "title": "D"})
    assert lands(client, f"/datasets/{dataset.repo_id}") == dataset.get_absolute_url()


def test_a_commits_address_is_its_diff(repo, client):
    sha = commit(repo, repo.submitter, {"a.txt": b"a"}).sha
    assert lands(client, f"/{repo.repo_id}/commit/{sha}") == f"{repo.get_absolute_url()}commit/{sha}/"
    assert client.get(f"{repo.get_absolute_url()}commit/{sha}/").status_code == 200


@pytest.mark.parametrize("rest,page", [
    ("blob/main/docs/guide.md", "files/main/docs/guide.md"),
    ("tree/main", "files/main/"),
    ("tree/main/docs", "files/main/docs"),
    ("tree/refs%2Fheads%2Fmain/docs", "files/main/docs"),
    ("commits/main", "commits/"),
])
def test_files_and_history_addresses_land_on_the_tabs(repo, client, rest, page):
    target = lands(client, f"/{repo.repo_id}/{rest}")
    assert target == repo.get_absolute_url() + page and client.get(target).status_code == 200


def test_a_drafts_address_is_a_404_for_others_and_its_page_for_its_owner(user, client):
    draft = ResourceFactory(owner=user.username, name="d", submitter=user, is_published=False)
    client.force_login(UserFactory())
    assert client.get(f"/{draft.repo_id}").status_code == 404
    client.force_login(user)
    assert lands(client, f"/{draft.repo_id}") == draft.get_absolute_url()


def test_the_sites_own_paths_without_their_slash_still_get_it(client):
    assert lands(client, "/forum/tags") == "/forum/tags/"
    assert lands(client, "/hub/new?kind=model") == "/hub/new/?kind=model"


def test_an_unknown_repository_is_a_404(client):
    assert client.get("/nobody/nothing").status_code == 404


@pytest.mark.parametrize("rest", ["tree/refs/heads/dev", "tree/refs%2Fheads%2Fdev", "blob/refs/heads/dev/a.txt",
                                  "tree/a%252Fb"])
def test_a_branch_other_than_main_is_a_404(repo, client, rest):
    assert client.get(f"/{repo.repo_id}/{rest}").status_code == 404


def test_a_sites_page_wins_over_a_repository_at_the_same_address(client):
    services.save_resource(user=UserFactory(username="forum"), data={"kind": "model", "name": "tags", "title": "T"})
    assert lands(client, "/forum/tags") == "/forum/tags/"
    assert lands(client, "/leaderboards/x/discussions") == "/leaderboards/x/discussions/"


def test_an_unknown_v1_path_keeps_openais_404(client):
    response = client.get("/v1/nope")
    assert response.status_code == 404 and response.json()["error"]["type"] == "invalid_request_error"


def test_the_discussions_address_is_the_thread_once_there_is_one(repo, client, user):
    assert lands(client, f"/{repo.repo_id}/discussions") == repo.get_absolute_url()
    thread = services.ensure_discussion(resource=repo, user=user)
    assert lands(client, f"/{repo.repo_id}/discussions") == thread.get_absolute_url()
