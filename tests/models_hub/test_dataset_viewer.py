"""The dataset viewer's own page: every row of a data file, a page of 100 at a time."""
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from models_hub import services

from .repo_helpers import commit

pytestmark = pytest.mark.django_db


def _csv(n: int) -> bytes:
    return ("id,text\n" + "".join(f"{i},row {i}\n" for i in range(1, n + 1))).encode()


def _parquet(n: int) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"id": list(range(1, n + 1))}), buffer, row_group_size=64)
    return buffer.getvalue()


@pytest.fixture
def data(user):
    dataset = services.save_resource(user=user, data={"kind": "dataset", "name": "big", "title": "Big"})
    commit(dataset, user, {"a.csv": _csv(250), "b.jsonl": "".join(json.dumps({"n": i}) + "\n" for i in range(130)).encode(),
                           "c.parquet": _parquet(230), "notes.txt": b"not data"})
    return dataset


def viewer(client, dataset, query=""):
    response = client.get(f"{dataset.get_absolute_url()}viewer/{query}")
    return response.status_code, response.content.decode()


def test_a_csv_is_paged_a_hundred_rows_at_a_time(client, data):
    status, page = viewer(client, data, "?file=a.csv&page=2")
    assert status == 200 and "250 rows" in page and "Page 2 of 3" in page
    assert "<td>row 101</td>" in page and "<td>row 200</td>" in page and "<td>row 100</td>" not in page
    assert "<td>row 250</td>" in viewer(client, data, "?file=a.csv&page=3")[1]


def test_the_first_data_file_shows_by_default_and_a_bad_page_falls_back(client, data):
    for query in ("", "?page=abc"):
        status, page = viewer(client, data, query)
        assert status == 200 and "<td>row 1</td>" in page and 'aria-current="page">a.csv<' in page
    assert "<td>row 250</td>" in viewer(client, data, "?page=99999999999999999999")[1]  # past the end: the last


def test_json_lines_and_parquet_pages(client, data):
    assert "<td>129</td>" not in viewer(client, data, "?file=b.jsonl")[1]
    assert "<td>129</td>" in viewer(client, data, "?file=b.jsonl&page=2")[1]
    status, page = viewer(client, data, "?file=c.parquet&page=3")
    assert status == 200 and "<td>201</td>" in page and "<td>230</td>" in page and "<td>200</td>" not in page


@pytest.mark.parametrize("name", ["notes.txt", "missing.csv", "../a.csv"])
def test_a_file_that_is_no_data_file_of_the_head_is_not_found(client, data, name):
    assert viewer(client, data, f"?file={name}")[0] == 404


def test_a_dataset_without_data_files_says_so(client, user):
    empty = services.save_resource(user=user, data={"kind": "dataset", "name": "empty", "title": "Empty"})
    status, page = viewer(client, empty)
    assert status == 200 and "no CSV, JSON Lines or Parquet file" in page


def test_a_drafts_viewer_is_its_owners(client, data, other_user):
    type(data).objects.filter(pk=data.pk).update(is_published=False)
    client.force_login(other_user)
    assert viewer(client, data)[0] == 404


def test_the_card_links_each_preview_to_the_viewer_and_the_tabs_have_it(client, data):
    page = client.get(data.get_absolute_url()).content.decode()
    assert f"{data.get_absolute_url()}viewer/?file=a.csv" in page and ">Viewer</a>" in page


def test_a_line_with_no_end_is_an_error_not_a_memory_hog(client, user, settings):
    from models_hub.repos import viewer as viewer_module

    dataset = services.save_resource(user=user, data={"kind": "dataset", "name": "oneline", "title": "One"})
    commit(dataset, user, {"x.jsonl": b"a" * (viewer_module.MAX_LINE_CHARS + 10)})
    status, page = viewer(client, dataset)
    assert status == 200 and "Could not read this file" in page and "longer than" in page


@pytest.mark.parametrize("rows", [50, 250])
def test_the_viewer_page_query_count_does_not_grow_with_the_file(client, user, rows, django_assert_max_num_queries):
    dataset = services.save_resource(user=user, data={"kind": "dataset", "name": f"d{rows}", "title": "D"})
    commit(dataset, user, {"a.csv": _csv(rows)})
    with django_assert_max_num_queries(8):
        assert viewer(client, dataset, "?page=2")[0] == 200


def test_a_file_with_ever_new_columns_shows_a_hundred(client, user):
    from models_hub.repos import viewer as viewer_module

    wide = "".join(json.dumps({f"k{row}_{i}": i for i in range(300)}) + "\n" for row in range(3)).encode()
    dataset = services.save_resource(user=user, data={"kind": "dataset", "name": "wide", "title": "Wide"})
    commit(dataset, user, {"w.jsonl": wide, "w.csv": (",".join(f"c{i}" for i in range(500)) + "\n").encode() * 2})
    for name in ("w.jsonl", "w.csv"):
        status, page = viewer(client, dataset, f"?file={name}")
        assert status == 200 and page.count("<th scope=\"col\">") == viewer_module.MAX_COLUMNS + 1  # and "#"


def test_a_page_past_what_the_viewer_reads_says_so(client, data, settings, monkeypatch):
    from models_hub.repos import viewer as viewer_module

    monkeypatch.setattr(viewer_module, "SCAN_MAX_BYTES", 1024)  # a.csv is some 3 KB
    status, page = viewer(client, data, "?file=a.csv&page=3")
    assert status == 200 and "as far as the viewer reads" in page


def test_a_files_lines_are_counted_once_for_all_its_pages(client, data, monkeypatch):
    from models_hub.repos import viewer as viewer_module

    reads = []
    real = viewer_module.iter_bytes
    monkeypatch.setattr(viewer_module, "_lines", lambda blob: (line for line in _csv(250).decode().splitlines()))
    monkeypatch.setattr(viewer_module, "iter_bytes", lambda blob: reads.append(blob.pk) or real(blob))
    for page in (1, 2, 3):
        assert "250 rows" in viewer(client, data, f"?file=a.csv&page={page}")[1]
    assert len(reads) == 1  # the count's one read; the rows come from _lines
