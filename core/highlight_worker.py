"""The sandbox that runs Pygments for `core.highlighting`. It imports nothing of Django: whatever
a lexer does on hostile text (some take cubic time) happens here, where the parent can kill it."""
from __future__ import annotations

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.util import ClassNotFound

from core.sandboxed import serve


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


if __name__ == "__main__":
    serve(render)
