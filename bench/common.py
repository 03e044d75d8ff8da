"""Shared by the benchmarks: a separate PostgreSQL database, timing, Markdown tables."""
from __future__ import annotations

import os
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def production_settings(allowed_hosts: str) -> dict[str, str]:
    """The environment of a deployment, bar TLS (loopback has none): debug off, so the cached
    template loader, manifest static files and no query log; a throwaway secret key."""
    return {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": allowed_hosts, "DJANGO_SECURE_SSL_REDIRECT": "0"}


def setup_django(database: str) -> None:
    """Point Django at a benchmark database of its own (created if missing) and migrate it."""
    base = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/")
    os.environ["DATABASE_URL"] = base.rstrip("/") + "/" + database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import psycopg

    with psycopg.connect(base.rstrip("/") + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            conn.execute(f'CREATE DATABASE "{database}"')
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def timed(fn, repeat: int, warmup: int = 0) -> tuple[float, float]:
    """p50 and p95 in milliseconds, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def table(rows: list[tuple]) -> str:
    header = "| what | p50 ms | p95 ms | notes |\n| --- | ---: | ---: | --- |\n"
    return header + "\n".join(f"| {a} | {b:.1f} | {c:.1f} | {d} |" for a, b, c, d in rows)


def fill_search_vectors() -> None:
    """Build the weighted tsvector of bulk-inserted search documents (title A, tags B, the
    segmented text C), close to what core.search writes one document at a time."""
    from django.db import connection

    from core.models import SearchDocument

    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {SearchDocument._meta.db_table} SET vector = "
                       "setweight(to_tsvector('english', title), 'A') || "
                       "setweight(to_tsvector('english', tags), 'B') || "
                       "setweight(to_tsvector('english', segmented), 'C') WHERE vector IS NULL")
