"""A mixed crowd for the load test (run by bench/load.py in its own virtualenv: Locust patches
the standard library with gevent, so it never shares a process with Django).

Readers browse, search and read threads; writers reply and like with API keys; players submit
small playground jobs and read them to the end. Each writer and player is a member of its own
(the accounts and keys come from LOAD_ACCOUNTS), and keeps under the forum's rate limits.
"""
from __future__ import annotations

import itertools
import json
import os
import random

from locust import HttpUser, between, task

ACCOUNTS = json.loads(open(os.environ["LOAD_ACCOUNTS"]).read())
_next_account = itertools.count()
QUERIES = ["大语言模型", "数据偏见", "batching", "LoRA", "评估", "transformer"]
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


def _account() -> dict:
    return ACCOUNTS["members"][next(_next_account) % len(ACCOUNTS["members"])]


class Reader(HttpUser):
    weight = 8
    wait_time = between(0.5, 2)

    @task(3)
    def home(self):
        self.client.get("/", name="home")

    @task(3)
    def forum(self):
        self.client.get("/forum/", name="forum index")

    @task(6)
    def thread(self):
        self.client.get(f"/forum/t/{random.choice(ACCOUNTS['threads'])}/", name="thread page")

    @task(2)
    def hub(self):
        self.client.get("/hub/", name="hub index")

    @task(2)
    def resource(self):
        self.client.get(random.choice(ACCOUNTS["resources"]), name="resource page")

    @task(2)
    def search(self):
        self.client.get("/forum/search/", params={"q": random.choice(QUERIES)}, name="search page")

    @task(2)
    def api_threads(self):
        self.client.get("/api/v1/threads/", name="GET /api/v1/threads/")


class Writer(HttpUser):
    weight = 2
    wait_time = between(7, 10)  # above the forum's 5 s between replies

    def on_start(self):
        self.account = _account()
        self.client.headers["Authorization"] = f"Token {self.account['token']}"

    @task(3)
    def reply(self):
        thread = random.choice(ACCOUNTS["threads"])
        self.client.post(f"/api/v1/threads/{thread}/posts/", json={"body": "Load test reply: 同意，batching helps."},
                         name="POST reply")

    @task(2)
    def like(self):
        resource = random.choice(ACCOUNTS["resource_ids"])
        self.client.post(f"/api/v1/resources/{resource}/like/", name="POST like")
        self.client.delete(f"/api/v1/resources/{resource}/like/", name="DELETE like")


class Player(HttpUser):
    weight = 1
    wait_time = between(5, 10)

    def on_start(self):
        self.account = _account()
        self.client.headers["Authorization"] = f"Token {self.account['token']}"

    @task
    def small_job(self):
        response = self.client.post("/api/v1/playground/jobs/", name="POST job", json={
            "model": MODEL, "mode": "chat", "messages": [{"role": "user", "content": "Say hello."}],
            "params": {"max_new_tokens": 8, "temperature": 0}})
        if response.status_code != 202:
            return
        job = response.json()["id"]
        with self.client.get(f"/api/v1/playground/jobs/{job}/stream/", name="job stream", stream=True,
                             catch_response=True) as stream:
            text = "".join(chunk.decode(errors="replace") for chunk in stream.iter_content(None))
            if "event: done" not in text:
                stream.failure("the stream ended without a done event")
