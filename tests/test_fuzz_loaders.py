"""Fuzz the loaders with damaged files: every answer is a network or an nncrn error.

Valid network JSON, SBML, Antimony and CRN text (written by nncrn, so every feature of
each format appears) are mutated with a fixed seed: flipped bytes, truncation, deleted
and duplicated tokens, huge numbers, deep nesting and odd unicode. Each mutant goes to the
library reader (``network_from_json``, ``from_sbml``, ``from_antimony``, ``from_crn_text``),
where only the errors of :mod:`nncrn._errors` may escape, and a share of them to the CLI
in-process (``nncrn import FILE -o out.json``; ``nncrn export`` for network JSON), which
must exit 0 or 2, with a line starting ``error:`` for 2. The default run is bounded (150
cases per format, at most 40 s); ``NNCRN_FUZZ_CASES`` and ``NNCRN_FUZZ_SECONDS`` set both
for a longer sweep.
"""

from __future__ import annotations

import math
import os
import random
import re
import time
import traceback

import pytest

from nncrn import _errors
from nncrn.cli import main
from nncrn.export import from_antimony, from_crn_text, from_sbml, to_antimony, to_crn_text, to_sbml
from nncrn.network import Reaction, ReactionNetwork, Readout, Species, network_from_json

CASES = int(os.environ.get("NNCRN_FUZZ_CASES", "150"))  # per format, library
CLI_SHARE = 5  # every 5th mutant also goes through the CLI
SECONDS = float(os.environ.get("NNCRN_FUZZ_SECONDS", "40"))  # all formats together
DOCUMENTED = tuple(
    getattr(_errors, name) for name in _errors.__all__ if isinstance(getattr(_errors, name), type)
)
DOCUMENTED = tuple(c for c in DOCUMENTED if issubclass(c, BaseException))

HUGE = ["1e400", "-1e400", "1e-400", "9" * 5000, "1" * 40, "2e308", "18446744073709551616",
        "NaN", "INF", "-0", "0", "1e300", "32769", "1000000"]  # fmt: skip
ODD = ["\u2028", "\x00", "\ufeff", "\u202e", "é", "😀", "\x85", "\r", "\ud800", "\udfff", "'", '"',
       "\\", "<", "&amp;", "&#0;", "]]>", "<!--", "*/", "/*", "#", "//", "@nncrn", "import"]  # fmt: skip
NEST = ["[", "{", "(", "<apply><times/>", "<a>", "((", '{"a":']


def seed_network() -> ReactionNetwork:
    species = [Species("X0", "input", 0.0, (-1.0, math.inf)), Species("X1", "input", 0.5),
               Species("Y", "output", 0.25), Species("H", "hidden")]  # fmt: skip
    reactions = [
        Reaction.parse("0 -> H", 0.001, "layer 1 neuron 0 eps"),
        Reaction.parse("2 H -> H", 1.0, "layer 1 neuron 0 decay & <tag>"),
        Reaction.parse("X0 + H -> X0 + 2 H", 0.1 + 0.2, 'layer 1 w0 "quoted"'),
        Reaction.parse("X1 + H -> X1", 1 / 3, "layer 1 w1\ttab"),
        Reaction.parse("H + Y -> H + 2 Y", 2.5e-7),
        Reaction.parse("3 Y -> Y", 1e12, "layer 2 decay"),
    ]
    meta = {"scheme": {"name": "smooth_relu", "eps": 0.001}, "feature_names": ["a", "b"],
            "classes": ["no", "yes"], "source": "fuzz seed", "nested": {"x": [1, 2.5, None]}}  # fmt: skip
    return ReactionNetwork(species, reactions, [Readout("out", "Y")], meta)


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+|\s+|[^\w\s]", text)


def mutate(text: str, rng: random.Random) -> str:
    """One to three random edits of ``text``."""
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(8)
        if not text:
            text = rng.choice(ODD)
            continue
        pos = rng.randrange(len(text))
        if kind == 0:  # flip a byte (through UTF-8, keeping a str)
            raw = bytearray(text.encode("utf-8", "surrogatepass"))
            i = rng.randrange(len(raw))
            raw[i] ^= 1 << rng.randrange(8)
            text = raw.decode("utf-8", "replace")
        elif kind == 1:  # truncate
            text = text[:pos]
        elif kind in (2, 3):  # delete or duplicate a run of tokens
            toks = _tokens(text)
            i = rng.randrange(len(toks))
            j = min(len(toks), i + rng.randint(1, 4))
            toks[i:j] = [] if kind == 2 else toks[i:j] * rng.randint(2, 50)
            text = "".join(toks)
        elif kind == 4:  # replace a number by a huge or odd one
            nums = list(re.finditer(r"\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", text))
            if nums:
                m = rng.choice(nums)
                text = text[: m.start()] + rng.choice(HUGE) + text[m.end() :]
        elif kind == 5:  # deep nesting
            opener = rng.choice(NEST)
            text = text[:pos] + opener * rng.choice([10, 600, 3000, 20_000]) + text[pos:]
        elif kind == 6:  # odd unicode or syntax
            text = text[:pos] + rng.choice(ODD) + text[pos:]
        else:  # swap two lines
            lines = text.split("\n")
            a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
    return text


def _formats():
    net = seed_network()
    out = [("json", net.to_json(), network_from_json, ".json"),
           ("crn", to_crn_text(net), from_crn_text, ".crn")]  # fmt: skip
    try:
        import libsbml  # noqa: F401

        out.append(("sbml", to_sbml(net), from_sbml, ".xml"))
    except ImportError:
        pass
    try:
        import antimony  # noqa: F401

        out.append(("antimony", to_antimony(net), from_antimony, ".ant"))
    except ImportError:
        pass
    return out


FORMATS = _formats()


def _cli(path, out, fmt: str) -> list[str]:
    if fmt == "json":
        return ["export", str(path), "--format", "crn", "-o", str(out.with_suffix(".crn"))]
    return ["import", str(path), "-o", str(out)]


@pytest.mark.parametrize("fmt, seed, reader, ext", FORMATS, ids=[f[0] for f in FORMATS])
def test_damaged_files_give_documented_errors_only(fmt, seed, reader, ext, tmp_path, capsys):
    assert reader(seed) is not None  # the seed itself reads
    rng = random.Random(f"nncrn-fuzz-{fmt}")
    crashes: list[str] = []
    start = time.monotonic()
    counts = {"read": 0, "refused": 0, "cli": 0}
    for case in range(CASES):
        if time.monotonic() - start > SECONDS / len(FORMATS):
            break
        text = mutate(seed, rng)
        try:
            reader(text)
            counts["read"] += 1
        except DOCUMENTED:
            counts["refused"] += 1
        except Exception:  # the failure this test exists to find
            crashes.append(f"case {case}: {traceback.format_exc(limit=-3)}\ninput: {text[:300]!r}")
        if case % CLI_SHARE:
            continue
        counts["cli"] += 1
        path = tmp_path / f"in{ext}"
        # a file holds UTF-8 bytes: a lone surrogate cannot be written, so it becomes U+FFFD
        path.write_bytes(text.encode("utf-8", "replace"))
        capsys.readouterr()
        try:
            code = main(_cli(path, tmp_path / "out.json", fmt))
        except SystemExit as exc:  # argparse
            code = exc.code
        except Exception:
            crashes.append(f"CLI case {case}: {traceback.format_exc(limit=-3)}\ninput: {text[:300]!r}")
            continue
        err = capsys.readouterr().err
        if code not in (0, 2) or (code == 2 and not err.startswith("error:")):
            crashes.append(f"CLI case {case}: exit {code}, stderr {err[:300]!r}\ninput: {text[:300]!r}")
    print(f"{fmt}: {counts}")
    assert counts["read"] + counts["refused"] + len(crashes) >= min(CASES, 30)
    assert not crashes, f"{len(crashes)} crashes, first:\n" + "\n\n".join(crashes[:3])
