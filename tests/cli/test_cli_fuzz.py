"""Fuzz the CLI with damaged files: every answer is a result or one ``error:`` line, never a
traceback.

``compile``, ``simulate``, ``info`` and ``export`` run in-process on mutated copies of a
model.json, a network JSON and an inputs CSV (fixed seed). A run may succeed (0), fail on
bad input (2) or fail to compute (1); a failure prints ``error: ...`` last on stderr.
The one exit 1 without an error line is ``simulate``'s documented answer when some rows
did not converge: it writes the CSV (with the per-row flag) and says so on stdout.
The default run is bounded in cases and in seconds; ``-m slow`` runs a longer sweep.
"""

from __future__ import annotations

import copy
import json
import math
import random
import time
import traceback
from pathlib import Path
from typing import Any

import pytest
import torch

from nncrn.cli import main
from nncrn.cli._models import save_model
from nncrn.compile import compile_network
from nncrn.nn import SmoothReLU

_VALUES: tuple[Any, ...] = (
    None, True, False, 0, 1, -1, 5, 2.5, -0.3, 1e308, -1e308, 1e-320, math.nan, math.inf,
    -math.inf, 10**30, "", "x", "Y0", "\ud800", "\x00", "a" * 300, [], {}, [[]], [1, 2],
    [[1.0, 2.0]], ["a", "b"], [0.5, None], {"a": 1}, [[0, 1], [0, 1]],
)  # fmt: skip
_CSV_CELLS = ("", "nan", "inf", "-inf", "1e400", "abc", '"', '"0.5', "\x00", "-5", "0",
              "1e-320", "\ud800", "9" * 200_000, " 0.5 ", "0x10", "1_0")  # fmt: skip


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (keys and indices) to a node of a JSON document, the root included."""
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _mutate_json(doc: Any, rng: random.Random) -> tuple[Any, str]:
    """One random change to a copy of ``doc``; returns it and a description."""
    doc = copy.deepcopy(doc)
    path = rng.choice(_paths(doc)[1:])
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    op = rng.choice(("replace", "replace", "replace", "delete", "duplicate", "number"))
    value = parent[key]
    if op == "delete":
        del parent[key]
    elif op == "duplicate" and isinstance(parent, list):
        parent.insert(key, copy.deepcopy(value))
    elif op == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        parent[key] = value * rng.choice((-1, 0, 1e6, 1e300, 1e-300, math.nan))
    else:
        op = "replace"
        parent[key] = copy.deepcopy(rng.choice(_VALUES))
    shown = "" if op in ("delete", "duplicate") else f" = {repr(parent[key])[:40]}"
    return doc, f"{op} {'/'.join(map(str, path))}{shown}"


def _mutate_text(text: str, rng: random.Random) -> tuple[bytes, str]:
    """Byte-level damage: truncation, a flipped byte, an inserted run of bytes."""
    data = text.encode("utf-8")
    i = rng.randrange(len(data))
    op = rng.choice(("truncate", "flip", "insert"))
    if op == "truncate":
        return data[:i], f"truncate at {i}"
    if op == "flip":
        return data[:i] + bytes([rng.randrange(256)]) + data[i + 1 :], f"flip byte {i}"
    junk = rng.choice((b"\xff\xfe", b"\x00", b'"', b"{", b"]", b",", b"\xc3"))
    return data[:i] + junk + data[i:], f"insert {junk!r} at {i}"


def _mutate_csv(header: list[str], rows: list[list[str]], rng: random.Random) -> tuple[bytes, str]:
    header, rows = list(header), [list(r) for r in rows]
    op = rng.choice(("cell", "cell", "cell", "header", "drop_column", "extra_cell", "empty",
                     "header_only", "bom", "bytes"))  # fmt: skip
    if op == "cell":
        r, c = rng.randrange(len(rows)), rng.randrange(len(header))
        rows[r][c] = rng.choice(_CSV_CELLS)
        what = f"cell {r},{c} = {rows[r][c][:20]!r}"
    elif op == "header":
        c = rng.randrange(len(header))
        header[c] = rng.choice(("", "X0", "X1", "width", "\ud800", "label", "Y0p"))
        what = f"header {c} = {header[c]!r}"
    elif op == "drop_column":
        c = rng.randrange(len(header))
        del header[c]
        rows = [r[:c] + r[c + 1 :] for r in rows]
        what = f"drop column {c}"
    elif op == "extra_cell":
        rows[rng.randrange(len(rows))].append("1")
        what = "extra cell"
    elif op == "empty":
        return b"", "empty file"
    elif op == "header_only":
        rows = []
        what = "header only"
    elif op == "bom":
        return "\ufeff".encode("utf-16") + ",".join(header).encode("utf-16"), "UTF-16"
    else:
        text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
        return _mutate_text(text, rng)
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    return text.encode("utf-8", "surrogatepass"), what


class Fuzzer:
    """Base files in ``folder`` and the mutated cases run against them."""

    def __init__(self, folder: Path):
        self.folder = folder
        torch.manual_seed(0)
        model = torch.nn.Sequential(
            torch.nn.Linear(2, 3), SmoothReLU(0.01), torch.nn.Linear(3, 2)
        ).double()
        save_model(folder / "model.json", model,
                   {"eps": 0.01, "classes": ["no", "yes"], "feature_names": ["width", "height"],
                    "input_range": [[0.0, 1.0], [0.0, 1.0]]})  # fmt: skip
        compile_network(model).with_metadata(
            classes=["no", "yes"], feature_names=["width", "height"]
        ).save(folder / "net.json")
        self.model = json.loads((folder / "model.json").read_text())
        self.net = json.loads((folder / "net.json").read_text())
        self.header = ["X0", "X1"]
        self.rows = [["0.1", "0.2"], ["0.7", "0.4"]]
        self.csv = "X0,X1\n0.1,0.2\n0.7,0.4\n"
        self.counts: dict[int, int] = {}
        self.failures: list[str] = []

    def _json_file(self, name: str, doc: dict, rng: random.Random) -> str:
        if rng.random() < 0.15:
            data, what = _mutate_text(json.dumps(doc), rng)
        else:
            mutated, what = _mutate_json(doc, rng)
            data = json.dumps(mutated).encode("utf-8")
        (self.folder / name).write_bytes(data)
        return what

    def case(self, rng: random.Random) -> tuple[list[str], str]:
        """A random command on damaged files: ``(argv, what was damaged)``."""
        d = self.folder
        (d / "m.json").write_text(json.dumps(self.model))
        (d / "n.json").write_text(json.dumps(self.net))
        (d / "x.csv").write_text(self.csv)
        target = rng.choice(("model", "net", "net", "csv"))
        if target == "model":
            what = "model.json: " + self._json_file("m.json", self.model, rng)
        elif target == "net":
            what = "network: " + self._json_file("n.json", self.net, rng)
        else:
            data, what = _mutate_csv(self.header, self.rows, rng)
            (d / "x.csv").write_bytes(data)
            what = "csv: " + what
        m, n, x = str(d / "m.json"), str(d / "n.json"), str(d / "x.csv")
        commands = {
            "model": [["compile", m, "-o", str(d / "c.json")],
                      ["compile", m, "--argmax", "-o", str(d / "c.json")],
                      ["info", str(d / "net.json"), "--inputs", x, "--model", m, "--limit", "2",
                       "--t-max", "10", "--solver", "scipy"]],
            "net": [["simulate", n, "--inputs", x, "-o", str(d / "s.csv")],
                    ["info", n],
                    ["info", n, "--inputs", x, "--limit", "2", "--t-max", "10",
                     "--solver", "scipy"],
                    ["export", n, "--format", "crn", "-o", str(d / "e.crn")],
                    ["export", n, "--format", "sbml", "-o", str(d / "e.xml")]],
            "csv": [["simulate", str(d / "net.json"), "--inputs", x, "-o", str(d / "s.csv")],
                    ["info", str(d / "net.json"), "--inputs", x, "--model", m, "--limit", "2",
                     "--t-max", "10", "--solver", "scipy"]],
        }  # fmt: skip
        return rng.choice(commands[target]), what

    def run(self, argv: list[str], what: str, capsys: Any) -> None:
        for out in ("c.json", "s.csv", "e.crn", "e.xml"):
            (self.folder / out).unlink(missing_ok=True)
        try:
            code = main(argv)
        except BaseException as exc:  # a traceback: the finding this test exists for
            capsys.readouterr()
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if "nncrn" in f.filename]
            where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
            self.failures.append(f"{argv[0]} [{what}]: {type(exc).__name__}: {exc}{where}")
            return
        err = capsys.readouterr().err
        self.counts[code] = self.counts.get(code, 0) + 1
        last = err.strip().splitlines()[-1] if err.strip() else ""
        if code == 0 or (code == 1 and argv[0] == "simulate" and not last):
            return
        if code not in (1, 2) or not last.startswith("error: ") or "Traceback" in err:
            self.failures.append(f"{argv[0]} [{what}]: exit {code}, stderr {err.strip()[-200:]!r}")


def fuzz(folder: Path, capsys: Any, *, seed: int, cases: int, seconds: float) -> Fuzzer:
    """Run up to ``cases`` cases, stopping after ``seconds``; returns the fuzzer (counts)."""
    fz = Fuzzer(folder)
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    for _ in range(cases):
        if time.monotonic() > deadline:
            break
        argv, what = fz.case(rng)
        fz.run(argv, what, capsys)
    return fz


def _check(fz: Fuzzer) -> None:
    shown = "\n".join(sorted(set(fz.failures))[:30])
    assert not fz.failures, f"{len(fz.failures)} tracebacks or bad exits:\n{shown}"
    assert sum(fz.counts.values()) >= 20  # the deadline left room for real work


def test_cli_fuzz(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    _check(fuzz(tmp_path, capsys, seed=14, cases=300, seconds=40))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cli_fuzz_long(tmp_path, capsys, monkeypatch, seed):
    monkeypatch.setenv("COLUMNS", "200")
    _check(fuzz(tmp_path, capsys, seed=seed, cases=2000, seconds=600))
