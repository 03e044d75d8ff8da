"""Routes of the HF-compatible API. They sit at the site's root, as the client builds them:
/api/models…, /api/datasets…, /{ns}/{name}/resolve/…, /{ns}/{name}.git/info/lfs/…, /hub-lfs/…"""
from django.urls import path, re_path

from . import files, info, upload

# A namespace is an owner: an organisation, or a member's username in any script ('张三', 'a.b@c');
# a repository's name is ASCII (validators.NAME).
REPO = r"(?P<namespace>(?!\.{1,2}/)[\w.@+-]{1,100})/(?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,99})"
TYPE = r"(?P<repo_type>models|datasets)"

urlpatterns = [
    re_path(rf"^api/{TYPE}$", info.list_repos, name="hf-list"),
    re_path(rf"^api/{TYPE}/{REPO}$", info.repo_info, name="hf-info"),
    re_path(rf"^api/{TYPE}/{REPO}/revision/(?P<revision>.+)$", info.repo_info, name="hf-info-revision"),
    re_path(rf"^api/{TYPE}/{REPO}/tree/(?P<revision>[^/]+)(?:/(?P<path>.+))?$", info.tree, name="hf-tree"),
    re_path(rf"^api/{TYPE}/{REPO}/paths-info/(?P<revision>[^/]+)$", info.paths_info, name="hf-paths-info"),
    re_path(rf"^api/{TYPE}/{REPO}/commits/(?P<revision>[^/]+)$", info.commits, name="hf-commits"),
    re_path(rf"^api/{TYPE}/{REPO}/preupload/(?P<revision>.+)$", upload.preupload, name="hf-preupload"),
    re_path(rf"^api/{TYPE}/{REPO}/commit/(?P<revision>.+)$", upload.commit, name="hf-commit"),
    re_path(rf"^api/{TYPE}/{REPO}/settings$", info.repo_settings, name="hf-settings"),
    path("api/repos/create", info.create_repo, name="hf-create"),
    path("api/repos/delete", info.delete_repo, name="hf-delete"),
    path("api/whoami-v2", info.whoami, name="hf-whoami"),
    path("api/validate-yaml", info.validate_yaml, name="hf-validate-yaml"),
    path("api/agent-harnesses", info.not_found),
    path("hub-lfs/<str:token>/", upload.lfs_upload, name="hf-lfs-upload"),
    path("hub-lfs/<str:token>/verify/", upload.lfs_verify, name="hf-lfs-verify"),
    re_path(rf"^datasets/{REPO}\.git/info/lfs/objects/batch$", upload.lfs_batch,
            {"repo_type": "datasets"}, name="hf-lfs-batch-dataset"),
    re_path(rf"^{REPO}\.git/info/lfs/objects/batch$", upload.lfs_batch, name="hf-lfs-batch"),
    re_path(rf"^datasets/{REPO}/resolve/(?P<revision>[^/]+)/(?P<path>.+)$", files.resolve,
            {"repo_type": "datasets"}, name="hf-resolve-dataset"),
    re_path(rf"^{REPO}/resolve/(?P<revision>[^/]+)/(?P<path>.+)$", files.resolve,
            {"repo_type": "models"}, name="hf-resolve"),
]
