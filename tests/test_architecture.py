"""The layers of the code base: which app may import which, checked over the source with `ast`.

Dependencies point one way: core <- community <- models_hub <- playground <- evaluation <- finetune (config composes them
all). An import that points back up, or an import of a project module hidden inside a function
to dodge a cycle, fails here.
"""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Each app and the project apps it may import (its own modules are always allowed).
ALLOWED = {
    "core": set(),
    "community": {"core"},
    "models_hub": {"core", "community"},
    "playground": {"core", "community", "models_hub"},
    "evaluation": {"core", "community", "models_hub", "playground"},
    "finetune": {"core", "community", "models_hub", "playground", "evaluation"},
}
APPS = set(ALLOWED) | {"config"}
# In-function imports kept for their cost, not to dodge a cycle: (file, module) -> why.
LAZY = {
    ("finetune/runner.py", "progress"): "its callback subclasses transformers' TrainerCallback; "
                                        "every process that loads the apps imports the runner",
}


def _modules(root: Path, app: str):
    for path in sorted((root / app).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def _imports(tree: ast.AST):
    """(module, node, inside_function) for every import statement."""
    def visit(node, in_function: bool):
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, child, in_function
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                yield child.module, child, in_function
            elif isinstance(child, ast.ImportFrom) and child.level > 0:
                yield ".", child, in_function
            yield from visit(child, nested)
    yield from visit(tree, False)


def _violations(app: str, root: Path = ROOT) -> list[str]:
    found = []
    for path in _modules(root, app):
        tree = ast.parse(path.read_text(), filename=str(path))
        is_app_config = path.name == "apps.py"
        for module, node, in_function in _imports(tree):
            top = module.split(".")[0]
            where = f"{path.relative_to(root)}:{node.lineno}"
            if top in APPS and top != app and top not in ALLOWED[app]:
                found.append(f"{where} imports {module} ({app} may not depend on {top})")
            project_module = top in APPS or module == "."
            lazy = (str(path.relative_to(root)), getattr(node, "module", None)) in LAZY
            if in_function and project_module and not is_app_config and not lazy:
                found.append(f"{where} imports {module} inside a function")
    return found


@pytest.mark.parametrize("app", sorted(ALLOWED))
def test_app_imports_only_the_layers_below_it(app):
    assert _violations(app) == []


def test_the_check_catches_a_forbidden_import(tmp_path):
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "bad.py").write_text(
        "from community.models import Thread\n\ndef f():\n    from . import other\n")
    problems = _violations("core", root=tmp_path)
    assert len(problems) == 2
    assert "may not depend on community" in problems[0] and "inside a function" in problems[1]


def test_the_engine_imports_no_django():
    engine = ROOT / "playground" / "engine"
    found = [f"{path.relative_to(ROOT)}:{node.lineno} imports {module}"
             for path in sorted(engine.rglob("*.py"))
             for module, node, _ in _imports(ast.parse(path.read_text()))
             if module.split(".")[0] in ("django", "rest_framework", "celery", *APPS)]
    assert found == []


def test_loading_the_apps_imports_no_torch_or_transformers():
    """The web server and every manage.py command load the apps: they must not pay for the ML
    libraries (seconds and hundreds of MB a process), which only workers need."""
    code = ("import sys, django; django.setup(); "
            "print(sorted(m for m in ('torch', 'transformers', 'peft', 'trl') if m in sys.modules))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "1"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
