"""Read a network's trainable structure from its reactions: signed weights and fixed terms.

A compiled weight is one reaction whose *kind* encodes the sign (``X + Y -> X + 2 Y`` for
``w > 0``, ``X + Y -> X`` for ``w < 0``; a dual-rail neuron produces ``Yp`` or ``Yn``).
Training works on one signed number per (catalysts, neuron) pair, so a weight whose sign
changes moves from its production to its degradation reaction; :meth:`Terms.rebuild`
writes the reactions of the new network from the signs. The rules, for reactions that
change exactly one species ``Y`` by one molecule:

* ``C + Y -> C + 2 Y`` / ``C + Y -> C`` (``Y`` not a dual-rail part): signed term on
  ``(Y, C)`` with contribution ``w [C] y`` to ``dy/dt``;
* ``C -> C + Yp`` / ``C -> C + Yn`` (a dual-rail pair, from ``metadata["layers"]`` or the
  readouts' plus/minus parts, whose kinetics are those of a linear neuron): signed term on
  ``(pair, C)``, ``relu(w) [C]`` to ``dyp/dt`` and ``relu(-w) [C]`` to ``dyn/dt``.

Everything else (leaks ``0 -> Y``, saturations ``2 Y -> Y``, dual-rail decays, reactions
that change several species) is *fixed*: it shapes the activation, it is not a weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nncrn.network import Reaction, ReactionNetwork

__all__ = ["Terms", "extract_terms"]


def _is_linear_pair(touching: dict[str, list[Reaction]], p: str, n: str) -> bool:
    """Whether ``p``, ``n`` have the kinetics of a linear dual-rail neuron.

    That is what the compile schemes build for an identity layer: every reaction that
    changes ``p`` or ``n`` changes only that species, either producing one molecule without
    consuming it (``C -> C + P``, ``0 -> P``) or decaying it at first order (``P -> 0``), and
    both parts decay. Then ``[p] - [n]`` is linear in the productions, and a signed term can
    move between the parts. Any other reaction on either part (``2 P -> P``, ``C + P -> C``)
    makes them two neurons of their own. ``touching`` maps a species to the reactions
    that change it.
    """
    if p == n:
        return False
    decays = {p: 0.0, n: 0.0}
    for r in touching.get(p, []) + touching.get(n, []):
        net = r.net()
        if len(net) != 1:
            return False
        ((y, d),) = net.items()
        if r.reactants.get(p, 0) or r.reactants.get(n, 0):
            if dict(r.reactants) != {y: 1} or r.products:  # only P -> 0
                return False
            decays[y] += r.rate
        elif d != 1:
            return False
    return all(k > 0 for k in decays.values())


def dual_rail_pairs(network: ReactionNetwork) -> dict[str, tuple[str, str]]:
    """Map each linear dual-rail part (``Yp`` and ``Yn``) to its ``(plus, minus)`` pair.

    Candidates are the identity layers of ``metadata["layers"]`` and the readouts with a
    minus part; only those with the kinetics of a linear neuron (:func:`_is_linear_pair`)
    are pairs, so a readout ``[Y] - [Z]`` of two ordinary neurons leaves them separate.
    """
    pairs: list[tuple[str, str]] = []
    for layer in network.metadata.get("layers") or ():
        if layer.get("activation") == "identity":
            sp = list(layer.get("species") or ())
            pairs += list(zip(sp[0::2], sp[1::2], strict=False))
    readout = network.readout
    assert readout is not None, "ReactionNetwork fills in the default readout"
    pairs += [(ro.plus, ro.minus) for ro in readout if ro.minus is not None]
    out: dict[str, tuple[str, str]] = {}
    if not pairs:
        return out
    touching: dict[str, list[Reaction]] = {}
    for r in network.reactions:  # one pass: the reactions that change each species
        for s in r.net():
            touching.setdefault(s, []).append(r)
    for p, n in pairs:
        if p in out or n in out or p not in network or n not in network:
            continue
        if _is_linear_pair(touching, p, n):
            out[p] = out[n] = (p, n)
    return out


@dataclass(frozen=True, eq=False)
class Terms:
    """Signed trainable terms and fixed reactions of one network.

    Attributes
    ----------
    weights:
        ``(n_terms,)`` signed values (rate constant times the sign of the reaction kind).
    target, minus:
        ``(n_terms,)`` species column of the neuron (the plus part for a dual-rail pair) and
        of the minus part (``-1`` for a single-species neuron).
    power:
        ``(n_terms,)`` power of the target in the term (1 single species, 0 dual rail).
    cat_cols, cat_pows:
        ``(n_terms, n_slots)`` catalyst columns and powers, padded with column
        ``n_species`` (a constant 1) and power 0.
    labels, layer:
        Per term: reaction label and layer index (``-1`` when unknown).
    fixed:
        Indices (into ``network.reactions``) of reactions that are not terms.
    positions:
        ``(n_terms,)`` position of each term's first reaction in the original order.
    """

    network: ReactionNetwork
    weights: np.ndarray
    target: np.ndarray
    minus: np.ndarray
    power: np.ndarray
    cat_cols: np.ndarray
    cat_pows: np.ndarray
    cat_names: tuple[tuple[tuple[str, int], ...], ...]
    labels: tuple[str, ...]
    layer: np.ndarray
    fixed: np.ndarray
    positions: np.ndarray

    @property
    def n_terms(self) -> int:
        return int(self.weights.shape[0])

    def term_reaction(self, i: int, w: float) -> Reaction | None:
        """The reaction realising term ``i`` at signed value ``w`` (None when ``w == 0``)."""
        if w == 0:
            return None
        names = self.network.species_names
        cats = dict(self.cat_names[i])
        if self.minus[i] >= 0:
            part = names[self.target[i]] if w > 0 else names[self.minus[i]]
            prod = dict(cats)
            prod[part] = prod.get(part, 0) + 1
            return Reaction(cats, prod, abs(w), self.labels[i])
        y = names[self.target[i]]
        reac = {**cats, y: cats.get(y, 0) + 1}
        prod = {**cats, y: cats.get(y, 0) + (2 if w > 0 else 0)}
        prod = {s: c for s, c in prod.items() if c > 0}
        return Reaction(reac, prod, abs(w), self.labels[i])

    def rebuild(self, weights: np.ndarray, metadata: dict | None = None) -> ReactionNetwork:
        """A new network with these signed term values; zero terms make no reaction."""
        from nncrn.network._metadata import thaw_json

        weights = np.asarray(weights, dtype=np.float64)
        slots: list[tuple[int, Reaction]] = [
            (int(j), self.network.reactions[j]) for j in self.fixed
        ]
        for i, w in enumerate(weights):
            r = self.term_reaction(i, float(w))
            if r is not None:
                slots.append((int(self.positions[i]), r))
        slots.sort(key=lambda t: t[0])
        meta = thaw_json(self.network.metadata)
        meta.update(metadata or {})
        net = self.network
        return ReactionNetwork(net.species, tuple(r for _, r in slots), net.readout, meta)


def _layer_of(network: ReactionNetwork) -> dict[str, int]:
    out: dict[str, int] = {}
    for depth, layer in enumerate(network.metadata.get("layers") or ()):
        for s in layer.get("species") or ():
            out[s] = depth
    return out


def extract_terms(network: ReactionNetwork) -> Terms:
    """Split ``network`` into signed trainable terms and fixed reactions (see module doc)."""
    pairs = dual_rail_pairs(network)
    layer_of = _layer_of(network)
    keys: dict[tuple, int] = {}
    w: list[float] = []
    target, minus, power, cats_l, labels, layer, pos = [], [], [], [], [], [], []
    fixed = []
    for j, r in enumerate(network.reactions):
        net = r.net()
        if len(net) != 1:
            fixed.append(j)
            continue
        ((y, d),) = net.items()
        m = r.reactants.get(y, 0)
        cats = tuple(sorted((s, c) for s, c in r.reactants.items() if s != y))
        if y in pairs and m == 0 and d == 1:
            p, n = pairs[y]
            key, sign, tgt, mns = ("pair", p, cats), (1.0 if y == p else -1.0), p, n
        elif y not in pairs and m == 1 and d in (1, -1):
            key, sign, tgt, mns = ("one", y, cats), float(d), y, None
        else:
            fixed.append(j)
            continue
        if key in keys:
            w[keys[key]] += sign * r.rate
            continue
        keys[key] = len(w)
        w.append(sign * r.rate)
        target.append(network.index(tgt))
        minus.append(-1 if mns is None else network.index(mns))
        power.append(1 if mns is None else 0)
        cats_l.append(cats)
        labels.append(r.label)
        layer.append(layer_of.get(tgt, -1))
        pos.append(j)
    n_slots = max([len(c) for c in cats_l] + [1])
    cat_cols = np.full((len(w), n_slots), network.n_species, dtype=np.int64)
    cat_pows = np.zeros((len(w), n_slots), dtype=np.int64)
    for i, cats in enumerate(cats_l):
        for k, (s, c) in enumerate(cats):
            cat_cols[i, k] = network.index(s)
            cat_pows[i, k] = c
    ints = lambda v: np.asarray(v, dtype=np.int64)  # noqa: E731
    return Terms(
        network=network, weights=np.asarray(w, dtype=np.float64), target=ints(target),
        minus=ints(minus), power=ints(power), cat_cols=cat_cols, cat_pows=cat_pows,
        cat_names=tuple(cats_l), labels=tuple(labels), layer=ints(layer), fixed=ints(fixed),
        positions=ints(pos),
    )  # fmt: skip
