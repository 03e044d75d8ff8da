"""Parquet files that members upload (the dataset viewer, training files), decoded in a sandbox
(`core.parquet_worker`) capped at PARQUET_MEMORY_BYTES and PARQUET_TIMEOUT_S: the rows come back
as JSON values (dates and bytes as text)."""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from .sandbox import NO_VERDICT, Sandbox

_reader = Sandbox("core.parquet_worker", memory_setting="PARQUET_MEMORY_BYTES")


class ParquetError(Exception):
    """Not read: `reason` is `memory` or `timeout` (it would decode to too much, or take too
    long), `exception` (not a Parquet file this can read), or `busy`/`unavailable` (no verdict
    on the file: try again later)."""

    TRANSIENT = NO_VERDICT

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


@dataclass
class Table:
    columns: list[tuple[str, str]]  # name, Arrow type
    num_rows: int
    rows: list[dict]
    too_large: bool  # past `max_bytes` decoded: no rows


def read(path: str, *, columns: list[str] | None = None, max_columns: int | None = None, offset: int = 0,
         limit: int | None = None, max_bytes: int | None = None, cell_chars: int | None = None) -> Table:
    """`cell_chars`: rows as lists of cells shown as text, each at most that long (see the worker)."""
    answer = _reader.call({"path": str(path), "columns": columns, "max_columns": max_columns, "offset": offset,
                           "limit": limit, "max_bytes": max_bytes, "cell_chars": cell_chars},
                          settings.PARQUET_TIMEOUT_S)
    if "result" not in answer:
        raise ParquetError(answer["reason"], answer["error"])
    result = answer["result"]
    return Table(columns=[tuple(c) for c in result["columns"]], num_rows=result["num_rows"], rows=result["rows"],
                 too_large=result["too_large"])
