"""The documentation site: ``mkdocs build --strict`` passes, and its executed tutorials say true things.

One strict build (a module fixture, about 70 s on 2 cores, most of it executing the four
tutorials in ``docs/tutorials``) into a temporary folder. ``--strict`` fails on a broken
cross-reference, a docstring the API reference cannot parse, a page missing from the
navigation, or a tutorial cell that raises. The tests then read the built pages: each
tutorial's printed numbers (accuracies, deviations) are checked against what they must
be, the command-line page against the argument parser, and every page for scripts
fetched from other sites (the site must read offline).
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted(p.stem for p in (ROOT / "docs" / "tutorials").glob("*.py"))
API_PAGES = {
    "nncrn": "nncrn.compile_network",
    "data": "nncrn.data.load_dataset",
    "estimator": "nncrn.estimator.CRNClassifier",
    "compile": "nncrn.compile.DualRail",
    "simulate": "nncrn.simulate.gillespie",
    "train": "nncrn.train.qat_fit",
    "export": "nncrn.export.to_sbml",
    "plot": "nncrn.plot.draw_network",
    "nn": "nncrn.nn.SmoothReLU",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python", "mkdocs_jupyter"):
        pytest.importorskip(module, reason="the docs extra is not installed: pip install -e '.[docs]'")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
           "NNCRN_DOCS_EXECUTE": "true"}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
         "-d", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stderr[-6000:]}"
    return out


def _text(page: Path) -> str:
    """The page's visible text: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def _number(text: str, label: str) -> float:
    """The number printed after ``label`` (a printed output, not the f-string that printed it)."""
    found = re.findall(re.escape(label) + r"\s*([-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)", text)
    assert found, f"no number after {label!r} in the executed tutorial"
    return float(found[-1])


def _tutorial(site: Path, stem: str) -> str:
    return _text(site / "tutorials" / stem / "index.html")


def test_there_are_four_tutorials_in_percent_format():
    assert len(TUTORIALS) >= 4, TUTORIALS
    for stem in TUTORIALS:
        text = (ROOT / "docs" / "tutorials" / f"{stem}.py").read_text(encoding="utf-8")
        assert "format_name: percent" in text and "# %%" in text, stem
        assert stem in (ROOT / "mkdocs.yml").read_text(encoding="utf-8"), f"{stem} is not in the nav"


def test_every_tutorial_ran_and_drew(site):
    for stem in TUTORIALS:
        page = (site / "tutorials" / stem / "index.html").read_text(encoding="utf-8")
        assert "Traceback" not in page, f"{stem}: a cell raised"  # allow_errors is off, too
        if stem != "03_export":  # the export tutorial prints text only
            assert "data:image/png;base64," in page, f"{stem}: no figure in the executed page"


def test_compile_tutorial_numbers(site):
    text = _tutorial(site, "01_compile_and_draw")
    assert _number(text, "CRN test accuracy:") > 0.8
    assert _number(text, "CRN test accuracy:") == _number(text, "NN test accuracy:")
    assert _number(text, "max |CRN - NN|:") < 1e-9
    assert _number(text, "max |fixed_point - steady_state|:") < 1e-9
    assert "all converged: True" in text


def test_ode_vs_ssa_tutorial_numbers(site):
    text = _tutorial(site, "02_ode_vs_ssa")
    assert _number(text, "deterministic accuracy:") > 0.8
    assert _number(text, "SSA accuracy at volume 1000:") > 0.8
    # more molecules, closer to the ODE: agreement at volume 1000 beats volume 10
    assert _number(text, "volume   1000: agreement") > _number(text, "volume     10: agreement")


def test_export_tutorial_numbers(site):
    text = _tutorial(site, "03_export")
    assert "round trip keeps every reaction and rate: True" in text
    (deviation,) = re.findall(r"max \|libRoadRunner - nncrn\| over \d+ test inputs: (\S+)", text)
    assert float(deviation) < 1e-6
    assert "same classes: True" in text
    assert _number(text, "libRoadRunner test accuracy:") > 0.8
    assert _number(text, "after steadyState(): max |libRoadRunner - nncrn| =") < 1e-6
    # every reaction reaches the SBML and the CRN text
    (in_sbml,) = re.findall(r"(\d+) reactions, \d+ characters", text)
    (in_crn_text,) = re.findall(r"(\d+) reaction lines", text)
    assert int(in_sbml) == int(in_crn_text) > 0


def test_discrete_dual_rail_tutorial_numbers(site):
    text = _tutorial(site, "04_discrete_dual_rail")
    assert _number(text, "float test accuracy:") > 0.8
    assert _number(text, "ternary, QAT:") > 0.8
    assert _number(text, "dual-rail CRN test accuracy:") > 0.8
    assert _number(text, "agreement with the ternary network:") == 1.0
    assert _number(text, "distinct rate constants:") == 1
    # rate independence: random rate constants, the same completion state
    assert _number(text, "max |outputs(random rates) - outputs(unit rates)|:") < 1e-6


def test_api_reference_documents_each_package(site):
    for page, anchor in API_PAGES.items():
        content = (site / "api" / page / "index.html").read_text(encoding="utf-8")
        assert f'id="{anchor}"' in content, f"api/{page}: no entry for {anchor}"


def test_cli_reference_matches_the_parser(site):
    import argparse

    from nncrn.cli import build_parser

    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    text = _text(site / "cli" / "index.html")
    assert "<!-- nncrn-cli-reference -->" not in text
    for name, command in sub.choices.items():
        assert f"nncrn {name}" in text, f"command {name} is missing from the CLI page"
        for action in command._actions:
            for flag in action.option_strings:
                assert flag in text, f"nncrn {name} {flag} is missing from the CLI page"


def test_equations_are_rendered_at_build_time(site):
    page = (site / "concepts" / "construction" / "index.html").read_text(encoding="utf-8")
    assert page.count("<math") >= 10
    assert "\\sqrt" not in _text(site / "concepts" / "construction" / "index.html")


def test_pages_load_nothing_from_other_sites(site):
    remote = re.compile(r"""<script[^>]*\ssrc=["']https?:|import\(\s*["']https?:|<link[^>]*\shref=["']https?:""")
    for page in site.rglob("*.html"):
        hit = remote.search(page.read_text(encoding="utf-8"))
        assert hit is None, f"{page.relative_to(site)} loads {hit.group(0)!r}"
