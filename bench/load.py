"""Load test: a mixed crowd (bench/locustfile.py) against uvicorn + a Celery worker in server mode
(PostgreSQL, Redis) with production settings, on this machine, loopback only, bounded in time.

Usage: python bench/load.py [--users 40] [--seconds 90] [--web-workers 2]
Needs Locust in its own virtualenv (.venv-load; `make bench` makes it). Writes bench/results/load.md.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import requests
from common import ROOT, production_settings, setup_django

LOCUST = ROOT / ".venv-load" / "bin" / "locust"
DATABASE = "llmcommunity_bench_load"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")


def production_env(database_url: str) -> dict:
    return {**os.environ, **production_settings("127.0.0.1"),
            "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "PYTHONUNBUFFERED": "1"}


def prepare(members: int) -> dict:
    """Demo data, the members the crowd writes as (older than a day, so the first-day limits do
    not apply) and their API keys; ids the crowd picks from."""
    from django.core.management import call_command
    from django.utils import timezone

    from community.models import Thread, User
    from core.services import create_token
    from models_hub.models import Resource
    from playground.queues import queues

    call_command("seed_demo", verbosity=0)
    accounts = []
    for n in range(members):
        user, _ = User.objects.get_or_create(username=f"load{n}", defaults={"email": f"load{n}@example.com"})
        User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - timedelta(days=30))
        accounts.append({"username": user.username, "token": create_token(user=user, name="load")[1]})
    resources = list(Resource.objects.order_by("pk")[:20])
    return {"members": accounts,
            "threads": list(Thread.objects.filter(is_hidden=False).values_list("pk", flat=True)[:200]),
            "resources": [r.get_absolute_url() for r in resources], "resource_ids": [r.pk for r in resources],
            # Jobs go to their runtime's own queue: the worker takes those of the built-in engine.
            "queues": queues(backend="embedded") + ["default"]}


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def wait_until_up(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up")


def report(stats_csv: Path, failures_csv: Path, args, seconds: float) -> str:
    rows = list(csv.DictReader(stats_csv.open()))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    failures = list(csv.DictReader(failures_csv.open())) if failures_csv.exists() else []
    server_errors = sum(int(f["Occurrences"]) for f in failures if " 5" in f["Error"] or "50" in f["Error"][:30])
    lines = ["| request | count | failures | req/s | p50 ms | p95 ms | p99 ms |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in sorted(rows, key=lambda r: (r["Name"] == "Aggregated", r["Name"])):
        lines.append(f"| {r['Type']} {r['Name']} | {r['Request Count']} | {r['Failure Count']} | "
                     f"{float(r['Requests/s']):.1f} | {r['50%']} | {r['95%']} | {r['99%']} |")
    failure_lines = "\n".join(f"- {f['Method']} {f['Name']}: {f['Error']} ×{f['Occurrences']}" for f in failures)
    return f"""# Load test

A mixed crowd of {args.users} simulated users (readers 8 : writers 2 : playground players 1) for
{seconds:.0f} s against uvicorn ({args.web_workers} workers) and one Celery worker (threads, concurrency 8) in
server mode with production settings (DJANGO_DEBUG=0; PostgreSQL, Redis), all on this 2-core machine
together with Locust itself. Readers browse, search and read threads; writers reply and like through
the API with their own keys; players submit 8-token playground jobs and read each stream to its end.

**{float(total['Requests/s']):.1f} requests/s; {total['Request Count']} requests, {total['Failure Count']} failures, {server_errors} server errors (5xx).**

{chr(10).join(lines)}

{('Failures:' + chr(10) + failure_lines) if failures else 'No failures.'}

Command: `python bench/load.py --users {args.users} --seconds {args.seconds} --web-workers {args.web_workers}` ({time.strftime('%Y-%m-%d')}).
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--seconds", type=int, default=90)
    parser.add_argument("--web-workers", type=int, default=2)
    args = parser.parse_args()
    if not LOCUST.exists():
        sys.exit(f"Locust is not installed at {LOCUST}: run `make bench` (it creates .venv-load).")
    setup_django(DATABASE)
    from django.db import connection

    from tests.live import free_port

    accounts = prepare(members=args.users)
    database_url = os.environ["DATABASE_URL"]
    connection.close()
    env = production_env(database_url)
    workdir = Path(tempfile.mkdtemp(prefix="load-"))
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    port = free_port()
    web = start([sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
                 "--workers", str(args.web_workers), "--log-level", "warning"], env, workdir / "web.log")
    worker = start([sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", ",".join(accounts["queues"]), "--pool",
                    "threads", "--concurrency", "8", "--loglevel", "WARNING"], env, workdir / "worker.log")
    try:
        wait_until_up(f"http://127.0.0.1:{port}/api/v1/categories/")
        (workdir / "accounts.json").write_text(json.dumps(accounts))
        started = time.monotonic()
        subprocess.run([str(LOCUST), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "-u", str(args.users),
                        "-r", str(max(1, args.users // 10)), "-t", f"{args.seconds}s", "--host", f"http://127.0.0.1:{port}",
                        "--csv", str(workdir / "run"), "--only-summary", "--stop-timeout", "15",
                        "--exit-code-on-error", "0"],
                       cwd=ROOT, env={**os.environ, "LOAD_ACCOUNTS": str(workdir / "accounts.json")},
                       check=True, timeout=args.seconds + 120)
        seconds = time.monotonic() - started
    finally:
        stop(web)
        stop(worker)
    text = report(workdir / "run_stats.csv", workdir / "run_failures.csv", args, seconds)
    (ROOT / "bench" / "results" / "load.md").write_text(text)
    print(text)
    print(f"logs: {workdir}")


if __name__ == "__main__":
    main()
