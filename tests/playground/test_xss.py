"""Prompts and model output are anyone's text: no page shows them as markup, and the forum post
quoting a run keeps them inside their quote (then the Markdown sanitiser has the last word)."""
from html.parser import HTMLParser

import pytest
from django.test import Client

from playground import services
from playground.models import GenerationJob, RunReport
from tests.core.test_markdown import XSS_VECTORS, dangerous_parts
from tests.factories import StaffFactory, UserFactory, runnable_model

pytestmark = pytest.mark.django_db

# Attempts to leave a blockquote or a code span in the Markdown of the forum post.
BREAKOUTS = [
    "\n\n### Output\n\n[Open the run](https://evil.example/)",
    "x\r\n\r\n<script>alert(1)</script>\r\n\r\n[Open the run](https://evil.example/)",
    "x\rx\r\r# Heading\r[Open the run](https://evil.example/)",
    "x\u2028\u2029\x0b\x0c\x1c\x1d\x1e\x85[Open the run](https://evil.example/)",
    "```\n\n[Open the run](https://evil.example/)",
    "`` ` [Open the run](https://evil.example/) ` ``",
    "` [Open the run](https://evil.example/) `",
    ">\n>\n\n\n[Open the run](javascript:alert(1))",
    "[Open the run]: https://evil.example/\n\n[Open the run]",
    "<https://evil.example/> <javascript:alert(1)>",
    "\ufffd<img src=x onerror=alert(1)>\ufeff",  # (NUL never gets this far: the APIs refuse it)
    "    indented\n\n---\n\n***\n\n- [Open the run](https://evil.example/)",
]
MARK = "QZXMARK"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_job(user, text: str, *, mode="chat", **fields) -> GenerationJob:
    content = {"messages": [{"role": "system", "content": text}, {"role": "user", "content": text}],
               "prompt": ""} if mode == "chat" else {"messages": [], "prompt": text}
    fields = {"output": text, "error": text, "status": "failed", "params": {"stop": [text[:100]]}, **content,
              **fields}
    return GenerationJob.objects.create(user=user, resource=runnable_model(), mode=mode, **fields)


def pages(owner, job) -> dict[str, str]:
    """Every page that shows the run's text, as HTML."""
    services.set_public(user=owner, job=job, public=True)
    job.refresh_from_db()
    RunReport.objects.create(reporter=UserFactory(), job=job, reason=job.output[:500])
    staff = StaffFactory()
    return {
        "run page": signed_in(owner).get(job.get_absolute_url()).content.decode(),
        "shared page, anonymous": Client().get(job.get_share_url()).content.decode(),
        "shared page, member": signed_in(UserFactory()).get(job.get_share_url()).content.decode(),
        "history": signed_in(owner).get("/playground/runs/").content.decode(),
        "review queue": signed_in(staff).get("/playground/review/").content.decode(),
    }


@pytest.mark.parametrize("mode", ["chat", "completion"])
@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_no_page_turns_run_text_into_markup(vector, mode):
    # The same pages with harmless text are the baseline: the site's own forms and scripts.
    benign_owner, hostile_owner = UserFactory(), UserFactory()
    benign = pages(benign_owner, make_job(benign_owner, "hello", mode=mode))
    RunReport.objects.all().delete()
    hostile = pages(hostile_owner, make_job(hostile_owner, vector, mode=mode))
    for name, html in hostile.items():
        assert vector in GenerationJob.objects.get(user=hostile_owner).output  # the row holds it raw
        assert dangerous_parts(html) == dangerous_parts(benign[name]), name


def test_a_hostile_role_in_a_raw_row_stays_text(user):
    job = make_job(user, "hi")
    job.messages = [{"role": '"><script>alert(1)</script>', "content": "hi"}]
    job.save()
    html = signed_in(user).get(job.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


# --- the forum post ------------------------------------------------------------------------------
class _Outside(HTMLParser):
    """What of a post lies outside every blockquote and code span: text, links, headings."""

    def __init__(self):
        super().__init__()
        self.depth = {"blockquote": 0, "code": 0, "h3": 0}
        self.text, self.links, self.headings = [], [], []

    @property
    def outside(self) -> bool:
        return not (self.depth["blockquote"] or self.depth["code"])

    def handle_starttag(self, tag, attrs):
        if tag == "a" and not self.depth["blockquote"]:
            self.links.append(dict(attrs).get("href"))
        if tag == "h3" and self.outside:
            self.headings.append("")
        if tag in self.depth:
            self.depth[tag] += 1

    def handle_endtag(self, tag):
        if tag in self.depth:
            self.depth[tag] -= 1

    def handle_data(self, data):
        if self.outside:
            self.text.append(data)
            if self.depth["h3"]:
                self.headings[-1] += data


@pytest.mark.parametrize("vector", XSS_VECTORS + BREAKOUTS)
@pytest.mark.parametrize("mode", ["chat", "completion"])
def test_the_forum_post_keeps_run_text_inside_its_quote(user, category, vector, mode):
    text = f"{MARK}{vector}{MARK}"
    job = make_job(user, text, mode=mode, status="succeeded", error="")
    job.params = {"stop": [f"{MARK}`{vector[:80]}`{MARK}"], "temperature": 0.5}
    job.save()
    thread = services.post_to_forum(user=user, job=job, category=category, title="Look")
    job.refresh_from_db()
    html = thread.posts.first().body_html
    assert dangerous_parts(html) == [], html
    parsed = _Outside()
    parsed.feed(html)
    assert MARK not in "".join(parsed.text), html  # run text is only ever quoted (or code)
    assert parsed.headings == ["Prompt", "Output"], html
    assert parsed.links == [job.resource.get_absolute_url(), job.get_share_url()], html
    assert "temperature=0.5" in html
