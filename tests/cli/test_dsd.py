"""``nncrn dsd`` end to end on small networks, and its refusals."""

from __future__ import annotations

import importlib.util
import re

import pytest

# Not pytest.importorskip: importing peppercorn raises the recursion limit of the whole test
# process to 10**6 (nncrn.dsd imports it lazily and puts the limit back).
if not all(importlib.util.find_spec(m) for m in ("peppercornenumerator", "crnverifier")):
    pytest.skip("the dsd extra is not installed", allow_module_level=True)

from nncrn import Reaction, ReactionNetwork, Species
from nncrn.cli import main


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")


def _save(tmp_path, *texts):
    reactions = [Reaction.parse(t, 1.0) for t in texts]
    names = dict.fromkeys(s for r in reactions for s in (*r.reactants, *r.products))
    net = ReactionNetwork(tuple(Species(n) for n in names), tuple(reactions))
    path = tmp_path / "net.json"
    net.save(path)
    return path


def test_dsd_writes_pil_verifies_and_reports(tmp_path, capsys):
    path = _save(tmp_path, "0 -> Y", "2 Y -> Y")
    out = tmp_path / "design.pil"
    dsd = tmp_path / "dsd.json"
    argv = ["dsd", str(path), "--scheme", "qian2011", "-o", str(out), "--verify", "--report",
            "--leak", "0.01", "--gate-leak", "1e-7", "--dsd-network", str(dsd)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "modules verified" in text and re.search(r"modules verified\s*│\s*2/2", text)
    pil = out.read_text()
    assert "length t = 7" in pil and "m1-gate = " in pil and "@initial" in pil
    net = ReactionNetwork.load(dsd)
    assert {"Y", "m0__gate", "m1__gate"} <= set(net.species_names)
    # the leak of module 1 (2 Y -> Y): gate + commit -> Y
    assert any(r.equation() == "m1__gate + m1__commit -> Y" for r in net.reactions)
    # the gate leak of module 1: the gate releases Y without its inputs
    assert any(r.equation() == "m1__gate -> Y" for r in net.reactions)


def test_dsd_refuses_a_reaction_the_scheme_cannot_implement(tmp_path, capsys):
    path = _save(tmp_path, "2 Y -> Y")
    out = tmp_path / "design.pil"
    assert main(["dsd", str(path), "--scheme", "soloveichik2010", "-o", str(out)]) != 0
    err = capsys.readouterr()
    assert "use scheme 'qian2011'" in err.err + err.out
    assert not out.exists()


def test_dsd_option_errors(tmp_path, capsys):
    path = _save(tmp_path, "A -> B")
    out = tmp_path / "design.pil"
    assert main(["dsd", str(path), "-o", str(out), "--whole"]) != 0
    assert "--whole goes with --verify" in capsys.readouterr().err
    assert main(["dsd", str(path), "-o", str(path)]) != 0
    assert "same file" in capsys.readouterr().err
    assert main(["dsd", str(path), "-o", str(out), "--gate-leak", "-1"]) != 0
    assert "--gate-leak -1.0: give a rate constant >= 0 in /s" in capsys.readouterr().err
