"""Forum at scale: thread page, category list and search (Chinese and English) on PostgreSQL.

Search is compared with an `icontains` scan over the same posts, in the same run.
Usage: python bench/forum.py [--posts 1000000]   (writes bench/results/forum.md)

The pages are timed as production serves them, whatever DJANGO_DEBUG the caller set: the script
runs with production settings (bench/common.py's `production_settings`: DEBUG off, so Django's
cached template loader, manifest static files after a `collectstatic`, no query log) and
Django's test Client without `setup_test_environment()`, whose template instrumentation copies
every template's context. Each page row starts after a few untimed requests, as a server
process has imported and compiled everything once before it serves traffic, and every timed
response must be a 200.
"""
from __future__ import annotations

import argparse
import os
import random
import time

from common import ROOT, fill_search_vectors, production_settings, setup_django, table, timed

ZH = ["大语言模型", "海量文本", "数据偏见", "微调", "推理", "量化", "注意力机制", "分词", "评估", "对齐", "提示词", "检索增强"]
EN = ["transformer", "tokenizer", "quantization", "batching", "attention", "finetuning", "evaluation", "alignment",
      "retrieval", "embedding", "perplexity", "inference"]
FILLER_ZH = "我们在实验中发现模型的表现取决于训练数据和超参数的选择。"
FILLER_EN = "In our experiments the results depend on the training data and the chosen hyperparameters."
WARMUP = 5  # untimed requests before a page row: imports, URL patterns, compiled templates


def body(rng: random.Random, i: int) -> str:
    words = rng.sample(ZH, 2) + rng.sample(EN, 2)
    rare = f"marker{i % 5000}"  # each marker in 1 of 5000 posts: a selective English query
    return f"{FILLER_ZH}{words[0]}和{words[1]}。 {FILLER_EN} {words[2]} {words[3]} {rare}."


def generate(posts: int, per_thread: int = 25) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from community.models import Category, Post, Thread, User
    from core.models import SearchDocument
    from core.search import segment

    if Post.objects.count() >= posts:
        return
    rng = random.Random(42)
    authors = [User.objects.get_or_create(username=f"bench{i}")[0] for i in range(50)]
    categories = [Category.objects.get_or_create(slug=f"bench-{i}", defaults={"name": f"Bench {i}"})[0] for i in range(8)]
    threads_needed = posts // per_thread
    started = time.perf_counter()
    batch = 400
    for first in range(Thread.objects.count(), threads_needed, batch):
        with transaction.atomic():
            now = timezone.now()
            threads = Thread.objects.bulk_create([
                Thread(category=categories[i % 8], author=authors[i % 50], title=f"{ZH[i % 12]} and {EN[i % 12]} #{i}",
                       slug=f"t{i}", reply_count=per_thread - 1, highest_position=per_thread,
                       created_at=now, last_activity_at=now)
                for i in range(first, min(first + batch, threads_needed))])
            rows, docs = [], []
            for thread in threads:
                for position in range(1, per_thread + 1):
                    text = body(rng, thread.pk * per_thread + position)
                    rows.append(Post(thread=thread, author=authors[position % 50], position=position, body=text,
                                     body_html=f"<p>{text}</p>", created_at=now))
            Post.objects.bulk_create(rows, batch_size=5000)
            for post in rows:
                docs.append(SearchDocument(kind="post", object_id=post.pk, title=post.thread.title, body=post.body,
                                           url=f"/forum/t/{post.thread_id}/", segmented=segment(post.body)))
            SearchDocument.objects.bulk_create(docs, batch_size=5000)
            fill_search_vectors()
        done = (first + batch) * per_thread
        print(f"  {min(done, posts):,} posts, {time.perf_counter() - started:.0f}s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE community_category c SET thread_count = "
                       "(SELECT count(*) FROM community_thread t WHERE t.category_id = c.id)")
        cursor.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    os.environ.update(production_settings("testserver"))
    setup_django("llmcommunity_bench_forum")
    from django.core.management import call_command
    from django.test import Client

    from community.models import Category, Post, Thread
    from core import search

    generate(args.posts)
    call_command("collectstatic", interactive=False, verbosity=0)  # the manifest {% static %} reads
    client = Client()

    def page(path: str) -> None:
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")

    rng = random.Random(7)
    thread_ids = list(Thread.objects.values_list("pk", flat=True)[:5000])
    slugs = list(Category.objects.filter(slug__startswith="bench-").values_list("slug", flat=True))
    total = Post.objects.count()
    rows = [
        ("thread page (25 posts)", *timed(lambda: page(f"/forum/t/{rng.choice(thread_ids)}/x/"), args.repeat, WARMUP),
         "HTML, all queries"),
        ("category list page", *timed(lambda: page(f"/forum/c/{rng.choice(slugs)}/"), args.repeat, WARMUP), ""),
    ]
    speedups = []
    for label, query in [("search 大语言模型 (zh, common)", "大语言模型"), ("search 数据偏见 (zh)", "数据偏见"),
                         ("search quantization (en, common)", "quantization"), ("search marker1234 (en, rare)", "marker1234")]:
        fts = timed(lambda: search.search(query, limit=20), args.repeat)
        scan = timed(lambda: list(Post.objects.filter(body__icontains=query).order_by("-id")
                                  .values_list("id", flat=True)[:20]) and Post.objects.filter(body__icontains=query).count(),
                     max(5, args.repeat // 8))
        speedups.append(scan[1] / fts[1])
        rows.append((label, *fts, f"icontains scan p50 {scan[0]:.0f} / p95 {scan[1]:.0f} ms → {scan[1]/fts[1]:.1f}× faster at p95"))
    report = f"""# Forum benchmark

PostgreSQL, {total:,} posts in {Thread.objects.count():,} threads; each search returns the top 20 with a total count,
against an `icontains` scan doing the same (top 20 + count) in the same run. {args.repeat} samples per row.
Pages run with production settings (DEBUG off: cached templates, manifest static files), through Django's
test Client without its template instrumentation, after {WARMUP} untimed requests each.

{table(rows)}

Command: `python bench/forum.py --posts {args.posts}` ({time.strftime('%Y-%m-%d')}).
"""
    (ROOT / "bench" / "results" / "forum.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
