"""Shared runs can be reported like forum posts; moderators keep them public or make them private."""
import pytest
from django.db import IntegrityError, transaction
from django.template import Context, Template
from django.test import Client, RequestFactory

from playground import services
from playground.context_processors import moderation
from playground.models import GenerationJob, RunReport
from tests.conftest import client_for
from tests.factories import StaffFactory, UserFactory, runnable_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared(user):
    job = GenerationJob.objects.create(user=user, resource=runnable_model(), mode="completion", prompt="Once",
                                       output="something rude", status="succeeded", params={})
    return services.set_public(user=user, job=job, public=True)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def report_url(job) -> str:
    return f"/api/v1/playground/shared/{job.share_token}/report/"


def test_a_member_reports_a_shared_run_through_the_api(shared, other_user):
    response = client_for(other_user).post(report_url(shared), {"reason": "Offensive"}, format="json")
    assert response.status_code == 201 and response.json()["reason"] == "Offensive"
    report = RunReport.objects.get()
    assert (report.reporter, report.job, report.resolved) == (other_user, shared, False)
    again = client_for(other_user).post(report_url(shared), {"reason": "Still offensive"}, format="json")
    assert again.status_code == 200 and RunReport.objects.count() == 1  # one per member and run


def test_one_report_per_member_and_run_in_the_database(shared, other_user):
    RunReport.objects.create(reporter=other_user, job=shared, reason="a")
    with pytest.raises(IntegrityError), transaction.atomic():
        RunReport.objects.create(reporter=other_user, job=shared, reason="b")


@pytest.mark.parametrize("body,status", [
    ({}, 400), ({"reason": ""}, 400), ({"reason": "   "}, 400), ({"reason": "x" * 501}, 400),
    ({"reason": ["a"]}, 400), ({"reason": {"a": 1}}, 400),
])
def test_a_report_needs_a_reason_within_the_limit(shared, other_user, body, status):
    response = client_for(other_user).post(report_url(shared), body, format="json")
    assert response.status_code == status and "reason" in response.json()
    assert not RunReport.objects.exists()


def test_who_may_report(shared, user, api):
    assert client_for(user).post(report_url(shared), {"reason": "x"}, format="json").status_code == 403  # owner
    assert api.post(report_url(shared), {"reason": "x"}, format="json").status_code == 401  # anonymous
    assert client_for(UserFactory()).post("/api/v1/playground/shared/nope/report/", {"reason": "x"},
                                          format="json").status_code == 404
    services.set_public(user=user, job=shared, public=False)
    assert client_for(UserFactory()).post(report_url(shared), {"reason": "x"},
                                          format="json").status_code == 404  # not shared (any more)
    assert not RunReport.objects.exists()


def test_the_shared_page_has_a_report_form_for_members_but_not_the_owner(shared, user, other_user):
    url = shared.get_share_url()
    assert 'name="reason"' in signed_in(other_user).get(url).content.decode()
    assert 'name="reason"' not in signed_in(user).get(url).content.decode()
    anonymous = Client().get(url).content.decode()
    assert 'name="reason"' not in anonymous and "Log in to report" in anonymous


def test_reporting_through_the_page(shared, other_user):
    client = signed_in(other_user)
    response = client.post(f"/playground/s/{shared.share_token}/report/", {"reason": "Spam"})
    assert response.status_code == 302 and response["Location"] == shared.get_share_url()
    assert RunReport.objects.get().reason == "Spam"
    assert "You reported this run" in client.get(shared.get_share_url()).content.decode()


def test_a_bad_report_form_is_400_naming_the_field(shared, other_user):
    response = signed_in(other_user).post(f"/playground/s/{shared.share_token}/report/", {"reason": "x" * 600})
    assert response.status_code == 400 and 'data-testid="report-errors"' in response.content.decode()
    assert not RunReport.objects.exists()


def test_the_owner_cannot_report_their_run_through_the_page(shared, user):
    signed_in(user).post(f"/playground/s/{shared.share_token}/report/", {"reason": "x"})
    assert not RunReport.objects.exists()


# --- the moderators' queue -----------------------------------------------------------------------
def test_only_moderators_see_the_review_queue(shared, other_user):
    assert signed_in(other_user).get("/playground/review/").status_code == 403
    assert Client().get("/playground/review/").status_code == 302  # to the sign-in
    response = signed_in(StaffFactory()).get("/playground/review/")
    assert response.status_code == 200 and "Nothing to review" in response.content.decode()


def test_reported_runs_are_listed_with_their_reasons_and_a_link_to_the_forum_queue(shared):
    RunReport.objects.create(reporter=UserFactory(), job=shared, reason="rude words")
    RunReport.objects.create(reporter=UserFactory(), job=shared, reason="also spam")
    RunReport.objects.create(reporter=UserFactory(), job=shared, reason="old", resolved=True)
    html = signed_in(StaffFactory()).get("/playground/review/").content.decode()
    assert html.count('data-testid="reported-run"') == 1 and "something rude" in html
    assert "rude words" in html and "also spam" in html and ">old<" not in html and "2 reports" in html
    assert 'href="/forum/review/"' in html  # the forum's own queue, next door
    assert 'data-testid="open-run-reports">2 open reports' in html


def test_keep_public_resolves_the_reports(shared):
    RunReport.objects.create(reporter=UserFactory(), job=shared, reason="x")
    response = signed_in(StaffFactory()).post("/playground/review/", {"job": shared.pk, "decision": "keep_public"})
    assert response.status_code == 302
    shared.refresh_from_db()
    assert shared.is_public and Client().get(shared.get_share_url()).status_code == 200
    assert not RunReport.objects.filter(resolved=False).exists()


def test_make_private_resolves_the_reports_and_kills_the_link(shared):
    RunReport.objects.create(reporter=UserFactory(), job=shared, reason="x")
    old_url = shared.get_share_url()
    signed_in(StaffFactory()).post("/playground/review/", {"job": shared.pk, "decision": "make_private"})
    shared.refresh_from_db()
    assert not shared.is_public and shared.share_token is None
    assert Client().get(old_url).status_code == 404
    assert not RunReport.objects.filter(resolved=False).exists()


@pytest.mark.parametrize("data", [{"job": "abc", "decision": "keep_public"}, {"job": "", "decision": "x"},
                                  {"job": "99999999999999999999", "decision": "keep_public"}, {}])
def test_a_bad_review_post_is_400_not_500(shared, data):
    RunReport.objects.create(reporter=UserFactory(), job=shared, reason="x")
    response = signed_in(StaffFactory()).post("/playground/review/", data)
    assert response.status_code == 400
    assert RunReport.objects.filter(resolved=False).count() == 1


def test_members_cannot_review(shared, other_user):
    RunReport.objects.create(reporter=UserFactory(), job=shared, reason="x")
    with pytest.raises(services.PermissionDenied):
        services.review_run(moderator=other_user, job=shared, decision="make_private")
    signed_in(other_user).post("/playground/review/", {"job": shared.pk, "decision": "make_private"})
    shared.refresh_from_db()
    assert shared.is_public and RunReport.objects.filter(resolved=False).count() == 1


def test_moderators_get_the_count_of_unresolved_reports(shared, other_user):
    RunReport.objects.create(reporter=other_user, job=shared, reason="x")
    RunReport.objects.create(reporter=UserFactory(), job=shared, reason="y", resolved=True)
    template = Template("{% load playground_moderation %}{% unresolved_run_reports as n %}{{ n }} "
                        "{% url 'playground:review' %}")
    assert template.render(Context({"user": StaffFactory()})) == "1 /playground/review/"
    assert template.render(Context({"user": other_user})) == "0 /playground/review/"
    request = RequestFactory().get("/")
    request.user = StaffFactory()
    assert moderation(request)["unresolved_run_reports"]() == 1
    assert Template("{{ unresolved_run_reports }}").render(Context(moderation(request))) == "1"


def test_the_review_queue_query_count_does_not_grow_with_runs(user, django_assert_max_num_queries):
    staff = signed_in(StaffFactory())
    for _ in range(5):
        job = GenerationJob.objects.create(user=user, resource=runnable_model(), mode="chat", params={},
                                           messages=[{"role": "user", "content": "x"}], is_public=True)
        for _ in range(2):
            RunReport.objects.create(reporter=UserFactory(), job=job, reason="r")
    with django_assert_max_num_queries(12):
        assert staff.get("/playground/review/").status_code == 200
