"""The Hugging Face Hub's page addresses (browse.py). Last of the site's routes: /{ns}/{name}
matches any two-part path, so every page of the site's own comes first."""
from django.urls import re_path

from . import browse
from .urls import REPO

# A branch by its full name too; its slashes arrive decoded even when the client quoted them.
REVISION = r"(?P<revision>refs/heads/[^/]+|[^/]+)"
PAGES = [
    (r"/?", browse.repo_page, "repo"),
    (rf"/(?:tree|blob)/{REVISION}(?:/(?P<path>.*))?", browse.tree_page, "tree"),
    (rf"/commits/{REVISION}/?", browse.commits_page, "commits"),
    (r"/commit/(?P<sha>[0-9a-f]{7,40})/?", browse.commit_page, "commit"),
    (r"/discussions/?", browse.discussions_page, "discussions"),
]

urlpatterns = [
    route
    for rest, view, name in PAGES
    for route in (re_path(rf"^datasets/{REPO}{rest}$", view, {"repo_type": "datasets"}, name=f"hf-page-{name}-dataset"),
                  re_path(rf"^{REPO}{rest}$", view, name=f"hf-page-{name}"))
]
