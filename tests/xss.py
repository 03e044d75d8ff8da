"""An XSS corpus and an HTML check, shared by the Markdown tests and the page tests."""
import re
from html.parser import HTMLParser

# Vectors from OWASP's XSS filter evasion cheat sheet, as a member could type them.
XSS_VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>",
    '<IMG SRC="javascript:alert(\'XSS\');">',
    "<IMG SRC=javascript:alert('XSS')>",
    '<IMG SRC=`javascript:alert("RSnake says, \'XSS\'")`>',
    '<a onmouseover="alert(document.cookie)">xxs link</a>',
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    '<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>',
    "<img src=x onerror=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041\">",
    '<IMG SRC="jav\tascript:alert(\'XSS\');">',
    "<BODY ONLOAD=alert('XSS')>",
    '<svg/onload=alert("XSS")>',
    '<iframe src="javascript:alert(1)"></iframe>',
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
    '<DIV STYLE="background-image: url(javascript:alert(\'XSS\'))">',
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(\'XSS\');">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:alert(1))",
    '[x](https://example.com "title" onmouseover=alert(1))',
    "<object data=\"javascript:alert(1)\"></object>",
    "<form action=javascript:alert(1)><button>go</button></form>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
]
SCRIPT_CAPABLE_TAGS = {"script", "iframe", "object", "embed", "style", "meta", "form", "svg", "math", "body",
                       "link", "base"}


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))


URL_ATTRIBUTES = {"href", "src", "action", "data", "formaction", "xlink:href"}


def dangerous_parts(html: str, *, site_markup=lambda tag, attrs: False) -> list[str]:
    """What a browser would execute: script-capable tags, event handlers (HTMX's hx-on too),
    script or HTML URLs. `site_markup(tag, attrs)` exempts a tag the site itself writes; its
    attributes are still checked."""
    collector = _Collector()
    collector.feed(html)
    problems = []
    for tag, attrs in collector.found:
        if tag in SCRIPT_CAPABLE_TAGS and not site_markup(tag, dict(attrs)):
            problems.append(tag)
        for name, value in attrs:
            if site_markup(tag, dict(attrs)) and (name, value) in SITE_HANDLERS:
                continue
            url = re.sub(r"[\x00-\x20]", "", (value or "")).lower()
            if name.startswith(("on", "hx-on")) or name == "style" and "url(" in url:
                problems.append(name)
            if name in URL_ATTRIBUTES and url.startswith(("javascript:", "vbscript:", "data:")):
                problems.append(f"{name}={value}")
    return problems


# The event handler the site's own base template writes (the language picker).
SITE_HANDLERS = {("onchange", "this.form.submit()")}


def _same_site_path(url: str | None) -> bool:
    return url is None or (url.startswith("/") and not url.startswith(("//", "/\\")))


def is_site_markup(tag: str, attrs: dict) -> bool:
    """Script-capable tags that the site's templates write themselves, never from user text:
    its static scripts and styles, head metadata, icons and sparklines, same-site forms, and
    the language picker. Anything else of SCRIPT_CAPABLE_TAGS on a page came from user text."""
    if tag == "script":
        return set(attrs) <= {"src", "defer"} and (attrs.get("src") or "").startswith("/static/")
    if tag == "link":
        href = attrs.get("href") or ""
        return (attrs.get("rel") == "stylesheet" and href.startswith("/static/")) or (
            attrs.get("rel") == "alternate" and attrs.get("type") == "application/rss+xml"
            and href.startswith("/forum/") and href.endswith(".rss"))
    if tag == "meta":
        return set(attrs) <= {"charset", "name", "content"} and attrs.get("name") in (None, "viewport", "csrf-token")
    if tag == "svg":
        return attrs.get("aria-hidden") == "true" or attrs.get("class") == "sparkline"
    if tag == "form":
        return _same_site_path(attrs.get("action"))
    if tag == "select":
        return attrs.get("id") == "language"
    return tag == "body" and not any(name.startswith("on") for name in attrs)


def dangerous_page_parts(html: str) -> list[str]:
    """dangerous_parts of a whole page, less the site's own markup."""
    return dangerous_parts(html, site_markup=is_site_markup)
