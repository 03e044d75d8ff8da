"""Writes through the HF-compatible API: preupload, the NDJSON commit, and the LFS batch protocol
whose upload href carries its own short-lived signature (the client PUTs to it without a token).
Every byte goes to a temporary file while it is hashed, never to memory; a commit is recorded
only once all its files are stored, so a failed upload leaves no half-written commit."""
from __future__ import annotations

import base64
import binascii
import hashlib
import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_http_methods, require_POST

from core import parsers
from core.asgi import Refusal

from ..repos import lfs
from ..repos.commits import Changes, CommitConflict, QuotaExceeded, UploadAllowance, commit_files, storage_used
from ..repos.paths import BadPath, clean_path
from ..repos.permissions import can_commit
from ..repos.reads import entries, head, is_lfs, is_main
from ..repos.storage import TooLarge, has_content, spool, spool_bytes, store
from .common import TYPES, URL_PREFIX, HubError, get_repo, hub_view, read_json, require_user

OID = re.compile(r"^[0-9a-f]{64}$")
EMPTY_OID = hashlib.sha256(b"").hexdigest()  # the only content of size 0
LFS_BATCH_MAX_OBJECTS = 100  # as many as git-lfs and huggingface_hub send in one batch
LFS_SALT = "models_hub.lfs-upload"
LFS_CONTENT_TYPE = "application/vnd.git-lfs+json"
MAX_LINE_BYTES = 64 * 1024 * 1024  # one NDJSON line: a base64 file past this is refused


def _writable_repo(request, kind: str, namespace: str, name: str):
    user = require_user(request)
    resource = get_repo(kind, namespace, name, request)
    if not can_commit(user, resource):
        raise HubError(403, f"You may not write to {resource.repo_id}: only its owner and moderators may.",
                       "Forbidden")
    return user, resource


def _main_only(request, revision: str) -> None:
    """Commits go straight onto main: no other branch, and no pull requests (the client's
    `create_pr=True` would otherwise land on main unreviewed)."""
    if not is_main(revision):
        raise HubError(404, f"Invalid rev id: {revision} (this site has one branch, main).", "RevisionNotFound")
    if request.GET.get("create_pr") not in (None, "", "0", "false", "False"):
        raise HubError(400, "create_pr: pull requests are not supported here; commit to main.", "BadRequest")


def _path(raw) -> str:
    try:
        return clean_path(raw)
    except BadPath as exc:
        raise HubError(400, " ".join(exc.messages), "BadRequest")


@require_POST
@hub_view
def preupload(request, repo_type: str, namespace: str, name: str, revision: str):
    """Which files go inline (`regular`) and which through LFS, and the oid of what is there."""
    _user, resource = _writable_repo(request, TYPES[repo_type], namespace, name)
    _main_only(request, revision)
    files = read_json(request).get("files")
    if not isinstance(files, list):
        raise HubError(400, "files: a list is required.", "BadRequest")
    current = {e.path: e.blob for e in entries(head(resource))}
    answer = []
    for item in files:
        if not isinstance(item, dict) or not isinstance(item.get("size"), int) or item["size"] < 0:
            raise HubError(400, "files: each needs a path and a non-negative integer size.", "BadRequest")
        path = _path(item.get("path"))
        if item["size"] > settings.HUB_MAX_FILE_BYTES:
            raise HubError(413, f"{path!r} is {item['size']} bytes; the limit is {settings.HUB_MAX_FILE_BYTES}.",
                           "FileTooLarge")
        lfs = item["size"] > settings.HUB_REGULAR_UPLOAD_MAX_BYTES
        existing = current.get(path)
        oid = None
        if existing is not None:
            oid = existing.sha256 if lfs else existing.git_oid
        answer.append({"path": item.get("path"), "uploadMode": "lfs" if lfs else "regular",
                       "shouldIgnore": False, "oid": oid})
    return JsonResponse({"files": answer, "commitOid": head(resource).sha if head(resource) else None})


def _ndjson(request):
    """The request body's JSON lines, read one at a time from the (spooled) body."""
    while True:
        line = request.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES:
            raise HubError(413, "A line of the commit is too large; upload big files through LFS.", "BadRequest")
        if line.strip():
            try:
                item = parsers.loads(line)
            except ValueError:
                raise HubError(400, "The commit body must be JSON lines.", "BadRequest")
            if not isinstance(item, dict) or not isinstance(item.get("key"), str) \
                    or not isinstance(item.get("value"), dict):
                raise HubError(400, "Each line needs a key and an object value.", "BadRequest")
            yield item["key"], item["value"]


def _inline_file(value: dict, allowance: UploadAllowance):
    path = _path(value.get("path"))
    if value.get("encoding", "base64") != "base64":
        raise HubError(400, f"{path!r}: only base64 content is accepted.", "BadRequest")
    if not isinstance(value.get("content") or "", str):
        raise HubError(400, f"{path!r}: content must be base64 text.", "BadRequest")
    try:
        data = base64.b64decode(value.get("content") or "", validate=True)
    except (binascii.Error, ValueError):
        raise HubError(400, f"{path!r}: the content is not valid base64.", "BadRequest")
    if len(data) > settings.HUB_REGULAR_UPLOAD_MAX_BYTES:
        raise HubError(413, f"{path!r} is {len(data)} bytes; files over {settings.HUB_REGULAR_UPLOAD_MAX_BYTES} "
                            "bytes go through LFS.", "FileTooLarge")
    allowance.admit(path, len(data))  # the quota, before the bytes are stored
    return path, allowance.store(spool_bytes(data, label=path))


def _lfs_file(value: dict, *, user, resource):
    path = _path(value.get("path"))
    oid, size = str(value.get("oid") or ""), value.get("size")
    held = OID.match(oid) and lfs.may_commit(user=user, resource=resource, sha256=oid)
    blob = has_content(oid) if held else None
    if blob is None or (isinstance(size, int) and blob.size != size):
        raise HubError(400, f"{path!r}: LFS object {oid} was not uploaded.", "BadRequest")
    return path, blob


def _header_text(header: dict, key: str) -> str:
    value = header.get(key) or ""
    if not isinstance(value, str) or "\x00" in value:
        raise HubError(400, f"header.{key}: must be text without NUL characters.", "BadRequest")
    return value


@require_POST
@hub_view
def commit(request, repo_type: str, namespace: str, name: str, revision: str):
    """POST /api/{type}s/{ns}/{name}/commit/main (application/x-ndjson)."""
    user, resource = _writable_repo(request, TYPES[repo_type], namespace, name)
    _main_only(request, revision)
    header: dict = {}
    changes = Changes()
    allowance = UploadAllowance(resource)
    try:
        for key, value in _ndjson(request):
            if len(changes.additions) + len(changes.deletions) >= settings.HUB_MAX_FILES_PER_COMMIT \
                    and key in ("file", "lfsFile", "deletedFile"):
                raise HubError(400, f"A commit changes at most {settings.HUB_MAX_FILES_PER_COMMIT} files.",
                               "BadRequest")
            if key == "header":
                header = value
            elif key == "file":
                changes.additions.append(_inline_file(value, allowance))
            elif key == "lfsFile":
                changes.additions.append(_lfs_file(value, user=user, resource=resource))
            elif key == "deletedFile":
                changes.deletions.append(_path(value.get("path")))
            elif key == "deletedFolder":
                changes.deleted_folders.append(_path(str(value.get("path") or "").rstrip("/")))
            else:
                raise HubError(400, f"key: {key!r} is not supported.", "BadRequest")
        done = commit_files(resource=resource, user=user, title=_header_text(header, "summary"),
                            message=_header_text(header, "description"), changes=changes,
                            parent_sha=_header_text(header, "parentCommit") or None)
    except TooLarge as exc:
        raise HubError(413, " ".join(exc.messages), "FileTooLarge")
    except QuotaExceeded as exc:
        raise HubError(413, " ".join(exc.messages), "QuotaExceeded")
    except CommitConflict:
        raise HubError(412, "A commit has happened since: main is not at parentCommit any more.", "Conflict")
    except PermissionDenied as exc:
        raise HubError(403, str(exc), "Forbidden")
    lfs.committed(user=user, sha256s=[blob.sha256 for _path, blob in changes.additions])
    url = request.build_absolute_uri(f"/{URL_PREFIX[resource.kind]}{resource.repo_id}/commit/{done.sha}")
    return JsonResponse({"success": True, "commitOid": done.sha, "commitUrl": url,
                         "pullRequestUrl": None})


def _lfs_error(oid: str, size, code: int, message: str) -> dict:
    return {"oid": oid, "size": size if isinstance(size, int) else 0, "error": {"code": code, "message": message}}


@require_POST
@hub_view
def lfs_batch(request, namespace: str, name: str, repo_type: str = "models"):
    """POST /[datasets/]{ns}/{name}.git/info/lfs/objects/batch: one upload href per missing object."""
    user, resource = _writable_repo(request, TYPES[repo_type], namespace, name)
    data = read_json(request)
    if data.get("operation") != "upload":
        raise HubError(400, "operation: only upload is supported.", "BadRequest")
    objects = data.get("objects")
    if not isinstance(objects, list):
        raise HubError(400, "objects: a list is required.", "BadRequest")
    if len(objects) > LFS_BATCH_MAX_OBJECTS:
        raise HubError(400, f"objects: at most {LFS_BATCH_MAX_OBJECTS} per batch.", "BadRequest")
    with transaction.atomic():
        # One batch of this member's at a time: each counts the URLs the ones before it granted.
        get_user_model().objects.select_for_update(no_key=True).filter(pk=user.pk).first()
        quota_left = None if user.is_staff else (settings.HUB_USER_QUOTA_BYTES - storage_used(resource.submitter or user)
                                                 - lfs.pending_bytes(user))
        answer, granted = [], {}
        for obj in objects:
            item = _lfs_object(request, user, resource, obj if isinstance(obj, dict) else {}, quota_left)
            answer.append(item)
            if "actions" in item:
                granted[item["oid"]] = item["size"]
                if quota_left is not None:
                    quota_left -= item["size"]  # the batch's objects together, not each against the whole quota
        lfs.grant(user=user, sizes=granted)
    response = JsonResponse({"transfer": "basic", "objects": answer, "hash_algo": "sha256"})
    response["Content-Type"] = LFS_CONTENT_TYPE
    return response


def _lfs_object(request, user, resource, obj: dict, quota_left: int | None) -> dict:
    """The batch's answer for one object: an upload action, nothing to do, or an error."""
    oid, size = str(obj.get("oid") or ""), obj.get("size")
    if not OID.match(oid) or not isinstance(size, int) or size < 0 or (size == 0 and oid != EMPTY_OID):
        return _lfs_error(oid, size, 422, "oid must be a sha256 and size its content's (non-negative) size.")
    if size > settings.HUB_MAX_FILE_BYTES:
        return _lfs_error(oid, size, 413, f"{size} bytes is over the {settings.HUB_MAX_FILE_BYTES}-byte file limit.")
    if lfs.may_commit(user=user, resource=resource, sha256=oid) and has_content(oid) is not None:
        return {"oid": oid, "size": size}  # theirs already: no actions
    if quota_left is not None and size > quota_left:
        return _lfs_error(oid, size, 413, "The upload would pass your storage quota.")
    token = signing.dumps({"o": oid, "s": size, "u": user.pk, "r": resource.pk}, salt=LFS_SALT, compress=True)
    href = request.build_absolute_uri(f"/hub-lfs/{token}/")
    ttl = settings.HUB_LFS_URL_TTL_S
    return {"oid": oid, "size": size, "authenticated": True, "actions": {
        "upload": {"href": href, "expires_in": ttl},
        "verify": {"href": href + "verify/", "expires_in": ttl},
    }}


LFS_UPLOAD_PATH = re.compile(r"^/hub-lfs/([^/]+)/$")


def lfs_upload_guard(scope: dict) -> Refusal | int | None:
    """For core.asgi.BodyLimit, before the body is read: an LFS upload (PUT /hub-lfs/<token>/)
    whose signed token is not valid is refused, and a valid one may send at most the size it was
    signed for. Django would otherwise spool whatever came, up to MAX_UPLOAD_BYTES, before the
    view saw the token. None for every other request."""
    match = LFS_UPLOAD_PATH.match(scope.get("path", ""))
    if match is None or scope.get("method") != "PUT":
        return None
    try:
        return _claims(match.group(1))["s"]
    except HubError as exc:
        return Refusal(exc.status, exc.message, exc.code or "Forbidden")


def _claims(token: str) -> dict:
    try:
        return signing.loads(token, salt=LFS_SALT, max_age=settings.HUB_LFS_URL_TTL_S)
    except signing.SignatureExpired:
        raise HubError(403, "This upload URL has expired; ask the batch endpoint for a new one.", "Forbidden")
    except signing.BadSignature:
        raise HubError(403, "This upload URL is not valid.", "Forbidden")


@require_http_methods(["PUT"])
@hub_view
def lfs_upload(request, token: str):
    """PUT /hub-lfs/{signed token}/: the object's bytes, streamed to storage and checked."""
    claims = _claims(token)
    oid, size = claims["o"], claims["s"]
    # Read and checked even when the content is stored already: sending it is what proves that
    # this member holds it (lfs.may_commit); storing it again finds the stored copy.
    try:
        spooled = spool(request, size=size, label=oid)
    except TooLarge as exc:
        raise HubError(413, " ".join(exc.messages), "FileTooLarge")
    except ValidationError as exc:
        raise HubError(400, " ".join(exc.messages), "BadRequest")
    if spooled.sha256 != oid:
        spooled.discard()
        raise HubError(400, f"The content's sha256 is {spooled.sha256}, not {oid}.", "BadRequest")
    store(spooled)
    lfs.uploaded(user_id=claims["u"], sha256=oid, size=size)
    return HttpResponse(status=200)


@require_POST
@hub_view
def lfs_verify(request, token: str):
    claims = _claims(token)
    user = require_user(request)
    # Only for content the caller holds: else verify would tell whether anyone stored this hash.
    held = lfs.may_commit(user=user, resource=claims["r"], sha256=claims["o"])
    blob = has_content(claims["o"]) if held else None
    if blob is None or blob.size != claims["s"]:
        raise HubError(404, f"Object {claims['o']} is not stored.", "EntryNotFound")
    return JsonResponse({"oid": blob.sha256, "size": blob.size})


__all__ = ["commit", "is_lfs", "lfs_batch", "lfs_upload", "lfs_verify", "preupload"]
