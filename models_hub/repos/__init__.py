"""Repositories: the files of a model or dataset, with revisions, stored content-addressed.

- `models`: Blob (one stored content, by sha256), Commit (a revision on `main`), Entry (a path
  in a commit's tree).
- `paths`: what a path in a repository may look like.
- `storage`: streaming bytes in and out of STORAGES["hub"].
- `reads`: resolving revisions, trees, histories, diffs.
- `commits`: the one writer, `commit_files`, and the card <-> README.md link.
"""
