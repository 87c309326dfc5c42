"""The public API: every exported name resolves, and `import nncrn` stays light."""

from __future__ import annotations

import subprocess
import sys

import nncrn


def test_every_exported_name_resolves():
    missing = [name for name in nncrn.__all__ if getattr(nncrn, name, None) is None]
    assert missing == []


def test_import_does_not_load_torch_or_libsbml():
    code = (
        "import sys, nncrn; heavy = [m for m in ('torch', 'libsbml', 'numba') if m in sys.modules]; "
        "print(heavy); nncrn.fit; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "True"]


def test_version_is_the_installed_one():
    from importlib.metadata import version

    assert nncrn.__version__ == version("nncrn")


def test_cli_version_prints_the_package_version(capsys):
    import pytest

    import nncrn
    from nncrn.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"nncrn {nncrn.__version__}"


def test_the_declared_dependency_floors_resolve_together(tmp_path):
    # Every direct dependency (all extras) at its lowest declared version must be
    # installable together: numba 0.57, once the floor, cannot be installed with numpy
    # >= 1.26. This resolves against the package index (no download of the packages).
    import shutil
    from pathlib import Path

    import pytest

    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed (it comes with the dev extra)")
    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "lowest.txt"
    run = subprocess.run(
        [uv, "pip", "compile", str(root / "pyproject.toml"), "--all-extras",
         "--resolution", "lowest-direct", "--python-version",
         f"{sys.version_info.major}.{sys.version_info.minor}", "--no-header", "-q", "-o", str(out)],
        capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    pins = {name.lower().replace("_", "-"): v for name, v in
            (line.split("==", 1) for line in out.read_text().splitlines()
             if "==" in line and not line.startswith(" "))}  # fmt: skip
    # Each floor itself must be what was picked: a resolver moves past a floor that cannot
    # be installed with the others (numba >= 0.57 resolved to 0.58.1), and then the floor
    # is a claim nothing checked.
    import tomllib

    from packaging.requirements import Requirement
    from packaging.version import Version

    meta = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra in meta["optional-dependencies"].values():
        reqs += [r for r in extra if not r.startswith("nncrn")]
    moved = []
    for r in map(Requirement, reqs):
        floors = [s.version for s in r.specifier if s.operator == ">="]
        name = r.name.lower().replace("_", "-")
        if floors and Version(pins[name]) != Version(floors[0]):
            moved.append(f"{r.name}>={floors[0]} resolved to {pins[name]}")
    assert not moved, "raise these floors to what resolves: " + "; ".join(moved)
