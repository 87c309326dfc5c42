"""The examples users read: docstring examples (doctests) and the README's Python block run."""

from __future__ import annotations

import contextlib
import doctest
import importlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


def _modules_with_examples() -> list[str]:
    names = []
    for path in sorted((SRC / "nncrn").rglob("*.py")):
        if ">>> " in path.read_text(encoding="utf-8"):
            parts = path.relative_to(SRC).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


MODULES = _modules_with_examples()


def test_examples_were_found():
    # a moved source tree would silently leave nothing to check
    assert len(MODULES) >= 5, MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed"


def test_readme_python_example(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)  # it saves net.json
    out = io.StringIO()
    namespace = {"__name__": "__readme__"}
    with contextlib.redirect_stdout(out):
        exec(compile(blocks[0], "README.md", "exec"), namespace)
    # the example prints the largest deviation from the torch model ("~1e-12")
    assert float(out.getvalue().split()[-1]) < 1e-9
    assert (tmp_path / "net.json").is_file()


def test_readme_notebook_example(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.findall(r"```python\n(.*?)```", readme, flags=re.S)[1]
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    # the second block continues the first one's session (steady_state is imported there)
    namespace = {"__name__": "__readme__", "steady_state": importlib.import_module("nncrn").steady_state}
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), namespace)
    text = out.getvalue()
    assert float(text.splitlines()[0]) > 0.85  # cross-validated accuracy of the chemistry
    assert "ReactionNetwork(" in text and "converged" in text
