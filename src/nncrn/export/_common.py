"""Pieces every exchange format shares: optional imports, ids, names and nncrn pragmas.

Species names are the same identifiers in every format (nncrn names are already ASCII
identifiers, which is what SBML ``SId``, Antimony and CRN-text identifiers accept). A
foreign name that is not an identifier is sanitised once, by :func:`sanitise_names`, and
the mapping ``{new_name: original}`` is kept in ``metadata["renamed_species"]``.

Formats without annotations (Antimony, CRN text) carry what they cannot express natively
(roles, input ranges, readout, metadata) in *pragma* comment lines, one JSON object per
line, e.g. ``#@nncrn species {"name": "X_0", "role": "input", "input_range": [-1.0, null]}``.
Other tools read them as ordinary comments.
"""

from __future__ import annotations

import importlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from nncrn._errors import FormatError
from nncrn.network import ReactionNetwork, Readout
from nncrn.network._network import thaw_json

__all__ = [
    "PRAGMA",
    "MissingExtraError",
    "NncrnInfo",
    "element_ids",
    "import_optional",
    "layer_of",
    "nncrn_version",
    "parse_pragma",
    "pragma_lines",
    "sanitise_names",
]

PRAGMA = "@nncrn"


class MissingExtraError(ImportError):
    """An optional dependency of an exchange format is not installed."""


def import_optional(module: str, what: str, extra: str = "interop") -> ModuleType:
    """Import ``module`` lazily; a missing package names the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(
            f"{what} needs the optional package {module!r}, which is not installed; "
            f"install it with: pip install 'nncrn[{extra}]'"
        ) from None


def nncrn_version() -> str:
    """Installed nncrn version, written into exported files as provenance."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nncrn")
    except PackageNotFoundError:
        return "unknown"


def fresh(base: str, taken: set[str]) -> str:
    """``base`` or ``base_``, ``base__``, ... : the first not in ``taken`` (which it joins)."""
    name = base
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def element_ids(network: ReactionNetwork) -> tuple[str, list[str], list[str]]:
    """Compartment id, reaction ids ``r{i}`` and rate-parameter ids ``k_r{i}``.

    SBML and Antimony share one namespace between species, compartments, parameters and
    reactions, so an id that a species already uses gets a trailing ``_``.
    """
    taken = set(network.species_names)
    compartment = fresh("cell", taken)
    reactions = [fresh(f"r{i}", taken) for i in range(network.n_reactions)]
    params = [fresh(f"k_r{i}", taken) for i in range(network.n_reactions)]
    return compartment, reactions, params


_NOT_ID = re.compile(r"[^A-Za-z0-9_]")


def sanitise_names(names: Iterable[str]) -> dict[str, str]:
    """Map each foreign name to an identifier: invalid characters become ``_``.

    A name that would start with a digit gets an ``s_`` prefix; a clash with another name
    gets ``_2``, ``_3``, ... Valid identifiers map to themselves and win clashes.
    """
    names = list(dict.fromkeys(names))
    valid = {n for n in names if n.isascii() and n.isidentifier()}
    taken = set(valid)
    out: dict[str, str] = {}
    for n in names:
        if n in valid:
            out[n] = n
            continue
        base = _NOT_ID.sub("_", n) or "_"
        if base[0].isdigit():
            base = "s_" + base
        cand, i = base, 2
        while cand in taken:
            cand, i = f"{base}_{i}", i + 1
        taken.add(cand)
        out[n] = cand
    return out


@dataclass
class NncrnInfo:
    """What a format carries beyond reactions: per-species extras, readout, metadata."""

    species: dict[str, dict[str, Any]] = field(default_factory=dict)
    readout: list[Readout] | None = None
    metadata: dict[str, Any] | None = None


def _range_to_json(rng: tuple[float, float] | None) -> list | None:
    if rng is None:
        return None
    return [rng[0], None if math.isinf(rng[1]) else rng[1]]


def range_from_json(value: object, where: str) -> tuple[float, float] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        raise FormatError(f"{where}: input_range must be [low, high] or null, got {value!r}")
    return (value[0], math.inf if value[1] is None else value[1])


def pragma_lines(network: ReactionNetwork, comment: str, *, initial: bool) -> list[str]:
    """The pragma comment lines that carry roles, input ranges, readout and metadata."""
    lines = []
    for s in network.species:
        entry: dict[str, Any] = {"name": s.name, "role": s.role.value}
        if initial:
            entry["initial"] = s.initial
        if s.input_range is not None:
            entry["input_range"] = _range_to_json(s.input_range)
        lines.append(f"{comment}{PRAGMA} species {json.dumps(entry)}")
    for ro in network.readout or ():
        entry = {"name": ro.name, "plus": ro.plus, "minus": ro.minus}
        lines.append(f"{comment}{PRAGMA} readout {json.dumps(entry)}")
    lines.append(f"{comment}{PRAGMA} metadata {json.dumps(thaw_json(network.metadata))}")
    return lines


def parse_pragma(body: str, info: NncrnInfo, where: str) -> None:
    """Add one pragma (the text after ``@nncrn``) to ``info``; malformed ones are errors."""
    kind, _, payload = body.strip().partition(" ")
    try:
        value = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise FormatError(f"{where}: malformed @nncrn {kind} pragma ({exc.msg})") from None
    if kind == "species":
        if not isinstance(value, dict) or not isinstance(value.get("name"), str):
            raise FormatError(f"{where}: @nncrn species pragma needs an object with a 'name'")
        if value["name"] in info.species:
            raise FormatError(f"{where}: species {value['name']!r} is declared twice")
        value["input_range"] = range_from_json(value.get("input_range"), where)
        info.species[value["name"]] = value
    elif kind == "readout":
        if not isinstance(value, dict):
            raise FormatError(f"{where}: @nncrn readout pragma needs an object")
        try:
            ro = Readout(value["name"], value["plus"], value.get("minus"))
        except KeyError as exc:
            raise FormatError(f"{where}: @nncrn readout pragma lacks {exc.args[0]!r}") from None
        info.readout = [*(info.readout or []), ro]
    elif kind == "metadata":
        if not isinstance(value, dict):
            raise FormatError(f"{where}: @nncrn metadata pragma must hold a JSON object")
        info.metadata = value
    else:
        raise FormatError(
            f"{where}: unknown pragma '@nncrn {kind}'; known: species, readout, metadata"
        )


_LAYER = re.compile(r"^(.*?\blayer\s*\d+)", re.IGNORECASE)


def layer_of(label: str) -> str | None:
    """The ``... layer N`` prefix of a reaction label, used to group reactions in text."""
    m = _LAYER.match(label)
    return m.group(1) if m else None


def provenance_text(network: ReactionNetwork) -> str:
    """One human-readable line of provenance for file headers and SBML notes."""
    meta: Mapping[str, Any] = network.metadata
    parts = [f"nncrn {nncrn_version()}"]
    for key in ("source", "scheme", "eps"):
        if key in meta:
            value = meta[key]
            text = json.dumps(thaw_json(value)) if not isinstance(value, str) else value
            parts.append(f"{key}: {text}")
    return "; ".join(parts)
