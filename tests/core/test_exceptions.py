"""What an error shown to members may say."""
import pytest

from core.exceptions import without_server_paths


@pytest.mark.parametrize(("text", "shown"), [
    ("OSError: /var/lib/llm/models/alice/tiny/config.json is not a valid JSON file",
     "OSError: …/config.json is not a valid JSON file"),
    ("Model directory /srv/models/x does not exist.", "Model directory …/x does not exist."),
    ("ArrowInvalid: Could not open Parquet input source '/tmp/tmpab12/data.parquet'",
     "ArrowInvalid: Could not open Parquet input source '…/data.parquet'"),
    ("upstream said 401 at https://api.example.com/v1/chat/completions",
     "upstream said 401 at https://api.example.com/v1/chat/completions"),
    ("ratio 3/4 and models/tiny stay", "ratio 3/4 and models/tiny stay"),
])
def test_errors_keep_the_files_name_but_not_its_folders(text, shown):
    assert without_server_paths(text) == shown
