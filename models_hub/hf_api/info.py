"""Read endpoints of the HF-compatible API, plus create_repo, whoami and validate-yaml."""
from __future__ import annotations

import yaml
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, Max, OuterRef, Q
from django.http import JsonResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..models import Resource
from ..querysets import ORDERINGS
from ..repos.models import Commit
from ..repos.reads import entries, history
from ..permissions import can_change
from ..services import ResourceInUse, delete_resource, publish_resource, save_resource, split_front_matter
from ..validators import NAME, OWNER
from .common import (
    TYPES, HubError, get_commit, get_repo, hub_view, int_param, iso, lfs_info, paginated, read_json,
    repo_url, require_user, sha_of, token_user, tree_file,
)

PAGE_SIZE = 100
TREE_PAGE_SIZE = 1000
SORTS = {"likes": ORDERINGS["-likes"], "downloads": ORDERINGS["-downloads"], "trendingScore": ORDERINGS["-likes"],
         "createdAt": ORDERINGS["-created"], "lastModified": ORDERINGS["-updated"], "id": ("repo_id", "id")}


def _summary(resource: Resource, head: Commit | None) -> dict:
    return {
        "_id": str(resource.pk), "id": resource.repo_id, "author": resource.owner,
        "sha": sha_of(head) if head is not None else None,
        "lastModified": iso(resource.updated_at), "createdAt": iso(resource.created_at),
        "private": not resource.is_published, "gated": False, "disabled": False, "downloads": resource.downloads, "likes": resource.likes,
        "tags": [t.name for t in resource.tags.all()],
        **({"pipeline_tag": resource.task} if resource.task else {}),
        **({"library_name": resource.library} if resource.library else {}),
    }


MAX_FILTERS = 10


@require_GET
@hub_view
def list_repos(request, repo_type: str):
    """GET /api/models|datasets?search=&author=&sort=&direction=&limit=&filter= : what the token's
    owner may see, their drafts too (listed as private, as the Hub lists one's private repos)."""
    kind = TYPES[repo_type]
    qs = Resource.objects.visible_to(token_user(request)).filter(kind=kind).prefetch_related("tags")
    if request.GET.get("search"):
        qs = qs.filter(repo_id__icontains=request.GET["search"])
    if request.GET.get("author"):
        qs = qs.filter(owner=request.GET["author"])
    filters = set(request.GET.getlist("filter"))
    if len(filters) > MAX_FILTERS:
        raise HubError(400, f"filter: at most {MAX_FILTERS} values.", "BadRequest")
    for tag in filters:  # one EXISTS each: a join per filter on the tags would multiply the rows
        tagged = Resource.tags.through.objects.filter(resource_id=OuterRef("pk"), tag__name=tag)
        qs = qs.filter(Exists(tagged) | Q(task=tag) | Q(library=tag) | Q(license=tag.removeprefix("license:")))
    sort = request.GET.get("sort") or "likes"
    if sort not in SORTS:
        raise HubError(400, f"sort: must be one of {', '.join(SORTS)}.", "BadRequest")
    order = list(SORTS[sort])
    if request.GET.get("direction") == "1":
        order = [o[1:] if o.startswith("-") else f"-{o}" for o in order]
    limit = int_param(request, "limit", PAGE_SIZE, low=1, high=1000)
    offset = int_param(request, "cursor", 0)
    page = list(qs.distinct().order_by(*order).annotate(head_id=Max("commits__id"))[offset:offset + limit + 1])
    heads = Commit.objects.in_bulk([r.head_id for r in page if r.head_id])
    items = [_summary(r, heads.get(r.head_id)) for r in page[:limit]]  # siblings: only in a repository's info
    return paginated(request, items, offset=offset, limit=limit,
                     has_more=len(page) > limit and "limit" not in request.GET)


@require_GET
@hub_view
def repo_info(request, repo_type: str, namespace: str, name: str, revision: str | None = None):
    """GET /api/models/{ns}/{name}[/revision/{rev}]: the sha, the files (siblings), the card's data."""
    resource = get_repo(TYPES[repo_type], namespace, name, request)
    commit = get_commit(resource, revision)
    data = _summary(resource, commit)
    data["sha"] = sha_of(commit)
    if commit is not None:
        data["lastModified"] = iso(commit.created_at)
    siblings = []
    used = 0
    for e in entries(commit):
        sibling = {"rfilename": e.path, "size": e.blob.size, "blobId": e.blob.git_oid}
        lfs = lfs_info(e.blob)
        if lfs:
            sibling["lfs"] = {"size": lfs["size"], "sha256": lfs["sha256"], "pointerSize": lfs["pointerSize"]}
        siblings.append(sibling)
        used += e.blob.size
    data["siblings"] = siblings
    data["usedStorage"] = used
    try:
        meta, _body = split_front_matter(resource.card)
    except ValidationError:
        meta = {}
    data["cardData"] = meta
    data["description"] = resource.summary
    return JsonResponse(data)


@require_GET
@hub_view
def tree(request, repo_type: str, namespace: str, name: str, revision: str, path: str = ""):
    """GET /api/{type}s/{ns}/{name}/tree/{rev}[/{path}]?recursive="""
    resource = get_repo(TYPES[repo_type], namespace, name, request)
    commit = get_commit(resource, revision)
    recursive = request.GET.get("recursive", "").lower() in ("1", "true")
    prefix = path.strip("/")
    start = f"{prefix}/" if prefix else ""
    rows = entries(commit)
    if prefix:
        rows = rows.filter(path__startswith=start)
    items, folders = [], {}
    for e in rows:
        rest = e.path[len(start):]
        if not recursive and "/" in rest:
            folders.setdefault(start + rest.split("/")[0], None)
            continue
        if recursive:
            parts = rest.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                folders.setdefault(start + "/".join(parts[:i]), None)
        items.append(tree_file(e.path, e.blob))
    if prefix and not items and not folders:
        raise HubError(404, f"{prefix} does not exist at {revision}.", "EntryNotFound")
    listing = [{"type": "directory", "path": p, "oid": sha_of(commit)} for p in sorted(folders)] + items
    offset = int_param(request, "cursor", 0)
    page = listing[offset:offset + TREE_PAGE_SIZE]
    return paginated(request, page, offset=offset, limit=TREE_PAGE_SIZE,
                     has_more=len(listing) > offset + TREE_PAGE_SIZE)


@require_POST
@hub_view
def paths_info(request, repo_type: str, namespace: str, name: str, revision: str):
    """POST /api/{type}s/{ns}/{name}/paths-info/{rev} (form field `paths`, repeated)."""
    resource = get_repo(TYPES[repo_type], namespace, name, request)
    commit = get_commit(resource, revision)
    wanted = [path for path in request.POST.getlist("paths")[:1000] if "\x00" not in path]  # no file has one
    result = []
    rows = {e.path: e.blob for e in entries(commit).filter(path__in=wanted)}
    all_paths = None
    for path in wanted:
        if path in rows:
            result.append(tree_file(path, rows[path]))
            continue
        if all_paths is None:
            all_paths = list(entries(commit).values_list("path", flat=True))
        if any(p.startswith(path.rstrip("/") + "/") for p in all_paths):
            result.append({"type": "directory", "path": path.rstrip("/"), "oid": sha_of(commit)})
    return JsonResponse(result, safe=False)


@require_GET
@hub_view
def commits(request, repo_type: str, namespace: str, name: str, revision: str):
    """GET /api/{type}s/{ns}/{name}/commits/{rev}: the history from that revision back."""
    resource = get_repo(TYPES[repo_type], namespace, name, request)
    commit = get_commit(resource, revision)
    limit = int_param(request, "limit", PAGE_SIZE, low=1, high=1000)
    offset = int_param(request, "cursor", 0)
    rows = history(resource).filter(id__lte=commit.id) if commit else Commit.objects.none()
    page = list(rows[offset:offset + limit + 1])
    items = [{"id": c.sha, "title": c.title, "message": c.message, "date": iso(c.created_at),
              "authors": [{"user": c.author.username if c.author else "hub"}]} for c in page[:limit]]
    return paginated(request, items, offset=offset, limit=limit, has_more=len(page) > limit)


def _named_repo(data: dict, user) -> tuple[str, str, str]:
    """(kind, owner, name) of a create or delete body {type, organization, name}: each checked
    before it reaches a query (a NUL, a list, a path), else a 400 naming it."""
    repo_type = data.get("type") or "model"
    if repo_type not in ("model", "dataset"):
        raise HubError(400, f"type: {repo_type!r} is not supported here (model or dataset).", "BadRequest")
    name, owner = str(data.get("name") or ""), str(data.get("organization") or user.username)
    for field, value, validator in (("name", name, NAME), ("organization", owner, OWNER)):
        try:
            validator(value)
        except ValidationError:
            raise HubError(400, f"{field}: {value!r} is not a valid repository {field}.", "BadRequest")
    return TYPES[repo_type], owner, name


@require_POST
@hub_view
def create_repo(request):
    """POST /api/repos/create {name, organization, type, private | visibility}: 409 (with the url)
    when it exists. A private repository is a draft until its owner publishes it."""
    user = require_user(request)
    data = read_json(request)
    private = _private(data)
    kind, owner, name = _named_repo(data, user)
    if owner != user.username and not user.is_staff:
        raise HubError(403, f"organization: you can only create repositories under {user.username}.", "Forbidden")
    existing = Resource.objects.filter(kind=kind, owner=owner, name=name).first()
    if existing is not None:
        return JsonResponse({"error": "You already created this repo", "url": repo_url(request, existing)},
                            status=409)
    try:
        resource = save_resource(user=user, data={"kind": kind, "owner": owner, "name": name, "title": name,
                                                  "private": bool(private)})
    except PermissionDenied as exc:
        raise HubError(403, str(exc), "Forbidden")
    return JsonResponse({"url": repo_url(request, resource), "name": resource.repo_id, "id": str(resource.pk)})


def _private(data: dict) -> bool | None:
    """The visibility asked for (`private`, or the newer `visibility`); None when neither is given."""
    visibility, private = data.get("visibility"), data.get("private")
    if visibility is not None and visibility not in ("public", "private"):
        raise HubError(400, "visibility: public or private.", "BadRequest")
    if private is not None and not isinstance(private, bool):
        raise HubError(400, "private: true or false.", "BadRequest")
    return visibility == "private" if visibility is not None else private


@require_http_methods(["PUT"])
@hub_view
def repo_settings(request, repo_type: str, namespace: str, name: str):
    """PUT /api/{type}s/{ns}/{name}/settings {visibility | private}: a private repository (a draft)
    made public, as its page's Publish button does. A public one stays public (members' runs,
    evaluations and discussions may hang on it); no gating: anyone may read a public one."""
    user = require_user(request)
    resource = get_repo(TYPES[repo_type], namespace, name, request)
    data = read_json(request)
    if data.get("gated") not in (None, False):
        raise HubError(400, "gated: repositories here are not gated.", "BadRequest")
    private = _private(data)
    try:
        if private is False and not resource.is_published:
            publish_resource(user=user, resource=resource)
        elif private and resource.is_published:
            raise HubError(400, "visibility: a public repository stays public here (others' runs, evaluations and "
                                "discussions may depend on it); ask a moderator to take it down.", "BadRequest")
        elif not can_change(user, resource):
            raise PermissionDenied("Only the owner or a moderator may change this repository's settings.")
    except PermissionDenied as exc:
        raise HubError(403, str(exc), "Forbidden")
    return JsonResponse({})


@require_http_methods(["DELETE"])
@hub_view
def delete_repo(request):
    """DELETE /api/repos/delete {name, organization, type}: as the hub's own Delete (the owner or
    a moderator; a model that runs in the playground, or has runs, is kept: 409)."""
    user = require_user(request)
    data = read_json(request)
    resource = get_repo(*_named_repo(data, user), request)
    try:
        delete_resource(user=user, resource=resource)
    except PermissionDenied as exc:
        raise HubError(403, str(exc), "Forbidden")
    except ResourceInUse as exc:
        raise HubError(409, " ".join(exc.messages), "Conflict")
    return JsonResponse({})


@require_GET
@hub_view
def whoami(request):
    user = require_user(request)
    return JsonResponse({"type": "user", "id": str(user.pk), "name": user.username, "fullname": user.shown_name,
                         "isPro": False, "orgs": [],
                         "auth": {"type": "access_token", "accessToken": {"displayName": "api key", "role": "write"}}})


@require_POST
@hub_view
def validate_yaml(request):
    """POST /api/validate-yaml {content, repoType}: the card's front matter must parse."""
    token_user(request)
    content = read_json(request).get("content") or ""
    try:
        split_front_matter(str(content))
    except ValidationError as exc:
        raise HubError(400, " ".join(exc.messages), "BadRequest")
    except yaml.YAMLError as exc:  # pragma: no cover - split_front_matter wraps these
        raise HubError(400, str(exc), "BadRequest")
    return JsonResponse({})


@require_http_methods(["GET", "HEAD", "POST"])
@hub_view
def not_found(request, *args, **kwargs):
    raise HubError(404, "Not found.", "NotFound")
