"""The sandbox that decodes Parquet for `core.parquet`: a few kilobytes of compressed Parquet
can decode to gigabytes (a dictionary entry repeated, runs of one value), so decoding happens
here, under the parent's memory cap and time limit. Imports nothing of Django."""
from __future__ import annotations

import json
from itertools import islice

import pyarrow.parquet as pq

from core.sandboxed import serve

BATCH_ROWS = 64


def read(request: dict) -> dict:
    """The file's columns (name, type), its row count and rows offset .. offset+limit (limit None:
    all) of the `columns` asked for (None: the first `max_columns`), as JSON-ready dicts, or with
    `cell_chars` as lists of cells shown as text, each cut to that many characters. A file
    whose row groups declare more than `max_bytes` decoded, or that decodes past it, is refused
    with `too_large` and no rows."""
    parquet = pq.ParquetFile(request["path"])
    meta = parquet.metadata
    fields = [f for f in parquet.schema_arrow if request["columns"] is None or f.name in request["columns"]]
    fields = fields[: request.get("max_columns") or len(fields)]
    answer = {"columns": [(f.name, str(f.type)) for f in fields], "num_rows": meta.num_rows, "rows": [],
              "too_large": False}
    max_bytes = request.get("max_bytes")
    if max_bytes and sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)) > max_bytes:
        return {**answer, "too_large": True}
    decoded = 0
    offset, limit = request.get("offset", 0), request.get("limit")
    rows = []
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=[f.name for f in fields]):
        decoded += batch.nbytes
        if max_bytes and decoded > max_bytes:
            return {**answer, "too_large": True}
        rows.extend(batch.to_pylist())
        if limit is not None and len(rows) >= offset + limit:
            break
    rows = list(islice(rows, offset, None if limit is None else offset + limit))
    if cell_chars := request.get("cell_chars"):  # shown, not used: cut here, before the answer is written
        rows = [[_cell(row.get(f.name), cell_chars) for f in fields] for row in rows]
    answer["rows"] = rows
    return answer


def _cell(value, limit: int) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


if __name__ == "__main__":
    serve(read)
