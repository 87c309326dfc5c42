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
