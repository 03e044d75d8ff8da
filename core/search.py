"""Full-text search shared by the forum and the hub.

PostgreSQL: a weighted tsvector (title A, tags B, body C) over jieba-segmented text, a GIN index
and ts_rank over the newest 1,000 matches. Chinese has no spaces, so both the indexed text and the query are segmented; Latin
words go through the `english` configuration and are stemmed as usual. SQLite: a substring scan.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db.models import F, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import SearchDocument

Kind = SearchDocument.Kind

CONFIG = "english"
CANDIDATES = 1000
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_TOKEN = re.compile(r"[\w\u3400-\u9fff]+", re.UNICODE)


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    return jieba


def segment(text: str) -> str:
    """Space-separated words: jieba's search mode for CJK runs, Latin text left as it is."""
    if not _CJK.search(text):
        return text
    jieba = _jieba()
    return " ".join(word for word in jieba.cut_for_search(text) if word.strip())


def query_terms(query: str) -> list[str]:
    """The words of a query: jieba's precise mode for CJK, so a compound stays one term."""
    terms: list[str] = []
    for token in _TOKEN.findall(query):
        if _CJK.search(token):
            terms.extend(w for w in _jieba().cut(token) if w.strip())
        else:
            terms.append(token)
    return terms


@dataclass(frozen=True)
class Hit:
    type: str
    id: int
    title: str
    snippet: str
    url: str
    rank: float
    title_html: str = ""  # the title, HTML-escaped, with the matches in <mark>

    @property
    def type_label(self) -> str:
        return Kind(self.type).label


@dataclass(frozen=True)
class Filters:
    """What narrows a search besides its words: who wrote it, when (`after` the start of that day
    on, `before` the start of that day), and whatever an app adds as `within` (a forum category).
    With a filter, a search needs no words: it lists what matches, newest first."""

    author_id: int | None = None
    after: date | None = None
    before: date | None = None
    within: Q | None = None
    newest_first: bool = False

    @property
    def narrows(self) -> bool:
        return any(v is not None for v in (self.author_id, self.after, self.before, self.within))

    def apply(self, docs: QuerySet[SearchDocument]) -> QuerySet[SearchDocument]:
        if self.author_id is not None:
            docs = docs.filter(author_id=self.author_id)
        if self.after is not None:
            docs = docs.filter(created_at__gte=_day_start(self.after))
        if self.before is not None:
            docs = docs.filter(created_at__lt=_day_start(self.before))
        if self.within is not None:
            docs = docs.filter(self.within)
        return docs


NO_FILTERS = Filters()


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def index(*, kind: Kind, object_id: int, title: str, tags: list[str], body: str, url: str,
          is_public: bool = True, author_id: int | None = None, created_at: datetime | None = None) -> None:
    """Create or refresh the search document of one object."""
    tags_text = " ".join(tags)
    segmented_title, segmented_tags, segmented_body = segment(title), segment(tags_text), segment(body)
    doc, _ = SearchDocument.objects.update_or_create(
        kind=kind,
        object_id=object_id,
        defaults={
            "title": title[:300],
            "tags": tags_text,
            "body": body,
            "url": url,
            "is_public": is_public,
            "author_id": author_id,
            "created_at": created_at,
            "segmented": f"{segmented_title} {segmented_tags} {segmented_body}",
        },
    )
    if settings.USING_POSTGRES:
        SearchDocument.objects.filter(pk=doc.pk).update(
            vector=SearchVector(Value(segmented_title), weight="A", config=CONFIG)
            + SearchVector(Value(segmented_tags), weight="B", config=CONFIG)
            + SearchVector(Value(segmented_body), weight="C", config=CONFIG)
        )


def retitle(*, kind: Kind, object_ids, title: str, url=None) -> None:
    """A new title for documents that show another object's (a reply shows its thread's): their
    title, its words in the vector and, given as an expression, their `url` change; their own
    words (tags, body) stay as indexed. One UPDATE, however many documents."""
    changes: dict = {"title": title[:300]}
    if url is not None:
        changes["url"] = url
    if settings.USING_POSTGRES:
        # The title's words are the vector's weight-A lexemes: swap those, keep B (tags) and C (body).
        changes["vector"] = RawSQL("setweight(to_tsvector(%s::regconfig, %s), 'A') || ts_filter(vector, '{b,c}')",
                                   (CONFIG, segment(title)))
    SearchDocument.objects.filter(kind=kind, object_id__in=object_ids).update(**changes)


def set_visibility(*, kind: Kind, object_ids: list[int], is_public: bool) -> None:
    SearchDocument.objects.filter(kind=kind, object_id__in=object_ids).update(is_public=is_public)


def remove(*, kind: Kind, object_ids: list[int]) -> None:
    SearchDocument.objects.filter(kind=kind, object_id__in=object_ids).delete()


def query_too_long(query: str) -> str | None:
    """Why a query is refused before it reaches the index (over SEARCH_MAX_QUERY_LENGTH
    characters: every word of it is segmented and searched), else None."""
    if len(query) > settings.SEARCH_MAX_QUERY_LENGTH:
        return _("Search for at most %(n)d characters.") % {"n": settings.SEARCH_MAX_QUERY_LENGTH}
    return None


# The index's order (search_document_newest), so that PostgreSQL reads it instead of sorting.
# Every document a filter lets through has a date: author and date filters need one, and a
# category's threads and replies all have theirs.
NEWEST = ("-created_at", "-id")


def matching(query: str, *, kinds: list[Kind] | None = None,
             filters: Filters = NO_FILTERS) -> QuerySet[SearchDocument]:
    """Public documents matching every term of the query and the filters, best (or newest) first.
    No terms: nothing, unless a filter narrows the search, then every document it lets through."""
    terms = query_terms(query)
    docs = filters.apply(SearchDocument.objects.filter(is_public=True))
    if kinds:
        docs = docs.filter(kind__in=kinds)
    if not terms:
        if not filters.narrows:
            return docs.none()
        # As for words: the newest CANDIDATES only, so that a filter that lets everything through
        # (after:1970) costs no sort or count of the whole index.
        newest = docs.order_by(*NEWEST).values("id")[:CANDIDATES]
        return SearchDocument.objects.filter(id__in=newest).annotate(rank=Value(0.0)).order_by(*NEWEST)
    if settings.USING_POSTGRES:
        search_query = SearchQuery(" ".join(terms), search_type="plain", config=CONFIG)
        # Ranking every match of a common word means reading tens of thousands of vectors; rank
        # the newest CANDIDATES matches instead (counts then top out at that number).
        newest = docs.filter(vector=search_query).order_by("-id").values("id")[:CANDIDATES]
        ranked = SearchDocument.objects.filter(id__in=newest).annotate(rank=SearchRank(F("vector"), search_query))
        return ranked.order_by(*NEWEST) if filters.newest_first else ranked.order_by("-rank", "-id")
    condition = Q()
    for term in terms:
        condition &= Q(title__icontains=term) | Q(tags__icontains=term) | Q(body__icontains=term)
    return docs.filter(condition).annotate(rank=Value(1.0)).order_by(*NEWEST)


def _terms(query: str) -> list[str]:
    return sorted({t for t in query_terms(query) if t.strip()}, key=len, reverse=True)


def _marked(text: str, terms: list[str]) -> str:
    """`text` HTML-escaped, each of `terms` in it wrapped in <mark> (matched in the text itself, so
    a search for "amp" never marks inside an escaped "&amp;")."""
    if not terms:
        return html.escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    pieces, end = [], 0
    for match in pattern.finditer(text):
        pieces += [html.escape(text[end:match.start()]), f"<mark>{html.escape(match.group(0))}</mark>"]
        end = match.end()
    pieces.append(html.escape(text[end:]))
    return "".join(pieces).replace("</mark><mark>", "")


def snippet(text: str, query: str, *, width: int = 160) -> str:
    """HTML-escaped excerpt around the first match, each matching term wrapped in <mark>."""
    return _excerpt(text, _terms(query), width)


def _excerpt(text: str, terms: list[str], width: int = 160) -> str:
    lowered = text.lower()
    positions = [lowered.find(t.lower()) for t in terms if lowered.find(t.lower()) >= 0]
    start = max(0, min(positions) - width // 3) if positions else 0
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(text) else ""
    return f"{prefix}{_marked(text[start : start + width], terms)}{suffix}"


def to_hit(doc: SearchDocument, query: str) -> Hit:
    """A ranked document (from `matching`) as a result with a highlighted title and snippet."""
    terms = _terms(query)  # the query's words, segmented once for both
    return Hit(type=doc.kind, id=doc.object_id, title=doc.title, snippet=_excerpt(doc.body or doc.title, terms),
               url=doc.url, rank=float(doc.rank), title_html=_marked(doc.title, terms))


def search(query: str, *, kinds: list[Kind] | None = None, limit: int = 20,
           offset: int = 0) -> tuple[int, list[Hit]]:
    docs = matching(query, kinds=kinds)
    total = docs.count()
    return total, [to_hit(d, query) for d in docs[offset : offset + limit]]
