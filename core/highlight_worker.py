"""The process that runs Pygments for `core.highlighting`: one JSON request per line on stdin,
one JSON answer per line on stdout. It imports nothing of the project: whatever a lexer does on
hostile text (some take cubic time) happens here, where the parent can kill it."""
from __future__ import annotations

import json
import sys

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.util import ClassNotFound


def render(request: dict) -> str | None:
    """HTML for `code`, lexed by the `language` alias or else by the `filename`; None when no
    lexer has that name."""
    try:
        if request.get("language"):
            lexer = get_lexer_by_name(request["language"], stripnl=False)
        else:
            lexer = get_lexer_for_filename(request["filename"], stripnl=False)
    except ClassNotFound:
        return None
    return highlight(request["code"], lexer, HtmlFormatter(**request["formatter"]))


def main() -> None:
    for line in sys.stdin:
        try:
            answer = {"html": render(json.loads(line))}
        except Exception as exc:  # a lexer's own bug: this request is shown plain, the next one is served
            answer = {"html": None, "error": repr(exc)[:200]}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
