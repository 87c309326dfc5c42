"""Versioned JSON persistence of :class:`ReactionNetwork` (never pickle).

Format ``nncrn.network`` version 1::

    {"format": "nncrn.network", "version": 1, "kinetics": "mass_action",
     "species": [{"name": "X0", "role": "input", "initial": 0.0,
                  "input_range": [-1.5, 2.0] | null}, ...],
     "reactions": [{"reactants": {"X0": 1, "Y0": 1}, "products": {"X0": 1, "Y0": 2},
                    "rate": 0.25, "label": "..."}, ...],
     "readout": [{"name": "class_0", "plus": "Y0", "minus": null}, ...],
     "metadata": {...}}

Floats are written with Python's shortest round-trip repr, so a save/load round trip is
exact. An unbounded input range is written as ``null`` for ``high`` (JSON has no inf).
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nncrn._errors import FormatError, InputError
from nncrn.network._jsontext import loads
from nncrn.network._metadata import thaw_json
from nncrn.network._reaction import KINETICS, Reaction
from nncrn.network._readout import Readout

if TYPE_CHECKING:  # annotations only: the network module imports this one
    from nncrn.network._network import ReactionNetwork
from nncrn.network._species import Species

__all__ = ["FORMAT", "VERSION", "network_to_json", "parse_network", "read_network_text", "save"]

FORMAT = "nncrn.network"
VERSION = 1


def network_to_json(network: ReactionNetwork) -> str:
    """Serialise ``network`` to JSON text (format ``nncrn.network`` version 1)."""
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "kinetics": KINETICS,
        "species": [
            {
                "name": s.name,
                "role": s.role.value,
                "initial": s.initial,
                "input_range": None
                if s.input_range is None
                else [s.input_range[0], None if math.isinf(s.input_range[1]) else s.input_range[1]],
            }
            | ({"input_scale": s.input_scale} if s.input_scale != 1.0 else {})
            for s in network.species
        ],
        "reactions": [
            {"reactants": dict(r.reactants), "products": dict(r.products), "rate": r.rate}
            | ({"label": r.label} if r.label else {})
            for r in network.reactions
        ],
        "readout": [
            {"name": ro.name, "plus": ro.plus, "minus": ro.minus}
            for ro in network.readout  # type: ignore[union-attr]
        ],
        "metadata": thaw_json(network.metadata),
    }
    return json.dumps(doc, indent=1, allow_nan=False)


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _require(doc: dict, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in doc:
        raise FormatError(f"network JSON: {where} has no {key!r} entry")
    value = doc[key]
    # JSON true/false are Python bools, which are ints: not a number here
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _kinds(kind)):
        names = kind.__name__ if isinstance(kind, type) else "number"
        raise FormatError(
            f"network JSON: {where}.{key} must be a {names}, got {type(value).__name__}"
        )
    return value


def parse_network(text: str | bytes) -> tuple[tuple, tuple, tuple, dict]:
    """The parts ``(species, reactions, readout, metadata)`` of network JSON, checked.

    :func:`nncrn.network.network_from_json` builds the network from them. Raises
    :class:`~nncrn.FormatError` for malformed JSON, another format, a newer version or
    another kinetics convention (and the parts' own :class:`~nncrn.NetworkError`).
    """
    if not isinstance(text, str | bytes | bytearray):
        raise FormatError(
            f"network JSON must be text (str, or UTF-8 bytes), got {type(text).__name__}; "
            "read a network file with ReactionNetwork.load(path)"
        )
    try:
        doc = loads(text, "network JSON", "; the file must be one written by "
                    "ReactionNetwork.save or `nncrn compile`")  # fmt: skip
    except UnicodeDecodeError as exc:
        raise FormatError(_not_utf8("network JSON", exc)) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise FormatError(
            f"not an nncrn network file: expected \"format\": {FORMAT!r}, found {found!r}"
        )
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version != VERSION:
        raise FormatError(
            f"network file has format version {version!r}; this nncrn reads version {VERSION}. "
            "Upgrade nncrn to read newer files, or re-export the network with this version"
        )
    if doc.get("kinetics") != KINETICS:
        raise FormatError(
            f"network file uses kinetics {doc.get('kinetics')!r}; nncrn networks use {KINETICS!r} "
            "(mass action without factorials)"
        )
    species = []
    for i, s in enumerate(_require(doc, "species", list, "document")):
        where = f"species[{i}]"
        if not isinstance(s, dict):
            raise FormatError(f"network JSON: {where} must be an object")
        rng = s.get("input_range")
        if rng is not None:
            if not isinstance(rng, list) or len(rng) != 2:
                raise FormatError(f"network JSON: {where}.input_range must be [low, high]")
            rng = (rng[0], math.inf if rng[1] is None else rng[1])
        species.append(
            Species(
                _require(s, "name", str, where),
                s.get("role", "auxiliary"),
                _require(s, "initial", (int, float), where) if "initial" in s else 0.0,
                rng,
                _require(s, "input_scale", (int, float), where) if "input_scale" in s else 1.0,
            )
        )
    reactions = []
    for i, r in enumerate(_require(doc, "reactions", list, "document")):
        where = f"reactions[{i}]"
        if not isinstance(r, dict):
            raise FormatError(f"network JSON: {where} must be an object")
        reactions.append(
            Reaction(
                _require(r, "reactants", dict, where),
                _require(r, "products", dict, where),
                _require(r, "rate", (int, float), where),
                r.get("label", ""),
            )
        )
    readout = []
    for i, ro in enumerate(_require(doc, "readout", list, "document")):
        where = f"readout[{i}]"
        if not isinstance(ro, dict):
            raise FormatError(f"network JSON: {where} must be an object")
        minus = ro.get("minus")
        if minus is not None and not isinstance(minus, str):
            raise FormatError(f"network JSON: {where}.minus must be a species name or null")
        readout.append(Readout(_require(ro, "name", str, where), _require(ro, "plus", str, where), minus))
    metadata = doc.get("metadata", {})
    if not isinstance(metadata, dict):
        raise FormatError("network JSON: metadata must be an object")
    return tuple(species), tuple(reactions), tuple(readout), metadata


def _not_utf8(what: str, exc: UnicodeDecodeError) -> str:
    return (
        f"{what} is not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at position "
        f"{exc.start}); a network file is the JSON written by ReactionNetwork.save or "
        "`nncrn compile` — check that this is such a file and not, e.g., SBML or a binary file"
    )


def save(network: ReactionNetwork, path: str | os.PathLike) -> None:
    """Write ``network`` to ``path`` atomically (a failed write leaves no partial file).

    The directory of ``path`` must exist: an :class:`~nncrn.InputError` says so otherwise.
    """
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        problem = "is not a directory" if parent.exists() else "does not exist"
        raise InputError(
            f"cannot save the network to {str(path)!r}: the directory {str(parent)!r} "
            f"{problem}; create it first (e.g. Path({str(parent)!r}).mkdir(parents=True)) or "
            "choose another path"
        )
    if path.is_dir():
        raise InputError(
            f"cannot save the network to {str(path)!r}: it is a directory; give a file name, "
            f"e.g. {str(path / 'network.json')!r}"
        )
    text = network_to_json(network)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield the path to write in place of ``path``; it becomes ``path`` only if the block succeeds.

    The one way nncrn writes an output file. A regular file (or a new one) is written to a
    temporary file with a unique name in the same directory, then renamed over ``path``,
    so a failure leaves neither a partial file nor a stray temporary one, and no other
    file (such as a user's ``net.json.tmp``) is touched. A symbolic link is followed: its
    target is replaced and the link kept. A device or named pipe (``/dev/stdout``, a FIFO)
    cannot be renamed over, so it is yielded itself and written directly. A replaced file
    keeps its permission bits; a new one gets those a plain ``open`` would give it.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:  # a new file, or a link to one
        mode = None
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        yield Path(path)
        return
    target = Path(os.path.realpath(path))
    if mode is None:
        umask = os.umask(0)  # read the umask (it cannot be read without setting it)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, stat.S_IMODE(mode))  # mkstemp creates 0600
    finally:
        os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def read_network_text(path: str | os.PathLike) -> str:
    """The text of a network file (for :func:`nncrn.network.load`), UTF-8 checked."""
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"network file {str(path)!r} does not exist or is not a file")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(_not_utf8(f"network file {str(path)!r}", exc)) from None
    return text
