"""A write on a post deleted between the view's read and the service's lock is a 404, not a 500."""
import pytest
from django.http import Http404

from community import moderation, services
from community.models import Post
from tests.factories import UserFactory, make_post, make_thread

pytestmark = pytest.mark.django_db


@pytest.fixture
def gone(category):
    """A reply as the view read it, deleted since."""
    post = make_post(thread=make_thread(category=category), body="soon gone")
    Post.objects.filter(pk=post.pk).delete()
    return post


def test_a_vote_on_a_post_deleted_meanwhile_is_a_404(gone):
    with pytest.raises(Http404):
        services.vote(user=UserFactory(), post=gone, value=1)


def test_a_flag_on_a_post_deleted_meanwhile_is_a_404(gone):
    with pytest.raises(Http404):
        moderation.flag_post(user=UserFactory(), post=gone, reason="spam")


def test_an_edit_of_a_post_deleted_meanwhile_is_a_404(gone):
    with pytest.raises(Http404):
        services.edit_post(editor=gone.author, post=gone, body="edited")
