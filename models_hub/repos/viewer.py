"""The dataset viewer: rows of CSV, JSON Lines and Parquet files as a table, with column names,
types and the row count; the first rows on a dataset's page, any page of them on its viewer page.
Pages are cached by content hash (they never change)."""
from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.core.cache import cache

from core import parquet
from core.exceptions import without_server_paths

from .models import Blob
from .storage import TooLarge, iter_bytes, local_file

PREVIEW_ROWS = 20
PAGE_ROWS = 100  # a page of the viewer, as the Hugging Face Hub shows them
MAX_PAGED_ROWS = 10_000  # each page is read from the file's start: the viewer pages this far
MAX_LINE_CHARS = 256 * 1024  # a text file's line longer than this is no row to show
MAX_COLUMNS = 100  # columns shown; a file with more (or JSON records with ever new keys) shows these
SCAN_MAX_BYTES = 64 * 1024 * 1024  # what one page may read of a text file before giving up
COUNT_MAX_BYTES = 64 * 1024 * 1024  # past this, a text file's row count is not computed
PARQUET_COPY_MAX_BYTES = 256 * 1024 * 1024  # object storage: Parquet files copied locally to read
CACHE_TTL_S = 7 * 24 * 3600
FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
MAX_CELL_CHARS = 300


@dataclass
class Preview:
    path: str
    format: str
    columns: list[tuple[str, str]] = field(default_factory=list)  # (name, type)
    rows: list[list[str]] = field(default_factory=list)
    total_rows: int | None = None
    error: str = ""


def format_of(path: str) -> str | None:
    lower = path.lower()
    return next((fmt for ext, fmt in FORMATS.items() if lower.endswith(ext)), None)


def _type_of(values: list) -> str:
    seen = {type(v).__name__ for v in values if v not in (None, "")}
    if not seen:
        return "null"
    if seen <= {"bool"}:
        return "bool"
    if seen <= {"int"}:
        return "int64"
    if seen <= {"int", "float"}:
        return "float64"
    if seen <= {"str"}:
        return "string"
    if seen <= {"list"}:
        return "list"
    if seen <= {"dict"}:
        return "struct"
    return "mixed"


def _guess(cell: str):
    for cast in (int, float):
        try:
            return cast(cell)
        except ValueError:
            pass
    return cell


def _cell(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS] + "…"


def _count_lines(blob: Blob) -> int | None:
    """The file's lines, counted once per content (every page of the viewer shows the count, and
    each page is a preview of its own)."""
    if blob.size > COUNT_MAX_BYTES:
        return None
    key = f"hub:viewer:lines:{blob.sha256}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    count, last = 0, b"\n"
    for chunk in iter_bytes(blob):
        count += chunk.count(b"\n")
        last = chunk[-1:]
    count += 1 if last != b"\n" else 0
    cache.set(key, count, CACHE_TTL_S)
    return count


def _lines(blob: Blob) -> Iterator[str]:
    """The file's lines, read as they stream (a character split between chunks is kept whole)."""
    decoder, pending, read = codecs.getincrementaldecoder("utf-8")(errors="replace"), "", 0
    for chunk in iter_bytes(blob):
        read += len(chunk)
        if read > SCAN_MAX_BYTES:
            raise ValueError(f"this page lies past the first {SCAN_MAX_BYTES // 2**20} MiB, which is as far as the "
                             "viewer reads; download the file")
        *complete, pending = (pending + decoder.decode(chunk)).split("\n")
        yield from (line.removesuffix("\r") for line in complete)
        if len(pending) > MAX_LINE_CHARS:  # no newline in sight: not a table, and memory is not to fill
            raise ValueError(f"a line longer than {MAX_LINE_CHARS} characters")
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending.removesuffix("\r")


def _csv(preview: Preview, blob: Blob, delimiter: str, offset: int, limit: int) -> None:
    reader = csv.reader(_lines(blob), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        return
    header = header[:MAX_COLUMNS]
    body = [row[:MAX_COLUMNS] for row in islice(reader, offset, offset + limit)]
    typed = [[_guess(c) for c in row] for row in body]
    preview.columns = [(name, _type_of([r[i] for r in typed if i < len(r)])) for i, name in enumerate(header)]
    preview.rows = [[_cell(c) for c in row] for row in body]
    lines = _count_lines(blob)
    preview.total_rows = lines - 1 if lines else None


def _jsonl(preview: Preview, blob: Blob, offset: int, limit: int) -> None:
    values = (json.loads(line) for line in _lines(blob) if line.strip())
    records = [value if isinstance(value, dict) else {"value": value}
               for value in islice(values, offset, offset + limit)]
    names = list(islice(dict.fromkeys(k for r in records for k in r), MAX_COLUMNS))
    preview.columns = [(n, _type_of([r.get(n) for r in records])) for n in names]
    preview.rows = [[_cell(r.get(n, "")) for n in names] for r in records]
    preview.total_rows = _count_lines(blob)


def _parquet(preview: Preview, blob: Blob, offset: int, limit: int) -> None:
    try:
        with local_file(blob, max_copy_bytes=PARQUET_COPY_MAX_BYTES) as path:
            table = parquet.read(path, max_columns=MAX_COLUMNS, offset=offset, limit=limit, cell_chars=MAX_CELL_CHARS)
    except TooLarge:
        preview.error = "too large to preview"
        return
    except parquet.ParquetError as exc:
        if exc.reason in parquet.ParquetError.TRANSIENT:
            raise  # preview() says so, uncached
        too_large = exc.reason in ("memory", "timeout")
        preview.error = "too large to preview" if too_large else without_server_paths(str(exc))[:300]
        return
    preview.columns, preview.total_rows, preview.rows = table.columns, table.num_rows, table.rows


def preview(path: str, blob: Blob, *, offset: int = 0, limit: int = PREVIEW_ROWS) -> Preview:
    """Rows offset .. offset+limit of the data file at `path` (its first rows by default)."""
    fmt = format_of(path) or "unknown"
    key = f"hub:viewer:v2:{blob.sha256}:{fmt}:{offset}:{limit}"
    cached = cache.get(key)
    if cached is not None:
        return Preview(**{**cached, "path": path})
    result = Preview(path=path, format=fmt)
    try:
        if fmt in ("csv", "tsv"):
            _csv(result, blob, "," if fmt == "csv" else "\t", offset, limit)
        elif fmt == "jsonl":
            _jsonl(result, blob, offset, limit)
        elif fmt == "parquet":
            _parquet(result, blob, offset, limit)
    except parquet.ParquetError:  # busy with other files: say so, and look again next time
        result.error = "busy: try again in a moment"
        return result
    except Exception as exc:  # a malformed file shows its error instead of a table
        result.error = without_server_paths(f"{type(exc).__name__}: {exc}")[:300]
    cache.set(key, result.__dict__, CACHE_TTL_S)
    return result
