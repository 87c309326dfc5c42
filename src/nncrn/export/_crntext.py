"""Plain CRN text, the reaction-list format of DNA-strand-displacement compilers.

Format (that of Nuskell and crnsimulator, which accept it unchanged)::

    # comment
    A + B -> C + 2 D [k = 0.5]
     -> Y [k = 0.001]           # an empty side is the empty complex
    A + C <=> D [kf = 1.0, kr = 2.5]
    X -> Y [k = 1e-3]; Y -> [k = 2]

* one reaction per statement, statements separated by newlines or ``;``;
* a coefficient precedes its name, separated by whitespace or ``*`` (``2 D``, ``2*D``);
  ``0`` (or ``∅``) alone, or nothing, is the empty side. A term like ``2D`` or ``3PG`` is
  refused as ambiguous (Nuskell reads ``3PG`` as 3 ``PG``, other tools as a species named
  ``3PG``): write ``3 PG`` for the coefficient, and give species names that start with a
  letter or ``_``. A number where a species should be (``10 -> X``, ``A + 0 -> B``) is an
  error, not a species;
* the rate is ``[k = number]`` after an irreversible ``->``, ``[kf = a, kr = b]`` after a
  reversible ``<=>`` (read as two irreversible reactions); numbers are decimal or
  scientific (``1e-3``, ``2.5E+04``) and must be finite and > 0 (``[k = 0]``, ``[k = -1]``
  and ``[k = 1e400]``, which overflows, are errors naming the line). The writer prints
  Python's shortest round-trip repr, so a text round trip is exact, and never writes ``0``
  for an empty side;
* kinetics: mass action without factorials, as everywhere in nncrn (``2 Y -> Y [k = 1]``
  means ``dy/dt = -y^2``);
* a trailing ``# comment`` on a reaction line is its label (the writer collapses runs of
  whitespace in labels, line breaks included, to one space; other characters are kept);
  other comments are ignored. Header comments carry provenance on one line, with line
  breaks and control characters of ``metadata["source"]`` flattened to spaces;
* a UTF-8 byte-order mark at the start of the text is ignored;
* nncrn's own files carry species (role, initial concentration, input range), readout and
  metadata in ``#@nncrn`` pragma lines (see :mod:`nncrn.export._common`). When species are
  declared there, a reaction naming an undeclared species is an error; an ``initial``
  must be a number (``true`` is refused). Without pragmas, species appear in order of
  first use with role ``auxiliary`` and initial 0.

Names that are not identifiers (``x'``, ``A-1``, ``s.2``) are sanitised
(:func:`~nncrn.export._common.sanitise_names`) and the mapping is kept in
``metadata["renamed_species"]``. Nuskell identifiers must start with a letter; an nncrn
name starting with ``_`` is written unchanged, so rename such species before handing the
text to Nuskell. A reaction given twice and any text that is none of the above are
errors naming the line.
"""

from __future__ import annotations

import math
import re

from nncrn._errors import FormatError, InputError, NetworkError
from nncrn.export._common import (
    PRAGMA,
    NncrnInfo,
    layer_of,
    one_line,
    parse_pragma,
    pragma_lines,
    provenance_text,
    sanitise_names,
)
from nncrn.export._sbml_inputs import with_inputs
from nncrn.network import Reaction, ReactionNetwork, Species, require_network
from nncrn.network._grammar import parse_terms
from nncrn.network._numbers import as_real

__all__ = ["from_crn_text", "to_crn_text"]

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_STATEMENT = re.compile(r"^(?P<lhs>[^<>\[\]]*?)(?P<arrow><=>|->)(?P<rhs>[^<>\[\]]*?)"
                        r"(?:\[(?P<rates>[^\]]*)\])?\s*$")  # fmt: skip
_K = re.compile(rf"^\s*k\s*=\s*({_NUMBER})\s*$")
_KFR = re.compile(rf"^\s*kf\s*=\s*({_NUMBER})\s*,\s*kr\s*=\s*({_NUMBER})\s*$")


def _side(side) -> str:
    return " + ".join(s if c == 1 else f"{c} {s}" for s, c in side.items())


def to_crn_text(network: ReactionNetwork, *, inputs: object = None) -> str:
    """CRN text of ``network``: pragma header, then one ``A + B -> C [k = rate]`` per line.

    ``inputs``: one row of features whose concentrations the input species start at (as
    :func:`~nncrn.export.to_sbml`). The readout is in the pragmas, and in a comment
    (``# output setosa = Y0p - Y0n``) for a reader.
    """
    network = require_network(network, "to_crn_text")
    network, _ = with_inputs(network, inputs, "to_crn_text")
    lines = [
        f"# nncrn reaction network ({provenance_text(network)})",
        "# Mass action without factorials: '2 Y -> Y [k = 1]' means dy/dt = -y^2.",
        *pragma_lines(network, "#", initial=True),
    ]
    classes = network.metadata.get("classes")
    readout = network.readout or ()
    names = ([str(c) for c in classes]
             if isinstance(classes, list | tuple) and len(classes) == len(readout)
             else [ro.name for ro in readout])  # fmt: skip
    for name, ro in zip(names, readout, strict=True):
        formula = ro.plus if ro.minus is None else f"{ro.plus} - {ro.minus}"
        lines.append(f"# output {one_line(name)} = {formula}")
    group = None
    lines.append("")
    for r in network.reactions:
        key = layer_of(r.label)
        if key is not None and key != group:
            group = key
            lines += ["", f"# --- {one_line(key)}"]
        label = one_line(r.label, keep_controls=True)
        note = f"  # {label}" if label else ""
        lines.append(f"{_side(r.reactants)} -> {_side(r.products)} [k = {r.rate!r}]{note}")
    return "\n".join(lines) + "\n"


def _rate(literal: str, where: str, what: str) -> float:
    value = float(literal)
    if math.isinf(value):
        raise FormatError(
            f"{where}: rate constant {what} = {literal} overflows a double (it reads as inf); "
            "rate constants must be finite and > 0, below about 1.8e308"
        )
    if not value > 0:
        raise FormatError(
            f"{where}: rate constant {what} = {literal}; rate constants must be finite and > 0 "
            "(drop a reaction whose rate is 0, e.g. write 'A -> B [k = 1]' for a '<=>' whose "
            "kr is 0; a negative rate has no meaning in mass action)"
        )
    return value


def _rates(arrow: str, rates: str | None, default: float | None, where: str) -> list[float]:
    n = 1 if arrow == "->" else 2
    if rates is None:
        if default is None:
            raise FormatError(
                f"{where}: the reaction has no rate constant; write "
                + ("'[k = 0.5]'" if n == 1 else "'[kf = 1, kr = 0.5]'")
                + " after it, or pass default_rate= to from_crn_text"
            )
        return [default] * n
    m = (_K if n == 1 else _KFR).match(rates)
    if m is None:
        want = "[k = number]" if n == 1 else "[kf = number, kr = number]"
        raise FormatError(f"{where}: cannot read rate '[{rates}]'; expected {want} after {arrow}")
    names = ["k"] if n == 1 else ["kf", "kr"]
    return [_rate(g, where, name) for g, name in zip(m.groups(), names, strict=True)]


def from_crn_text(text: str, *, default_rate: float | None = None) -> ReactionNetwork:
    """Read CRN text (see the module docstring) into a network.

    ``default_rate`` is used for reactions written without ``[k = ...]`` (Nuskell's
    default is 1); by default such a reaction is an error, so no rate is ever guessed.
    """
    if not isinstance(text, str):
        raise FormatError(f"from_crn_text expects text (str), got {type(text).__name__}")
    if default_rate is not None:
        rate = as_real(default_rate)
        if rate is None or not (math.isfinite(rate) and rate > 0):
            raise InputError(
                f"default_rate must be a finite number > 0 (the rate constant of reactions "
                f"written without '[k = ...]'), or None to require one; got {default_rate!r}"
            )
        default_rate = rate
    text = text.removeprefix("\ufeff")
    info = NncrnInfo()
    raw: list[tuple[list, list, float, str, int]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        where = f"CRN text line {lineno}"
        stripped = line.strip()
        if stripped.startswith(f"#{PRAGMA}"):
            parse_pragma(stripped[len(PRAGMA) + 1 :], info, where)
            continue
        body, _, comment = line.partition("#")
        if not body.strip():
            continue
        for statement in body.split(";"):
            if not statement.strip():
                continue
            m = _STATEMENT.match(statement.strip())
            if m is None:
                raise FormatError(
                    f"{where}: cannot read {statement.strip()!r}; expected a reaction such as "
                    "'A + B -> C [k = 0.5]' or 'A <=> B [kf = 1, kr = 2]'"
                )
            try:
                lhs = parse_terms(m["lhs"], where, foreign_names=True)
                rhs = parse_terms(m["rhs"], where, foreign_names=True)
            except NetworkError as exc:
                raise FormatError(str(exc)) from None
            ks = _rates(m["arrow"], m["rates"], default_rate, where)
            label = comment.strip()
            raw.append((lhs, rhs, ks[0], label, lineno))
            if len(ks) == 2:
                raw.append((rhs, lhs, ks[1], f"{label} (reverse)".strip(), lineno))
    return _build(raw, info)


def _build(raw, info: NncrnInfo) -> ReactionNetwork:
    used = [name for lhs, rhs, *_ in raw for name, _ in (*lhs, *rhs)]
    declared = list(info.species)
    if declared:
        for lhs, rhs, _, _, lineno in raw:
            for name, _ in (*lhs, *rhs):
                if name not in info.species:
                    raise FormatError(
                        f"CRN text line {lineno}: unknown species {name!r}; the file declares "
                        f"its species in '#@nncrn species' lines ({len(declared)} declared). "
                        "Declare it or fix the name"
                    )
    mapping = sanitise_names(declared + used)
    renamed = {new: old for old, new in mapping.items() if new != old}
    species = []
    for old in dict.fromkeys(declared + used):
        extra = info.species.get(old, {})
        initial = extra.get("initial", 0.0)  # checked by parse_pragma
        species.append(Species(mapping[old], extra.get("role", "auxiliary"), initial,
                               extra.get("input_range"), extra.get("input_scale", 1.0)))  # fmt: skip
    seen: dict[tuple, int] = {}
    reactions = []
    for lhs, rhs, k, label, lineno in raw:
        r = Reaction(_merge(lhs, mapping), _merge(rhs, mapping), k, label)
        if r.key() in seen:
            raise FormatError(
                f"CRN text line {lineno}: reaction {r.equation()} already appears on line "
                f"{seen[r.key()]}; give each reaction once (merge them: rate constants add)"
            )
        seen[r.key()] = lineno
        reactions.append(r)
    metadata = dict(info.metadata) if info.metadata is not None else {"source": {"format": "crn"}}
    if renamed:
        metadata["renamed_species"] = renamed
    readout = tuple(info.readout or ()) if info.metadata is not None or info.readout else None
    return ReactionNetwork(tuple(species), tuple(reactions), readout, metadata)


def _merge(side: list[tuple[str, int]], mapping: dict[str, str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for name, c in side:
        out[mapping[name]] = out.get(mapping[name], 0) + c
    return out
