"""Chemical argmax: a winner-take-all output stage appended to any compiled network.

Construction (replicator dynamics). One species ``W{i}`` per readout ``y_i = [P_i] - [N_i]``,
each starting at ``1/n``; for every ordered pair ``i != j``

* ``W_i + W_j + P_j -> 2 W_j + P_j`` (rate ``k``): ``j`` takes from ``i`` in proportion to ``y_j``'s
  positive part,
* ``W_i + W_j + N_i -> 2 W_j + N_i`` (rate ``k``, dual-rail readouts only): and in proportion
  to ``y_i``'s negative part.

Mass action gives ``dw_i/dt = k w_i sum_j w_j (y_i - y_j)``, so the total ``sum w = 1`` is
conserved and ``d/dt ln(w_i / w_j) = k (y_i - y_j)``: with equal starts,
``w_i(t) / w_j(t) = exp(k int_0^t (y_i - y_j))``. Once the network's outputs have settled, the
ranking of the ``W`` species is the ranking of the outputs at every later time, and the
winner's share tends to 1 at rate ``k (y_max - y_second)``. Why this and not the classic
"mutual annihilation" winner-take-all: the ranking is exact for any ``k`` and any
gap (no threshold to tune), the upstream network is untouched (its species are only
catalysts here), and the steady state is the one-hot vector of the argmax (ties split
the mass among the tied readouts in the ratio of their starts).
"""

from __future__ import annotations

import math

import numpy as np

from nncrn._errors import InputError, NetworkError
from nncrn.network import Reaction, ReactionNetwork, Readout, Role, Species, require_network
from nncrn.network._metadata import thaw_json
from nncrn.network._numbers import as_real

__all__ = ["argmax_map", "with_argmax"]


def argmax_map(values: object) -> np.ndarray:
    """The stage's stated steady state: ``(batch, n)`` one-hot rows of ``argmax`` of ``values``."""
    v = np.asarray(values, dtype=np.float64)
    out = np.zeros_like(v)
    np.put_along_axis(out, v.argmax(axis=-1)[..., None], 1.0, axis=-1)
    return out


def with_argmax(
    network: ReactionNetwork, *, rate: float = 1.0, prefix: str = "W"
) -> ReactionNetwork:
    """``network`` plus a winner-take-all stage whose readouts are the shares ``W{i}``.

    Parameters
    ----------
    network:
        Any :class:`ReactionNetwork` with at least two readouts (a compiled classifier's
        logits or activations; compile a model with ``compile_network`` first). Its former
        output species become hidden; the new readouts keep the old names, so
        ``result.outputs.argmax(1)`` is the class.
    rate:
        Rate constant ``k`` of every stage reaction, finite and > 0 (default 1): the winner
        separates at rate ``k`` times the gap between the two largest outputs.
    prefix:
        Name prefix of the share species (default ``"W"``): ``prefix + "0"`` must be a valid
        species name (ASCII letters, digits, ``_``; no leading digit) and the names new.

    Notes
    -----
    Every reaction is trimolecular (two shares and one catalysing readout species);
    ``n (n - 1)`` reactions per single-species readout family, twice that for dual-rail.
    """
    network = require_network(network, "with_argmax")
    ros = network.readout
    assert ros is not None, "ReactionNetwork fills in the default readout"
    n = len(ros)
    if n < 2:
        raise NetworkError(
            f"with_argmax needs a network with at least 2 readouts (one per class); this one "
            f"has {n} ({list(network.outputs)}). A single output (e.g. a binary classifier's "
            "one logit) needs no argmax: threshold it instead, or compile a model with one "
            "output per class"
        )
    k = as_real(rate)
    if k is None or not math.isfinite(k) or k <= 0:
        raise InputError(
            f"with_argmax rate is {rate!r}; it must be a finite number > 0 (the rate constant "
            "of every argmax reaction), e.g. rate=1.0"
        )
    if not (isinstance(prefix, str) and f"{prefix}0".isascii() and f"{prefix}0".isidentifier()):
        raise InputError(
            f"with_argmax prefix {prefix!r} does not make valid species names ({prefix!r} + "
            "'0', '1', ...): a prefix must be a non-empty string of ASCII letters, digits and "
            "'_' that does not start with a digit; pass e.g. prefix='W'"
        )
    shares = [f"{prefix}{i}" for i in range(n)]
    clash = [s for s in shares if s in network]
    if clash:
        raise NetworkError(
            f"with_argmax would add species {clash[:3]}, which the network already has; pass "
            "another prefix=..."
        )
    read = {p for ro in ros for p in (ro.plus, ro.minus) if p is not None}
    species = [
        Species(s.name, Role.HIDDEN, s.initial) if s.role is Role.OUTPUT and s.name in read else s
        for s in network.species
    ]
    species += [Species(w, Role.OUTPUT, 1.0 / n) for w in shares]
    reactions = list(network.reactions)
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            wi, wj = shares[i], shares[j]
            cats = [(ros[j].plus, f"argmax {ros[j].name} takes from {ros[i].name}")]
            minus = ros[i].minus
            if minus is not None:
                cats.append((minus, f"argmax {ros[i].name} loses to {ros[j].name} (negative part)"))
            for cat, label in cats:
                reactions.append(Reaction({wi: 1, wj: 1, cat: 1}, {wj: 2, cat: 1}, k, label))
    readout = [Readout(ro.name, w) for ro, w in zip(ros, shares, strict=True)]
    meta = thaw_json(network.metadata)
    meta["output_stage"] = {
        "kind": "argmax",
        "rate": k,
        "shares": shares,
        "scores": [[ro.name, ro.plus, ro.minus] for ro in ros],
    }
    return ReactionNetwork(tuple(species), tuple(reactions), tuple(readout), meta)
