"""Plumbing shared by the HF-compatible views."""
from __future__ import annotations

import re
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse

from core import parsers
from core.authentication import user_for_key

from ..models import Resource
from ..repos.models import Blob, Commit
from ..repos.reads import EMPTY_TREE_SHA, RevisionNotFound, is_lfs, resolve

TYPES = {"models": Resource.Kind.MODEL, "datasets": Resource.Kind.DATASET,
         "model": Resource.Kind.MODEL, "dataset": Resource.Kind.DATASET}
URL_PREFIX = {Resource.Kind.MODEL: "", Resource.Kind.DATASET: "datasets/"}
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
LFS_POINTER_SIZE = 134  # the size of a git-lfs pointer file for a sha256 oid


class HubError(Exception):
    """An error answered in the Hub's shape: status, X-Error-Code, {"error": message}."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


def error_response(exc: HubError) -> JsonResponse:
    response = JsonResponse({"error": exc.message}, status=exc.status)
    if exc.code:
        response["X-Error-Code"] = exc.code
    # A header holds no control character (Django refuses one with a 500); messages quote paths.
    response["X-Error-Message"] = CONTROL.sub(" ", exc.message.encode("ascii", "replace").decode()[:500])
    for key, value in exc.headers.items():
        response[key] = value
    return response


def bad_request(exc: ValidationError) -> HubError:
    """A ValidationError as a 400 whose message names the field or path."""
    if hasattr(exc, "message_dict"):
        text = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    else:
        text = " ".join(exc.messages)
    return HubError(400, text, "BadRequest")


def hub_view(view):
    """Turns HubError and ValidationError into the Hub's error responses."""
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except HubError as exc:
            return error_response(exc)
        except ValidationError as exc:
            return error_response(bad_request(exc))
    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    wrapper.csrf_exempt = True  # token auth only: no cookie is trusted on these endpoints
    return wrapper


def token_user(request: HttpRequest):
    """The user whose platform API key is the bearer token, None when anonymous; a bad key is 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() not in ("bearer", "token") or not key.strip():
        return None
    user = user_for_key(key.strip())
    if user is None:
        raise HubError(401, "Invalid credentials in Authorization header.", "Unauthorized")
    return user


def require_user(request: HttpRequest):
    user = token_user(request)
    if user is None:
        raise HubError(401, "This needs a token: set HF_TOKEN to one of your API keys.", "Unauthorized")
    return user


def get_repo(kind: str, namespace: str, name: str, request: HttpRequest | None = None) -> Resource:
    """The repository, if `request`'s user may see it: a draft only for its owner and moderators
    (anyone else gets the same 404 as for a repository that does not exist). A bad token is a 401
    before anything is looked up, so that its answer does not tell whether a draft exists."""
    viewer = token_user(request) if request is not None else None
    session_user = getattr(request, "user", None)
    if viewer is None and session_user is not None and session_user.is_authenticated:
        viewer = session_user
    resource = Resource.objects.filter(kind=kind, owner=namespace, name=name).first()
    if resource is not None and not resource.is_published:
        if not Resource.objects.visible_to(viewer).filter(pk=resource.pk).exists():
            resource = None
    if resource is None:
        raise HubError(404, f"Repository {namespace}/{name} not found.", "RepoNotFound")
    return resource


def get_commit(resource: Resource, revision: str | None) -> Commit | None:
    try:
        return resolve(resource, revision)
    except RevisionNotFound:
        raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")


def sha_of(commit: Commit | None) -> str:
    return commit.sha if commit is not None else EMPTY_TREE_SHA


def iso(dt) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def repo_url(request: HttpRequest, resource: Resource) -> str:
    return request.build_absolute_uri(f"/{URL_PREFIX[resource.kind]}{resource.repo_id}")


def lfs_info(blob: Blob) -> dict | None:
    if not is_lfs(blob):
        return None
    return {"size": blob.size, "sha256": blob.sha256, "oid": blob.sha256, "pointerSize": LFS_POINTER_SIZE}


def tree_file(path: str, blob: Blob) -> dict:
    item = {"type": "file", "path": path, "oid": blob.git_oid, "size": blob.size}
    lfs = lfs_info(blob)
    if lfs:
        item["lfs"] = {"oid": lfs["oid"], "size": lfs["size"], "pointerSize": lfs["pointerSize"]}
    return item


def read_json(request: HttpRequest) -> dict:
    try:
        data = parsers.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise HubError(400, "The body is not valid JSON.", "BadRequest")
    if not isinstance(data, dict):
        raise HubError(400, "The body must be a JSON object.", "BadRequest")
    return data


def paginated(request: HttpRequest, items: list, *, offset: int, limit: int, has_more: bool) -> JsonResponse:
    """A JSON array with a GitHub-style `Link: <next>; rel="next"` header when more follow."""
    response = JsonResponse(items, safe=False)
    if has_more:
        params = request.GET.copy()
        params["cursor"] = str(offset + limit)
        response["Link"] = f'<{request.build_absolute_uri(request.path)}?{urlencode(params, doseq=True)}>; rel="next"'
    return response


def int_param(request: HttpRequest, name: str, default: int, *, low: int = 0, high: int = 10**9) -> int:
    raw = request.GET.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HubError(400, f"{name}: must be an integer.", "BadRequest")
    if not low <= value <= high:
        raise HubError(400, f"{name}: must be between {low} and {high}.", "BadRequest")
    return value
