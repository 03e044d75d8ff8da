"""A Hugging Face Hub–compatible API over the repositories, for `huggingface_hub` and
`transformers` with `HF_ENDPOINT=<this site>` (see docs/api.md for the endpoints).

- `common`: the token, the repository a URL names, errors with `X-Error-Code`, JSON shapes.
- `info`: listings, repository info, trees, commits, create_repo, whoami.
- `files`: `resolve` (HEAD/GET with ETag, X-Repo-Commit, Range, redirects to object storage).
- `upload`: preupload, the NDJSON commit, the LFS batch protocol and its signed PUT.
"""
