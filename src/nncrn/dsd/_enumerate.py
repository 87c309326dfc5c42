"""Domain-level enumeration with peppercorn, read back into plain, picklable values."""

from __future__ import annotations

import importlib
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from nncrn._errors import ConvergenceError

__all__ = [
    "EnumeratedComplex",
    "EnumeratedReaction",
    "Enumeration",
    "deep_recursion",
    "enumerate_pil",
    "require",
]

EXTRA = "pip install 'nncrn[dsd]'"


def require(module: str) -> Any:
    """Import an optional dependency of :mod:`nncrn.dsd`, naming the extra when missing.

    peppercorn raises the interpreter's recursion limit to 10**6 when it is imported, for
    every module in the process: a deeply nested input to a C parser (``json.loads``) then
    overflows the C stack and kills the process instead of raising RecursionError. The limit
    is put back after the import; :func:`deep_recursion` raises it only around peppercorn's
    and crnverifier's own calls.
    """
    limit = sys.getrecursionlimit()
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f"nncrn.dsd needs {module.split('.')[0]} (peppercornenumerator, crnverifier and "
            f"dsdobjects make DNA designs and verify them); install the extra: {EXTRA}"
        ) from err
    finally:
        sys.setrecursionlimit(limit)


@contextmanager
def deep_recursion() -> Iterator[None]:
    """The recursion limit peppercorn sets for its searches, only for the duration of a call."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10**6))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


@dataclass(frozen=True)
class EnumeratedComplex:
    """A resting complex: its name, strands (domain names) and whether any domain pairs.

    ``canonical`` is peppercorn's rotation-invariant form (domains and structure), the same
    in every enumeration the complex appears in, whatever it is named there.
    """

    name: str
    strands: tuple[tuple[str, ...], ...]
    paired: bool
    canonical: str = ""


@dataclass(frozen=True)
class EnumeratedReaction:
    """A condensed reaction between resting macrostates; ``rate`` in /s or /M/s."""

    reactants: tuple[str, ...]
    products: tuple[str, ...]
    rate: float


@dataclass(frozen=True)
class Enumeration:
    """Peppercorn's condensed reaction network of a set of complexes.

    ``macrostates`` maps each resting macrostate to its complexes; a condensed reaction
    names macrostates. ``seconds`` is the wall time the enumerator took.
    """

    macrostates: dict[str, tuple[EnumeratedComplex, ...]]
    reactions: tuple[EnumeratedReaction, ...]
    seconds: float

    @property
    def n_species(self) -> int:
        return len(self.macrostates)

    @property
    def n_reactions(self) -> int:
        return len(self.reactions)


class _Timeout(Exception):
    pass


@contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    # SIGALRM is the only way to stop peppercorn's pure-Python search from outside; it
    # exists on POSIX main threads only, elsewhere the enumeration runs unbounded.
    usable = (
        seconds is not None
        and hasattr(signal, "SIGALRM")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def _raise(signum: int, frame: object) -> None:
        raise _Timeout

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))  # type: ignore[arg-type]
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, old)


def _complex(cplx: Any) -> EnumeratedComplex:
    strands: list[tuple[str, ...]] = []
    current: list[str] = []
    for d in cplx.sequence:
        if str(d) == "+":
            strands.append(tuple(current))
            current = []
        else:
            current.append(str(d))
    strands.append(tuple(current))
    paired = any(ch in "()" for ch in cplx.structure)
    canonical = " ".join(" ".join(str(x) for x in part) for part in cplx.canonical_form)
    return EnumeratedComplex(str(cplx.name), tuple(strands), paired, canonical)


def enumerate_pil(
    text: str, *, max_complex_size: int = 8, time_limit: float | None = 60.0
) -> Enumeration:
    """Enumerate the condensed reactions of the complexes in PIL ``text``.

    ``max_complex_size`` (strands) bounds the search; a larger complex raises
    :class:`~nncrn.ConvergenceError`, as does running past ``time_limit`` seconds: both say
    to enumerate module by module instead (:func:`nncrn.dsd.verify` does that always).
    """
    enumerator = require("peppercornenumerator.enumerator")
    objects = require("peppercornenumerator.objects")
    start = time.perf_counter()
    try:
        try:
            with _time_limit(time_limit), deep_recursion():
                enum, _ = enumerator.enumerate_pil(
                    text,
                    detailed=False,
                    condensed=True,
                    max_complex_size=max_complex_size,
                    enumconc="M",
                )
        except _Timeout:
            raise ConvergenceError(
                f"peppercorn did not finish enumerating within {time_limit} s; raise "
                "time_limit, or verify module by module (verify(..., whole=False))"
            ) from None
        except enumerator.PolymerizationError as err:
            raise ConvergenceError(
                f"peppercorn met a complex of more than {max_complex_size} strands ({err}); "
                "raise max_complex_size if the design really forms one, or verify module by "
                "module (verify(..., whole=False))"
            ) from None
        macro = {
            str(m.name): tuple(_complex(c) for c in m.complexes) for m in enum.resting_macrostates
        }
        reactions = []
        for r in enum.condensed_reactions:
            rate, units = r.rate_constant
            if r.arity[0] > 1 and units != "/M/s":
                raise ConvergenceError(f"peppercorn reported a rate in {units}, not /M/s")
            reactions.append(EnumeratedReaction(tuple(str(x.name) for x in r.reactants),
                                                tuple(str(x.name) for x in r.products),
                                                float(rate)))  # fmt: skip
        del enum
    finally:
        objects.clear_memory()
    return Enumeration(macro, tuple(reactions), time.perf_counter() - start)
