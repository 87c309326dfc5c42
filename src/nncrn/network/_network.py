"""The central value: an immutable mass-action reaction network."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

import numpy as np

from nncrn._errors import InputError, NetworkError
from nncrn.network._json import network_to_json, parse_network, read_network_text
from nncrn.network._json import save as _save
from nncrn.network._metadata import check_metadata, thaw_json
from nncrn.network._reaction import KINETICS, Reaction
from nncrn.network._readout import Readout
from nncrn.network._species import Role, Species
from nncrn.network._stoich import StoichiometryView

__all__ = ["KINETICS", "ReactionNetwork", "Readout", "load", "network_from_json", "thaw_json"]



MAX_METADATA_DEPTH = 64
"""How deeply metadata containers may nest; nncrn's own metadata nests 4 levels deep."""


def _freeze_json(value: Any, where: str, depth: int = 0) -> Any:
    """Deep-copy a JSON-compatible value into immutable containers."""
    if isinstance(value, Mapping | list | tuple) and depth >= MAX_METADATA_DEPTH:
        raise NetworkError(
            f"metadata at {where} nests lists and objects more than {MAX_METADATA_DEPTH} levels "
            "deep; metadata is provenance (names, settings), so flatten it or drop that entry"
        )
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise NetworkError(f"metadata key {k!r} in {where} must be a string")
            out[k] = _freeze_json(v, f"{where}.{k}", depth + 1)
        return MappingProxyType(out)
    if isinstance(value, list | tuple):
        return tuple(_freeze_json(v, where, depth + 1) for v in value)
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NetworkError(f"metadata value {value!r} at {where} is not finite; JSON cannot hold it")
        return value
    raise NetworkError(
        f"metadata value at {where} has type {type(value).__name__}; metadata must be JSON "
        "(dicts with string keys, lists, strings, numbers, booleans, None)"
    )


def _as_tuple(value: object, what: str, example: str) -> tuple:
    """``tuple(value)`` for a list, tuple or other iterable; a :class:`NetworkError` otherwise."""
    if not (isinstance(value, str | bytes | Mapping) or value is None):
        try:
            return tuple(value)  # type: ignore[arg-type]
        except TypeError:
            pass
    raise NetworkError(
        f"ReactionNetwork({what}=...) must be a list or tuple, e.g. {what}={example}; got "
        f"{type(value).__name__}"
    )


@dataclass(frozen=True, eq=False)
class ReactionNetwork:
    """An immutable chemical reaction network under mass-action kinetics (:data:`KINETICS`).

    Parameters
    ----------
    species:
        The species, in the order used by every array axis of every result.
    reactions:
        Irreversible reactions; each names only species listed in ``species``. Two
        reactions with the same reactants and products are rejected (merge them: rates add).
    readout:
        What the network's output values are. Default: one :class:`Readout` per species
        of role ``OUTPUT``, in species order.
    metadata:
        JSON-compatible provenance (source model, scheme, eps, ...), None for none. Never
        used in numerics. The keys nncrn itself reads (``feature_names``, ``classes``,
        ``scheme``, ``layers``, ``output_stage``, ``renamed_species``) must have the shape
        nncrn writes; see :func:`nncrn.network._metadata.check_metadata`.

    Notes
    -----
    Nothing mutates a network; methods such as :meth:`with_rates` return a new one.

    Examples
    --------
    >>> from nncrn import ReactionNetwork, Species, Reaction
    >>> net = ReactionNetwork(
    ...     [Species("X", "input"), Species("Y", "output")],
    ...     [Reaction.parse("0 -> Y", 0.001), Reaction.parse("2 Y -> Y", 1.0),
    ...      Reaction.parse("X + Y -> X + 2 Y", 1.0)],
    ... )
    >>> net
    ReactionNetwork(2 species, 3 reactions, inputs=['X'], outputs=['Y'])
    """

    species: tuple[Species, ...]
    reactions: tuple[Reaction, ...]
    readout: tuple[Readout, ...] | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    kinetics = KINETICS

    def __post_init__(self) -> None:
        species = _as_tuple(self.species, "species", "[Species('X', role='input'), ...]")
        for i, s in enumerate(species):
            if not isinstance(s, Species):
                raise NetworkError(
                    f"species[{i}] is a {type(s).__name__}; pass nncrn.Species objects, "
                    f"e.g. Species('X', role='input')"
                )
        index: dict[str, int] = {}
        for i, s in enumerate(species):
            if s.name in index:
                raise NetworkError(
                    f"duplicate species name {s.name!r} (positions {index[s.name]} and {i}); "
                    "species names must be unique"
                )
            index[s.name] = i
        reactions = _as_tuple(
            self.reactions, "reactions", "[Reaction.parse('X -> Y', 1.0), ...], or [] for none"
        )
        seen: dict[tuple, int] = {}
        for i, r in enumerate(reactions):
            if not isinstance(r, Reaction):
                raise NetworkError(
                    f"reactions[{i}] is a {type(r).__name__}; pass nncrn.Reaction objects, "
                    "e.g. Reaction.parse('X + Y -> X + 2 Y', 0.5)"
                )
            for name in (*r.reactants, *r.products):
                if name not in index:
                    raise NetworkError(
                        f"reaction {i} ({r.equation()}) names species {name!r}, which is not "
                        f"among the network's species; add Species({name!r}) or fix the reaction"
                    )
            k = r.key()
            if k in seen:
                raise NetworkError(
                    f"reactions {seen[k]} and {i} are both {r.equation()}; merge them into one "
                    f"reaction whose rate constant is the sum ({reactions[seen[k]].rate} + {r.rate})"
                )
            seen[k] = i
        if self.readout is None:
            readout = tuple(Readout(s.name, s.name) for s in species if s.role is Role.OUTPUT)
        else:
            readout = _as_tuple(
                self.readout, "readout", "[Readout('y', 'Y')], or None for the output species"
            )
        names = set()
        for ro in readout:
            if not isinstance(ro, Readout):
                raise NetworkError(f"readout entries must be nncrn.Readout, got {type(ro).__name__}")
            if ro.name in names:
                raise NetworkError(f"duplicate readout name {ro.name!r}")
            names.add(ro.name)
            for part in (ro.plus, ro.minus):
                if part is not None and part not in index:
                    raise NetworkError(
                        f"readout {ro.name!r} reads species {part!r}, which is not in the network"
                    )
        object.__setattr__(self, "species", species)
        object.__setattr__(self, "reactions", reactions)
        object.__setattr__(self, "readout", readout)
        metadata = {} if self.metadata is None else self.metadata
        if not isinstance(metadata, Mapping):
            raise NetworkError(
                f"metadata must be a mapping with string keys (JSON object), or None for none; "
                f"got {type(metadata).__name__}"
            )
        metadata = _freeze_json(dict(metadata), "metadata")
        check_metadata(metadata, species, readout)
        object.__setattr__(self, "metadata", metadata)
        object.__setattr__(self, "_index", MappingProxyType(index))

    # ------------------------------------------------------------------ lookups
    @cached_property
    def species_names(self) -> tuple[str, ...]:
        """Species names in array-axis order."""
        return tuple(s.name for s in self.species)

    @property
    def n_species(self) -> int:
        return len(self.species)

    @property
    def n_reactions(self) -> int:
        return len(self.reactions)

    def index(self, name: str) -> int:
        """Position of species ``name`` on every array axis."""
        try:
            return self._index[name]  # type: ignore[attr-defined]
        except KeyError:
            raise NetworkError(f"no species named {name!r} in this network") from None

    def __contains__(self, name: object) -> bool:
        return name in self._index  # type: ignore[attr-defined]

    def species_with_role(self, role: Role | str) -> tuple[Species, ...]:
        role = Role(role)
        return tuple(s for s in self.species if s.role is role)

    @cached_property
    def inputs(self) -> tuple[str, ...]:
        """Names of the input species, in order: the columns of an ``inputs`` array."""
        return tuple(s.name for s in self.species if s.role is Role.INPUT)

    @cached_property
    def outputs(self) -> tuple[str, ...]:
        """Names of the readout values, in order: the columns of ``result.outputs``."""
        return tuple(ro.name for ro in self.readout)  # type: ignore[union-attr]

    @cached_property
    def stoichiometry(self) -> StoichiometryView:
        """Cached array view used by the simulators (see :class:`StoichiometryView`)."""
        return StoichiometryView.build(dict(self._index), self.reactions)  # type: ignore[attr-defined]

    def read_outputs(self, concentrations: np.ndarray) -> np.ndarray:
        """Map concentrations ``(..., n_species)`` to readout values ``(..., n_outputs)``."""
        c = np.asarray(concentrations, dtype=np.float64)
        cols = [
            c[..., self.index(ro.plus)]
            - (c[..., self.index(ro.minus)] if ro.minus is not None else 0.0)
            for ro in self.readout  # type: ignore[union-attr]
        ]
        if not cols:
            return np.zeros((*c.shape[:-1], 0))
        return np.stack(cols, axis=-1)

    # ------------------------------------------------------------------ derived networks
    def with_rates(self, rates: Sequence[float] | np.ndarray) -> ReactionNetwork:
        """A new network with the same structure and rate constants ``rates`` (reaction order)."""
        rates = np.asarray(rates, dtype=np.float64)
        if rates.shape != (self.n_reactions,):
            raise NetworkError(
                f"with_rates got {rates.shape} rate constants; the network has "
                f"{self.n_reactions} reactions, pass an array of shape ({self.n_reactions},)"
            )
        reactions = tuple(
            Reaction(r.reactants, r.products, float(k), r.label)
            for r, k in zip(self.reactions, rates, strict=True)
        )
        return ReactionNetwork(self.species, reactions, self.readout, thaw_json(self.metadata))

    def with_metadata(self, **entries: Any) -> ReactionNetwork:
        """A new network whose metadata is updated with ``entries``."""
        meta = thaw_json(self.metadata)
        meta.update(entries)
        return ReactionNetwork(self.species, self.reactions, self.readout, meta)

    # ------------------------------------------------------------------ identity
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReactionNetwork):
            return NotImplemented
        return (
            self.species == other.species
            and self.reactions == other.reactions
            and self.readout == other.readout
            and json.dumps(thaw_json(self.metadata), sort_keys=True)
            == json.dumps(thaw_json(other.metadata), sort_keys=True)
        )

    def __hash__(self) -> int:
        return hash((self.species, self.reactions))

    def __repr__(self) -> str:
        return (
            f"ReactionNetwork({self.n_species} species, {self.n_reactions} reactions, "
            f"inputs={list(self.inputs)}, outputs={list(self.outputs)})"
        )

    def __str__(self) -> str:
        """The ``repr`` line, then one reaction per line with its rate constant.

        Past 40 reactions the middle is elided (``... 800 more reactions ...``): a printed
        compiled network stays readable. ``to_crn_text`` in :mod:`nncrn.export` writes all.
        """
        shown, head = 40, 20
        more = max(0, self.n_reactions - shown)
        reactions = self.reactions[:head] + self.reactions[head + more :]
        width = max((len(r.equation()) for r in reactions), default=0)
        lines = [f"  {r.equation():<{width}}  [k = {r.rate:.6g}]" for r in reactions]
        if more:
            lines.insert(head, f"  ... {more} more reaction{'s' if more > 1 else ''} ...")
        return "\n".join([repr(self), *lines])

    def _repr_html_(self) -> str:
        from nncrn._display import HTML_ROWS, html_table

        rows = [[i, r.equation(), r.rate] for i, r in enumerate(self.reactions[:HTML_ROWS])]
        species = ", ".join(self.species_names[:HTML_ROWS])
        if self.n_species > HTML_ROWS:
            species += f", … ({self.n_species - HTML_ROWS} more)"
        summary = f"{self!r}; species: {species}"
        return html_table(summary, ["#", "reaction", "k"], rows, n_rows=self.n_reactions,
                          noun="reactions")  # fmt: skip

    # ------------------------------------------------------------------ graphs
    def to_dot(self, *, rankdir: str = "LR") -> str:
        """Graphviz DOT text of the species–reaction graph, ranked per layer when compiled.

        Pure text, no dependency; see :func:`nncrn.network._dot.network_to_dot`.
        """
        from nncrn.network._dot import network_to_dot

        return network_to_dot(self, rankdir=rankdir)

    def to_networkx(self) -> Any:
        """A ``networkx.DiGraph``: species and reaction nodes, edges with stoichiometry.

        Needs the optional ``networkx`` (``pip install 'nncrn[plot]'``); see
        :func:`nncrn.network._dot.network_to_networkx` for the node and edge attributes.
        """
        from nncrn.network._dot import network_to_networkx

        return network_to_networkx(self)

    # ------------------------------------------------------------------ persistence
    def to_json(self) -> str:
        """Versioned JSON text (see :func:`nncrn.network.network_to_json`)."""
        return network_to_json(self)

    @classmethod
    def from_json(cls, text: str) -> ReactionNetwork:
        """Inverse of :meth:`to_json`; rejects malformed text and unknown format versions."""
        return network_from_json(text)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # In-memory copies (multiprocessing, joblib, copy.deepcopy) travel as the versioned
        # JSON text, which round-trips exactly; files are written with save(), never pickle.
        return (_network_from_json, (self.to_json(),))

    def save(self, path: str | Any) -> None:
        """Write the network as versioned JSON to ``path`` (never pickle)."""
        _save(self, path)

    @classmethod
    def load(cls, path: str | Any) -> ReactionNetwork:
        """Read a network written by :meth:`save`."""
        return load(path)


def network_from_json(text: str | bytes) -> ReactionNetwork:
    """Parse JSON written by :func:`network_to_json`.

    Raises :class:`~nncrn.FormatError` for malformed JSON, another format, a newer version or
    another kinetics convention, and :class:`~nncrn.NetworkError` when the content violates a
    network invariant.
    """
    species, reactions, readout, metadata = parse_network(text)
    return ReactionNetwork(species, reactions, readout, metadata)


def load(path: str | os.PathLike) -> ReactionNetwork:
    """Read a network file written by :func:`save`."""
    return network_from_json(read_network_text(path))


def require_network(value: object, where: str) -> ReactionNetwork:
    """``value`` if it is a :class:`ReactionNetwork`, else an :class:`InputError` saying how to get one.

    ``where`` names the call, e.g. ``"steady_state"``.
    """
    if isinstance(value, ReactionNetwork):
        return value
    hint = (
        "; load a network file with nncrn.ReactionNetwork.load(path)"
        if isinstance(value, (str, os.PathLike))
        else "; compile a model with nncrn.compile_network(model) or build one from Species and Reaction"
    )
    raise InputError(
        f"{where} expects an nncrn.ReactionNetwork as its network, got {type(value).__name__}{hint}"
    )


def require_readout(network: ReactionNetwork, where: str, needs: str = "outputs to score") -> None:
    """An :class:`InputError` if ``network`` has no readout; ``needs`` says what is missing.

    ``where`` names the call (``"fit"``) or the file being read.
    """
    if not network.readout:
        raise InputError(
            f"{where}: the network has no readout, so it has no {needs}; give it one: mark "
            "the output species with role 'output' (each becomes a readout) or pass "
            "readout=[nncrn.Readout('y', 'Y')] to ReactionNetwork (in a network JSON file: "
            '"readout": [{"name": "y", "plus": "Y", "minus": null}])'
        )


def _network_from_json(text: str) -> ReactionNetwork:
    """Unpickling hook of :meth:`ReactionNetwork.__reduce__`."""
    return ReactionNetwork.from_json(text)
