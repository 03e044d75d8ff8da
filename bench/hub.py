"""Hub at scale: list, filter and search endpoints over many resources on PostgreSQL.

Usage: python bench/hub.py [--resources 100000]   (writes bench/results/hub.md)
"""
from __future__ import annotations

import argparse
import random
import time

from common import ROOT, fill_search_vectors, setup_django, table, timed

TASKS = ["text-generation", "translation", "summarization", "fill-mask", "question-answering", "feature-extraction"]
LICENSES = ["apache-2.0", "mit", "cc-by-4.0", "llama3", "openrail"]
LIBRARIES = ["transformers", "gguf", "sentence-transformers", "peft"]
WORDS = ["chat", "instruct", "code", "中文", "多语言", "tiny", "base", "vision", "math", "medical"]


def generate(count: int) -> None:
    from django.db import connection, transaction

    from community.models import Tag
    from core.models import SearchDocument
    from core.search import segment
    from models_hub.models import Resource

    if Resource.objects.count() >= count:
        return
    rng = random.Random(1)
    tags = [Tag.objects.get_or_create(name=f"tag{i}")[0] for i in range(30)]
    started = time.perf_counter()
    for first in range(Resource.objects.count(), count, 5000):
        with transaction.atomic():
            resources = [Resource(kind=rng.choice(["model"] * 6 + ["dataset", "paper", "tool", "tutorial"]),
                                  owner=f"org{i % 700}", name=f"res-{i}", repo_id=f"org{i % 700}/res-{i}",
                                  title=f"{rng.choice(WORDS)} {rng.choice(WORDS)} model {i}",
                                  summary=f"A {rng.choice(WORDS)} resource for {rng.choice(TASKS)}.",
                                  task=rng.choice(TASKS), license=rng.choice(LICENSES), library=rng.choice(LIBRARIES),
                                  likes=rng.randint(0, 5000))
                         for i in range(first, min(first + 5000, count))]
            Resource.objects.bulk_create(resources)
            Through = Resource.tags.through
            Through.objects.bulk_create([Through(resource_id=r.pk, tag_id=rng.choice(tags).pk) for r in resources])
            SearchDocument.objects.bulk_create([
                SearchDocument(kind="resource", object_id=r.pk, title=f"{r.repo_id} {r.title}", body=r.summary,
                               url=f"/hub/{r.kind}/{r.owner}/{r.name}/", segmented=segment(f"{r.title} {r.summary}"))
                for r in resources])
            fill_search_vectors()
        print(f"  {min(first + 5000, count):,} resources, {time.perf_counter() - started:.0f}s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    setup_django("llmcommunity_bench_hub")
    from django.test import Client
    from django.test.utils import setup_test_environment

    from models_hub.models import Resource

    generate(args.resources)
    setup_test_environment()
    client = Client()
    cases = [
        ("list, most liked", "/api/v1/resources/?ordering=-likes"),
        ("list, newest", "/api/v1/resources/?ordering=-created"),
        ("filter kind+task+license", "/api/v1/resources/?kind=model&task=translation&license=mit"),
        ("filter tag", "/api/v1/resources/?tag=tag7"),
        ("search 'instruct'", "/api/v1/resources/?q=instruct"),
        ("search '多语言'", "/api/v1/resources/?q=多语言"),
        ("hub page, facets cached (warm)", "/hub/?kind=model"),
    ]
    rows = [(label, *timed(lambda: client.get(url), args.repeat), url) for label, url in cases]
    from django.core.cache import cache

    def cold():
        cache.clear()
        client.get("/hub/?kind=model")

    rows.append(("hub page, facets computed (cold)", *timed(cold, max(5, args.repeat // 3)),
                 "/hub/?kind=model, 5 GROUP BYs over the filtered rows"))
    report = f"""# Hub benchmark

PostgreSQL, {Resource.objects.count():,} resources; each API call returns a page of 20 with its total count;
the hub page also computes facet counts. {args.repeat} samples per row, in-process (no network).

{table(rows)}

Command: `python bench/hub.py --resources {args.resources}` ({time.strftime('%Y-%m-%d')}).
"""
    (ROOT / "bench" / "results" / "hub.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
