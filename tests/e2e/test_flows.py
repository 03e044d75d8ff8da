"""The main flows as a person does them, in Debian's Chromium."""
import json
import re

import pytest
from playwright.sync_api import expect

from community.models import Category, Thread, User
from models_hub.models import Resource
from playground.models import GenerationJob
from tests.factories import ResourceFactory, make_thread, runnable_model
from tests.live import ARENA_TWIN_REPO_ID

from .conftest import shot, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(db):
    Category.objects.create(slug="questions", name="Q&A", name_zh="问答")
    return runnable_model()


# Whether an answer ever showed text while it was still streaming: recorded by the page itself, as
# a short answer may be done before a poll from the test would see it half-way.
WATCH_FOR_TEXT_WHILE_STREAMING = """() => {
  window.streamedWhileRunning = false;
  new MutationObserver(() => {
    const streaming = document.querySelectorAll("#conversation .turn.assistant.streaming .text");
    if ([...streaming].some((text) => text.textContent)) window.streamedWhileRunning = true;
  }).observe(document.getElementById("conversation"), { subtree: true, childList: true, characterData: true });
}"""


def test_sign_up_and_switch_to_chinese(new_page, site):
    page = new_page()
    sign_up(page, "meilin")
    page.select_option("#language", "zh-hans")
    page.wait_for_load_state()
    nav = page.locator("nav.mainnav")
    expect(nav).to_contain_text("论坛")
    expect(nav).to_contain_text("模型库")
    expect(nav).to_contain_text("在线体验")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.goto("/forum/")  # the choice sticks
    expect(page.locator("nav.mainnav")).to_contain_text("论坛")
    shot(page, "home-zh")


def test_slash_goes_to_the_search_box_unless_typed(new_page, site):
    page = new_page()
    page.goto("/forum/")
    page.keyboard.press("/")
    expect(page.locator("#site-search")).to_be_focused()
    page.keyboard.type("a/b")  # typed in a box, a slash is a slash
    expect(page.locator("#site-search")).to_have_value("a/b")


def test_question_reply_vote_accept_notification(new_page, site):
    asker = new_page()
    sign_up(asker, "asker")
    asker.goto("/forum/new/")
    asker.fill("#id_title", "How do I run SmolLM2 on a CPU?")
    asker.select_option("#id_category", label="Q&A")
    asker.select_option("#id_kind", "question")
    asker.fill("#id_tags", "cpu, smollm2")
    asker.fill("#id_body", "I have **two cores**. Is that enough?")
    asker.get_by_role("button", name="Create thread").click()
    expect(asker.locator("h1")).to_have_text("How do I run SmolLM2 on a CPU?")
    thread_url = asker.url

    helper = new_page()
    sign_up(helper, "helper")
    helper.goto(thread_url)
    helper.fill("#id_body", "Yes: it runs at about 20 tokens/s on two cores.")
    helper.get_by_role("button", name="Post reply").click()
    expect(helper.locator(".post").nth(1)).to_contain_text("20 tokens/s")

    asker.goto(thread_url)
    reply = asker.locator(".post").nth(1)
    reply.get_by_role("button", name="Upvote").click()
    expect(reply.locator(".score")).to_have_text("1")
    reply.get_by_role("button", name="Accept answer").click()
    expect(asker.locator(".post.accepted")).to_contain_text("20 tokens/s")
    shot(asker, "thread-accepted")

    helper.goto("/")
    expect(helper.locator("[data-testid=unread]")).to_have_text(re.compile(r"[1-9]"))
    helper.click(".bell")
    expect(helper.locator("main")).to_contain_text("accepted your answer")
    assert Thread.objects.get().accepted_post is not None


def test_quote_a_selection_copy_code_and_drafts_kept_until_sent_or_logged_out(new_page, site):
    thread = make_thread(category=Category.objects.get(), title="Drafts", body="Run:\n\n```python\nprint('hi')\n```")
    page = new_page()
    sign_up(page, "drafter")
    page.goto(thread.get_absolute_url())
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator(".post .prose").get_by_role("button", name="Copy").click()  # on the post's code block
    assert page.evaluate("navigator.clipboard.readText()").strip() == "print('hi')"
    page.evaluate("""() => {  // select the post's first paragraph, as a reader would
      const range = document.createRange();
      range.selectNodeContents(document.querySelector(".post .prose p"));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
    }""")
    page.locator(".post").first.get_by_role("button", name="Quote").click()
    expect(page.locator("#id_body")).to_have_value("> Run:\n\n")  # the selection, not the whole post
    page.fill("#id_body", "Half a thought about drafts")
    page.wait_for_timeout(600)  # the draft is kept a moment after the last key
    page.reload()
    expect(page.locator("#id_body")).to_have_value("Half a thought about drafts")
    expect(page.locator(".draft-note")).to_be_visible()
    Thread.objects.filter(pk=thread.pk).update(is_locked=True)  # locked meanwhile: refused
    page.locator("#id_body").press("Control+Enter")
    expect(page.locator("#kept-reply")).to_have_value("Half a thought about drafts")
    Thread.objects.filter(pk=thread.pk).update(is_locked=False)
    page.goto(thread.get_absolute_url())
    expect(page.locator("#id_body")).to_have_value("Half a thought about drafts")  # the draft stayed
    page.locator("#id_body").press("Control+Enter")
    expect(page.locator(".post").nth(1)).to_contain_text("Half a thought about drafts")
    page.goto(thread.get_absolute_url())
    expect(page.locator("#id_body")).to_have_value("")  # sent: the draft is gone

    # Logging out forgets every draft: the next person at this browser sees none.
    page.goto("/forum/new/")
    page.fill("#id_title", "A thought for later")
    page.wait_for_timeout(600)
    assert page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('draft:')).length") == 1
    page.locator(".usermenu summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    assert page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('draft:')).length") == 0


def test_browse_filter_open_like_and_submit_a_tutorial(new_page, site):
    ResourceFactory(kind="dataset", owner="rajpurkar", name="squad", task="question-answering")
    page = new_page()
    sign_up(page, "browser")
    page.goto("/hub/")
    page.locator(".facet a", has_text="Model").first.click()
    expect(page.locator(".rows")).to_contain_text("SmolLM2-135M-Instruct")
    expect(page.locator(".rows")).not_to_contain_text("squad")
    page.click("text=HuggingFaceTB/SmolLM2-135M-Instruct")
    expect(page.locator(".page-head h1")).to_have_text("HuggingFaceTB/SmolLM2-135M-Instruct")
    page.locator("#like-form button").click()
    expect(page.locator("[data-testid=likes]")).to_have_text("1")
    shot(page, "model-page")
    page.goto("/hub/new/")
    page.select_option("#id_kind", "tutorial")
    page.fill("#id_name", "first-steps")
    page.fill("#id_title", "First steps")
    page.fill("#id_card", "---\ntags: [beginner]\n---\n# First steps\n\nInstall **transformers**.")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".page-head h1")).to_have_text("browser/first-steps")
    expect(page.locator(".prose")).to_contain_text("Install transformers")
    assert Resource.objects.get(name="first-steps").tags.filter(name="beginner").exists()


def test_playground_stream_stop_share_and_post(new_page, site, browser, live_stack):
    page = new_page()
    sign_up(page, "tinker")
    page.goto("/hub/model/HuggingFaceTB/SmolLM2-135M-Instruct/")
    page.click("text=Try in playground")
    expect(page.locator("#pg-model")).to_have_value("HuggingFaceTB/SmolLM2-135M-Instruct")

    # A chat message: text appears while the job is still running.
    page.fill("#pg-max_new_tokens", "60")
    page.fill("#pg-input", "Write two sentences about the sea.")
    expect(page.locator("#pg-stop-run")).to_be_hidden()  # Stop replaces Send only while running
    page.evaluate(WATCH_FOR_TEXT_WHILE_STREAMING)
    page.click("#pg-send")
    answer = page.locator(".turn.assistant").last
    expect(answer.locator(".metrics")).to_be_visible(timeout=90_000)
    assert page.evaluate("window.streamedWhileRunning")
    expect(answer.locator(".metrics")).to_contain_text("tokens/s")
    copy_target = answer.get_by_role("button", name="Copy").get_attribute("data-copy")
    assert answer.locator(f"#{copy_target}").inner_text() == answer.locator(".text").inner_text()
    shot(page, "playground-chat")

    # Ask the same again: the pair is replaced, not added to; a double click asks once. The old
    # pair stays until the new run is accepted, so wait for it to go before counting.
    first_answer = answer.locator(".text").get_attribute("id")
    answer.get_by_role("button", name="Regenerate").dblclick()
    expect(page.locator(f"#{first_answer}")).to_have_count(0)
    expect(page.locator(".turn.assistant")).to_have_count(1)
    expect(page.locator(".turn.assistant .metrics")).to_be_visible(timeout=90_000)
    expect(page.locator(".turn.user")).to_have_count(1)
    assert GenerationJob.objects.count() == 2

    # Stop a long run.
    page.fill("#pg-max_new_tokens", "600")
    page.fill("#pg-input", "Write a very long story about a lighthouse.")
    page.click("#pg-send")
    expect(page.locator("#pg-stop-run")).to_be_visible()
    expect(page.locator("#pg-send")).to_be_hidden()
    expect(page.locator("#pg-model")).to_be_disabled()  # the conversation stays while it runs
    expect(page.locator("#pg-clear")).to_be_disabled()
    expect(page.locator(".turn.assistant").last.locator(".text")).not_to_have_text("", timeout=60_000)
    page.click("#pg-stop-run")
    expect(page.locator(".turn.assistant").last.locator(".metrics")).to_contain_text("stopped", timeout=30_000)
    expect(page.locator("#pg-send")).to_be_visible()
    expect(page.locator("#pg-model")).to_be_enabled()
    assert GenerationJob.objects.filter(status="cancelled").count() == 1

    # Edit the first question: it and everything after it are replaced, and the model is asked
    # the edited question alone.
    page.fill("#pg-max_new_tokens", "20")
    page.locator(".turn.user").first.get_by_role("button", name="Edit").click()
    page.get_by_role("textbox", name="Edit").fill("Name one colour.")
    page.locator(".turn.user .editor").get_by_role("button", name="Send").click()
    expect(page.locator(".turn.user")).to_have_count(1)
    expect(page.locator(".turn.assistant .metrics")).to_be_visible(timeout=90_000)
    expect(page.locator(".turn.user .text")).to_have_text("Name one colour.")
    edited = GenerationJob.objects.latest("id")
    assert [m["content"] for m in edited.messages] == ["Name one colour."]

    # Share the first run and open the link signed out, then post it to the forum.
    first = GenerationJob.objects.filter(status="succeeded").order_by("id").first()
    page.goto(f"/playground/runs/{first.pk}/")
    page.get_by_role("button", name="Make public").click()
    share_url = page.locator("[data-testid=share-url]").inner_text()
    assert "/playground/s/" in share_url and f"/runs/{first.pk}/" not in share_url  # a token, not the id
    stranger = new_page()
    stranger.goto(share_url)
    expect(stranger.locator("[data-testid=run-output]")).to_have_attribute("data-source", first.output)
    page.select_option("#post-category", label="Q&A")
    page.click("button:has-text('Post to forum')")
    expect(page.locator("h1")).to_contain_text("Playground run with HuggingFaceTB/SmolLM2-135M-Instruct")
    expect(page.locator(".post").first).to_contain_text("Open the run")


def drop_the_stream_after_the_job(route):
    """The submit goes through; its stream ends right after the event that names the job."""
    body = json.loads(route.request.post_data)
    assert body.pop("stream") is True  # the page asks for the stream with the submit
    job = route.fetch(post_data=json.dumps(body)).json()  # the same submit, answered 202
    route.fulfill(status=200, content_type="text/event-stream", body=f"event: job\ndata: {json.dumps(job)}\n\n")


def test_playground_resumes_an_answer_whose_connection_dropped(new_page, site, live_stack):
    """The answer's stream comes with the submit; cut after the job was named, the page resumes
    it from the job's stream, and the whole answer shows once."""
    page = new_page()
    sign_up(page, "resumer")
    page.goto("/playground/?model=HuggingFaceTB/SmolLM2-135M-Instruct")
    page.route("**/api/v1/playground/jobs/", drop_the_stream_after_the_job)
    resumed = []
    page.on("request", lambda request: resumed.append(request.url) if "/stream/" in request.url else None)
    page.fill("#pg-max_new_tokens", "24")
    page.fill("#pg-input", "Name three colours.")
    page.click("#pg-send")
    answer = page.locator(".turn.assistant").last
    expect(answer.locator(".metrics")).to_be_visible(timeout=90_000)
    job = GenerationJob.objects.get(user__username="resumer")
    assert job.status == "succeeded"
    assert resumed[0].endswith(f"/api/v1/playground/jobs/{job.pk}/stream/?last_event_id=0")
    # Nothing twice, nothing lost: the answer is the job's own text (rendered from Markdown).
    expect(answer.locator(".text")).to_have_attribute("data-source", job.output)
    expect(page.locator("#pg-send")).to_be_visible()

    # "View code" shows the same one-request stream, as Python that runs (up to the request).
    page.fill("#pg-input", 'Is "null" true?')
    page.fill("#pg-top_k", "20")
    page.click("#pg-code")
    setup = page.locator("#code-requests").inner_text().split("with requests.post")[0]
    names: dict = {}
    exec(setup.replace("import requests", ""), names)
    assert names["body"]["stream"] is True and names["body"]["messages"][-1]["content"] == 'Is "null" true?'
    # The OpenAI SDK's snippet is Python too, and sends the settings OpenAI has no name for.
    openai_code = page.locator("#code-openai").inner_text()
    compile(openai_code, "snippet", "exec")
    assert '"top_k": 20' in openai_code.split("extra_body=")[1]


def ask_and_wait(page, text: str, *, max_new_tokens: int) -> None:
    """Ask in the playground and wait for this answer to end (counted: the answer before it has
    its figures already, and the new pair comes only once the run is accepted)."""
    answered = page.locator(".turn.assistant .metrics")
    before = answered.count()
    page.fill("#pg-max_new_tokens", str(max_new_tokens))
    page.fill("#pg-input", text)
    page.click("#pg-send")
    expect(answered).to_have_count(before + 1, timeout=90_000)


def test_playground_conversation_survives_a_reload_until_a_new_one_starts(new_page, site, live_stack):
    page = new_page()
    sign_up(page, "reloader")
    page.goto("/playground/?model=HuggingFaceTB/SmolLM2-135M-Instruct")
    page.fill("#pg-system", "Answer briefly.")
    ask_and_wait(page, "Name a colour.", max_new_tokens=6)
    job = GenerationJob.objects.get(user__username="reloader")

    page.reload()
    expect(page.locator(".turn.user .text")).to_have_text("Name a colour.")
    expect(page.locator(".turn.assistant .text")).to_have_attribute("data-source", job.output)
    expect(page.locator(".turn.assistant .text.prose")).to_have_count(1)  # still rendered after the reload
    expect(page.locator(".turn.assistant").get_by_role("button", name="Regenerate")).to_be_visible()
    expect(page.locator("#pg-system")).to_have_value("Answer briefly.")

    ask_and_wait(page, "And another?", max_new_tokens=6)  # the restored history goes with it
    follow_up = GenerationJob.objects.filter(user__username="reloader").latest("id")
    assert [m["role"] for m in follow_up.messages] == ["system", "user", "assistant", "user"]

    page.click("#pg-clear")
    page.reload()
    expect(page.locator(".turn")).to_have_count(0)


def test_a_saved_run_opens_in_the_playground_and_the_conversation_goes_on(new_page, site, live_stack):
    page = new_page()
    sign_up(page, "reopener")
    run = GenerationJob.objects.create(
        user=User.objects.get(username="reopener"), resource=site, mode="chat", status="succeeded", output="Blue.",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                  {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "A colour?"}],
        params={"temperature": 0.3, "seed": 7, "stop": ["\n\n", "a, b", "C:\\"]})
    page.goto(run.get_absolute_url())
    page.get_by_test_id("open-in-playground").click()
    expect(page.locator("#conversation .turn .text")).to_have_text(["Hi", "Hello!", "A colour?", "Blue."])
    expect(page.locator("#pg-system")).to_have_value("Be brief.")
    expect(page.locator("#pg-temperature")).to_have_value("0.3")
    expect(page.locator("#pg-seed")).to_have_value("7")
    expect(page.locator("#pg-stop")).to_have_value("\\n\\n\na, b\nC:\\\\")  # one per line, escaped
    assert "run=" not in page.url and "model=" in page.url
    shot(page, "playground-opened-run")

    ask_and_wait(page, "Another?", max_new_tokens=4)
    follow_up = GenerationJob.objects.exclude(pk=run.pk).get(user__username="reopener")
    assert [m["content"] for m in follow_up.messages] == ["Be brief.", "Hi", "Hello!", "A colour?", "Blue.",
                                                          "Another?"]
    assert follow_up.params["seed"] == 7 and follow_up.params["temperature"] == 0.3
    assert follow_up.params["stop"] == ["\n\n", "a, b", "C:\\"]
    page.reload()  # the tab keeps the conversation, not the run it was opened from
    expect(page.locator("#conversation .turn")).to_have_count(6)


def test_playground_another_model_takes_the_conversation_on(new_page, live_stack):
    runnable_model(), runnable_model(ARENA_TWIN_REPO_ID)
    page = new_page()
    sign_up(page, "switcher")
    page.goto("/playground/?model=HuggingFaceTB/SmolLM2-135M-Instruct")
    ask_and_wait(page, "Hello", max_new_tokens=4)
    page.select_option("#pg-model", ARENA_TWIN_REPO_ID)
    expect(page.locator(".turn")).to_have_count(2)  # kept, as in OpenAI's playground
    assert f"model={ARENA_TWIN_REPO_ID.replace('/', '%2F')}" in page.url
    page.reload()
    expect(page.locator("#pg-model")).to_have_value(ARENA_TWIN_REPO_ID)
    expect(page.locator(".turn")).to_have_count(2)


def test_playground_gives_up_resuming_after_five_failed_reconnects(new_page, site, live_stack):
    """A job's stream that keeps ending with nothing in it: the page stops trying, says so, and is
    free for the next question (the run goes on)."""
    page = new_page()
    sign_up(page, "unlucky")
    page.goto("/playground/?model=HuggingFaceTB/SmolLM2-135M-Instruct")
    page.route("**/api/v1/playground/jobs/", drop_the_stream_after_the_job)
    attempts = []

    def empty_stream(route):  # reconnect after 50 ms, not EventSource's default seconds
        attempts.append(route.request.url)
        route.fulfill(status=200, content_type="text/event-stream", body="retry: 50\n\n")

    page.route("**/stream/**", empty_stream)
    page.fill("#pg-max_new_tokens", "4")
    page.fill("#pg-input", "Hello")
    page.click("#pg-send")
    expect(page.locator("#pg-error")).to_contain_text("The run goes on")
    expect(page.locator("#pg-send")).to_be_visible()
    expect(page.locator("#pg-model")).to_be_enabled()
    assert len(attempts) == 5


def test_playground_on_a_phone_folds_its_parameters(new_page, site):
    """At phone width the message box is on the first screen; the folded parameters say what is
    in effect."""
    page = new_page(viewport={"width": 390, "height": 844})
    sign_up(page, "phoner")
    page.goto("/playground/")
    expect(page.locator("#pg-temperature")).to_be_hidden()
    expect(page.locator("#pg-input")).to_be_in_viewport()
    expect(page.locator("#pg-params-summary")).to_have_text("Temperature 0.7 · 256 tokens")  # the defaults
    page.click("#pg-params summary")
    page.fill("#pg-temperature", "1.3")
    expect(page.locator("#pg-params-summary")).to_have_text("Temperature 1.3 · 256 tokens")
    shot(page, "playground-phone")


def test_playground_on_a_phone_is_folded_before_its_script_runs(new_page, site):
    """The fold happens as the page is parsed, not when the deferred script runs: no flash."""
    page = new_page(viewport={"width": 390, "height": 844})
    sign_up(page, "slowphone")
    page.route("**/playground.js", lambda route: route.abort())
    page.goto("/playground/")
    expect(page.locator("#pg-temperature")).to_be_hidden()
    expect(page.locator("#pg-params-summary")).to_have_text("Temperature 0.7 · 256 tokens")


def test_publish_a_model_upload_files_and_browse_them(new_page, site, tmp_path):
    page = new_page()
    sign_up(page, "uploader")
    page.goto("/hub/new/?kind=model")
    page.fill("#id_name", "tiny")
    page.fill("#id_title", "Tiny")
    page.fill("#id_card", "# Tiny\n\nA tiny model.")
    page.click("button[type=submit].primary")
    page.wait_for_url("**/hub/model/uploader/tiny/")
    page.click("nav.tabs >> text=Files")
    expect(page.locator("table.files")).to_contain_text("README.md")
    (tmp_path / "config.json").write_text('{"hidden_size": 32}\n')
    (tmp_path / "notes.md").write_text("# Notes\n\n**bold**\n")
    page.click("text=Upload files")
    page.set_input_files("#files", [str(tmp_path / "config.json"), str(tmp_path / "notes.md")])
    page.fill("#title", "Add the config")
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/commit/[0-9a-f]{40}/$"))
    expect(page.locator("h2")).to_contain_text("Add the config")
    expect(page.locator("section.change")).to_have_count(2)
    page.click("text=Browse files")
    page.click("table.files >> text=config.json")
    expect(page.locator(".code-view .highlight")).to_contain_text("hidden_size")
    page.click("nav.tabs >> text=History")
    expect(page.locator("ol.commits li")).to_have_count(2)
    shot(page, "repo-history")


def test_pages_with_long_code_and_many_filters_fit_a_phone(new_page, site):
    """Code scrolls inside its own box, not the page; the hub's filters fold away above the list."""
    make_thread(title="A long line", body="```python\n" + "x = 1  # " + "a" * 200 + "\n```")
    page = new_page(viewport={"width": 390, "height": 844})
    for url in ("/hub/model/HuggingFaceTB/SmolLM2-135M-Instruct/", Thread.objects.get().get_absolute_url()):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
    page.goto("/hub/")
    expect(page.locator("#hub-filters")).not_to_have_attribute("open", "")
    expect(page.locator(".row").first).to_be_in_viewport()
