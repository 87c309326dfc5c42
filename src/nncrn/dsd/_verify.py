"""Verification: enumerate, interpret, and compare with the formal network (crnverifier)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nncrn.dsd._complex import Complex, Kind, pil_text
from nncrn.dsd._design import DSDDesign
from nncrn.dsd._enumerate import Enumeration, deep_recursion, enumerate_pil, require
from nncrn.dsd._schemes import DSDScheme, expand
from nncrn.network import Reaction

__all__ = [
    "Implementation",
    "ModuleCheck",
    "Verification",
    "interpret",
    "verify",
    "verify_reaction",
]

CRN = list[list[list[str]]]


@dataclass(frozen=True)
class Implementation:
    """An enumerated network read against the formal one.

    ``crn`` are the condensed reactions with fuels and wastes stripped (``[reactants,
    products]`` lists of macrostate names); ``signals`` maps each macrostate that is a free
    signal strand (any history) to its formal species.
    """

    crn: CRN
    signals: dict[str, str]
    wastes: tuple[str, ...]

    def renamed(self) -> CRN:
        """``crn`` with every signal macrostate replaced by its formal species' name."""
        return [[[self.signals.get(s, s) for s in side] for side in r] for r in self.crn]


def interpret(enumeration: Enumeration, scheme: DSDScheme, fuels: set[str]) -> Implementation:
    """Strip fuels and wastes from ``enumeration`` and map signal strands onto formal species.

    A fuel is a macrostate holding one of the complexes named in ``fuels`` (supplied in
    excess, so it is a constant of the formal network); a waste is any other non-signal
    macrostate that no reaction consumes.
    """
    signals: dict[str, str] = {}
    fuel_states: set[str] = set()
    for name, cplxs in enumeration.macrostates.items():
        if any(c.name in fuels for c in cplxs):
            fuel_states.add(name)
            continue
        species = {
            scheme.signal_of(c.strands[0]) if len(c.strands) == 1 and not c.paired else None
            for c in cplxs
        }
        if len(species) == 1 and None not in species:
            signals[name] = species.pop()  # type: ignore[assignment]
    stripped = [
        [[s for s in r.reactants if s not in fuel_states],
         [s for s in r.products if s not in fuel_states]]
        for r in enumeration.reactions
    ]  # fmt: skip
    consumed = {s for r in stripped for s in r[0]}
    wastes = {s for r in stripped for s in r[1] if s not in consumed and s not in signals}
    crn: CRN = []
    for reactants, products in stripped:
        products = [s for s in products if s not in wastes]
        if Counter(reactants) == Counter(products):
            continue
        crn.append([sorted(reactants), sorted(products)])
    return Implementation(crn, signals, tuple(sorted(wastes)))


@dataclass(frozen=True)
class ModuleCheck:
    """Verification of one formal reaction's module (CRN bisimulation)."""

    index: int
    reaction: str
    correct: bool
    species: int
    reactions: int
    enumeration_s: float
    verification_s: float
    implementation: tuple[str, ...] = field(repr=False)
    interpretation: dict[str, tuple[str, ...]] = field(repr=False, default_factory=dict)
    """The bisimulation found: each enumerated macrostate (by its complexes' canonical
    forms) -> the formal species it stands for."""


@dataclass(frozen=True)
class Verification:
    """Per-module results, and the whole-design checks where the enumerator finished.

    ``whole`` and ``pathway`` are None when they were not run (or the enumeration of the
    whole design or the bisimulation search did not finish: ``whole_note`` says why).
    """

    scheme: str
    modules: tuple[ModuleCheck, ...]
    whole: bool | None = None
    pathway: bool | None = None
    whole_species: int | None = None
    whole_reactions: int | None = None
    whole_s: float | None = None
    whole_note: str = ""

    @property
    def correct(self) -> bool:
        """Every module verified, and no whole-design check returned False."""
        return all(m.correct for m in self.modules) and self.whole is not False \
            and self.pathway is not False  # fmt: skip

    def to_frame(self) -> Any:
        """One row per module (pandas)."""
        from nncrn._display import require_pandas

        pd = require_pandas("Verification.to_frame")
        return pd.DataFrame([{
            "module": m.index, "reaction": m.reaction, "bisimulation": m.correct,
            "species": m.species, "reactions": m.reactions,
            "enumeration_s": m.enumeration_s, "verification_s": m.verification_s,
        } for m in self.modules]).set_index("module")  # fmt: skip


def _needed_size(complexes: Sequence[Complex]) -> int:
    """Room for the largest fuel with two signals and a helper strand bound to it."""
    return max(len(c.strands) for c in complexes) + 3


def _formal(reactions: Sequence[Reaction]) -> CRN:
    return [[sorted(expand(r.reactants)), sorted(expand(r.products))] for r in reactions]


def _pretty(crn: CRN) -> tuple[str, ...]:
    return tuple(" + ".join(r[0]) + " -> " + " + ".join(r[1]) for r in crn)


def _key(enumeration: Enumeration, state: str) -> str:
    return " | ".join(sorted(c.canonical for c in enumeration.macrostates[state]))


def _propagated(crn: CRN, known: dict[str, list[str]]) -> dict[str, list[str]]:
    """Interpretations implied by the gate's toehold exchanges, for crnverifier to check.

    A reversible pair ``A + s <=> B`` with one uninterpreted species ``s`` gives ``s`` the
    formal content of the other side minus its partner's; an irreversible ``s -> P`` with
    ``P`` interpreted (a waste release after the products) gives ``s`` that of ``P``.
    Long release chains (a fan-out to seven products) defeat crnverifier's own search for
    such an interpretation; offered to it, they are checked like any other.
    """
    out = {k: list(v) for k, v in known.items()}
    pairs = sorted({(tuple(r[0]), tuple(r[1])) for r in crn})

    def step(reversible_only: bool) -> bool:
        for left, right in pairs:
            reversible = (right, left) in pairs
            unknown = [x for x in left if x not in out]
            if len(unknown) != 1 or any(x not in out for x in right):
                continue
            if not reversible and (reversible_only or len(left) != 1):
                continue
            content = Counter(f for x in right for f in out[x])
            content.subtract(f for x in left if x in out for f in out[x])
            if any(c < 0 for c in content.values()):
                continue
            out[unknown[0]] = sorted(content.elements())
            return True
        return False

    # Reversible exchanges first (a bound reactant is still that reactant), in a fixed
    # order: an irreversible step read first can claim a species the exchange explains
    # (which one wins decided the result, run to run, before the order was fixed).
    while step(reversible_only=True) or step(reversible_only=False):
        pass
    return out


def _bisimulation(
    fcrn: CRN, impl: Implementation, formals: set[str]
) -> tuple[bool, dict[str, list[str]]]:
    """A module's CRN bisimulation from its signals (modules are small: the search ends),
    retried from the interpretation the toehold exchanges imply."""
    verifier = require("crnverifier")
    formals = formals | set(impl.signals.values())
    partial = {k: [v] for k, v in impl.signals.items()}
    with deep_recursion():
        ok, bisim = verifier.crn_bisimulation_test(fcrn, impl.crn, formals=formals,
                                                   interpretation=partial)  # fmt: skip
        if not ok:  # a True found from the propagated interpretation is as much a proof
            guided = {k: v for k, v in _propagated(impl.crn, partial).items()
                      if set(v) <= formals}  # fmt: skip
            if guided != partial:
                ok, bisim = verifier.crn_bisimulation_test(fcrn, impl.crn, formals=formals,
                                                           interpretation=guided)  # fmt: skip
    found = {str(k): sorted(str(x) for x in v) for k, v in (bisim or {}).items()}
    return bool(ok), found


def verify_reaction(
    reaction: Reaction,
    scheme: DSDScheme,
    *,
    index: int = 0,
    extra: Sequence[Complex] = (),
    max_complex_size: int = 8,
    time_limit: float | None = 60.0,
) -> ModuleCheck:
    """Enumerate one reaction's module with its reactants and check CRN bisimulation.

    ``max_complex_size`` is raised to the largest fuel's strands plus three when that is
    more. ``extra`` are further complexes in the same tube (fuels of another module, a
    spurious strand): crosstalk they cause shows up as a failed check.
    """
    fuels = scheme.module(index, reaction)
    tube = [scheme.signal(s) for s in reaction.reactants] + list(fuels) + list(extra)
    lengths = {d.rstrip("*"): scheme.length(d.rstrip("*")) for c in tube for d in c.domains}
    size = max(max_complex_size, _needed_size(tube))
    enum = enumerate_pil(pil_text(tube, lengths), max_complex_size=size, time_limit=time_limit)
    names = {c.name for c in tube if c.kind is Kind.FUEL}
    impl = interpret(enum, scheme, names)
    start = time.perf_counter()
    formals = set(reaction.reactants) | set(reaction.products)
    ok, found = _bisimulation(_formal([reaction]), impl, formals)
    keyed = {_key(enum, k): tuple(v) for k, v in found.items() if k in enum.macrostates}
    return ModuleCheck(index, reaction.equation(), ok, enum.n_species, enum.n_reactions,
                       enum.seconds, time.perf_counter() - start,
                       _pretty(impl.renamed()), keyed)  # fmt: skip


def verify(
    design: DSDDesign,
    *,
    whole: bool = False,
    pathway: bool = True,
    max_complex_size: int = 8,
    time_limit: float | None = 60.0,
) -> Verification:
    """Verify ``design``: every module by CRN bisimulation (modular verification).

    With ``whole=True`` the whole design is also enumerated at once and checked by CRN
    bisimulation (the modules' interpretations of the complexes they share with it are
    offered first as a partial interpretation, which spares the search; when no
    bisimulation extends them, the search starts again from the signals alone, so False
    means that none exists, and None that this search did not finish within
    ``time_limit``) and (``pathway=True``) pathway decomposition; an enumeration that exceeds
    ``time_limit`` or ``max_complex_size`` leaves those None with the reason in
    ``whole_note``. The bisimulation search and the pathway decomposition each have
    ``time_limit`` seconds too (None, with the reason in ``whole_note``, when they run
    past it).
    """
    from nncrn._errors import ConvergenceError

    scheme = design.scheme
    checks = tuple(
        verify_reaction(
            m.reaction,
            scheme,
            index=m.index,
            max_complex_size=max_complex_size,
            time_limit=time_limit,
        )
        for m in design.modules
    )
    if not whole:
        return Verification(scheme.name, checks)
    try:
        size = max(max_complex_size, _needed_size(design.complexes()))
        enum = enumerate_pil(design.pil(), max_complex_size=size, time_limit=time_limit)
    except ConvergenceError as err:
        return Verification(scheme.name, checks, whole_note=str(err))
    impl = interpret(enum, scheme, {f.name for f in design.fuels})
    fcrn = _formal(design.network.reactions)
    formals = set(design.network.species_names)
    # The modules' bisimulations name the same complexes the whole enumeration finds
    # (no crosstalk means no new ones): offered as a partial interpretation they spare
    # crnverifier a search over every intermediate, and it still checks every condition.
    # A complex that two modules read differently (a strand both release, which one of
    # several valid module bisimulations maps elsewhere) is left to the search.
    known: dict[str, tuple[str, ...]] = {}
    clash: set[str] = set()
    for check in checks:
        for k, v in check.interpretation.items():
            if known.setdefault(k, v) != v:
                clash.add(k)
    hint = {s: list(known[_key(enum, s)]) for s in enum.macrostates
            if _key(enum, s) in known and _key(enum, s) not in clash}  # fmt: skip
    start = time.perf_counter()
    ok, note = _whole_bisimulation(fcrn, impl, formals, hint, time_limit)
    path = None
    if pathway:
        from nncrn.dsd._enumerate import _time_limit, _Timeout

        verifier = require("crnverifier")
        try:
            with deep_recursion(), _time_limit(time_limit):
                path = bool(verifier.pathway_decomposition_eq([fcrn, impl.renamed()], formals))
        except _Timeout:
            note = "; ".join(x for x in (note, f"pathway decomposition did not finish within "
                                         f"{time_limit} s; raise time_limit to decide") if x)  # fmt: skip
    return Verification(scheme.name, checks, ok, path, enum.n_species, enum.n_reactions,
                        enum.seconds + time.perf_counter() - start, note)  # fmt: skip


def _whole_bisimulation(
    fcrn: CRN, impl: Implementation, formals: set[str], hint: dict[str, list[str]],
    time_limit: float | None,
) -> tuple[bool | None, str]:  # fmt: skip
    """CRN bisimulation of a whole design: True or False as proved, None if not decided.

    Guided first: the modules' interpretations (``hint``), then the one the toehold
    exchanges imply from the signals alone (:func:`_propagated`); a True from either is a
    proof. The modules' bisimulations are one choice among several for their
    intermediates (which one crnverifier returns varies between runs), and a combination
    of choices can fail where another succeeds, so a guided False proves nothing: only the
    unguided search from the signals can show that no bisimulation exists. It runs within
    ``time_limit`` (None when it does not finish, with the reason).
    """
    from nncrn.dsd._enumerate import _time_limit, _Timeout

    verifier = require("crnverifier")
    formals = formals | set(impl.signals.values())
    signals = {k: [v] for k, v in impl.signals.items()}
    species = {x for r in impl.crn for side in r for x in side}
    guided = signals | {k: list(v) for k, v in hint.items()
                        if k in species and k not in signals and set(v) <= formals}  # fmt: skip
    implied = {k: v for k, v in _propagated(impl.crn, signals).items() if set(v) <= formals}
    step = "the guided searches"
    try:
        with deep_recursion(), _time_limit(time_limit):
            for partial in (guided, implied):
                if verifier.crn_bisimulation_test(fcrn, impl.crn, formals=formals,
                                                  interpretation=partial)[0]:  # fmt: skip
                    return True, ""
            step = "the unguided search (no bisimulation extends the modules' interpretations " \
                   "or the one the toehold exchanges imply)"  # fmt: skip
            ok = verifier.crn_bisimulation_test(fcrn, impl.crn, formals=formals,
                                                interpretation=signals)[0]  # fmt: skip
    except _Timeout:
        return None, f"CRN bisimulation: {step} did not finish within {time_limit} s; " \
                     "raise time_limit to decide"  # fmt: skip
    return bool(ok), ""
