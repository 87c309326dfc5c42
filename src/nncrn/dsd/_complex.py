"""Domain-level complexes: strands of named domains, a dot-paren structure, PIL text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from nncrn._errors import NetworkError

__all__ = ["Complex", "Kind", "complement", "pil_text"]


class Kind(StrEnum):
    """What a complex is in a design: a formal signal or a fuel held in excess."""

    SIGNAL = "signal"
    FUEL = "fuel"


def complement(domain: str) -> str:
    """``a`` -> ``a*`` and ``a*`` -> ``a``."""
    return domain[:-1] if domain.endswith("*") else domain + "*"


@dataclass(frozen=True)
class Complex:
    """A complex: strands (5' to 3', domain names, ``*`` for a complement) and their pairing.

    ``structure`` has one character per domain of each strand: ``(`` opens a pair that a
    later ``)`` closes (across strands, as in dot-paren notation), ``.`` is unpaired.
    ``concentration`` is in molar; for a fuel it is the amount supplied.
    """

    name: str
    strands: tuple[tuple[str, ...], ...]
    structure: tuple[str, ...]
    kind: Kind = Kind.FUEL
    concentration: float = 0.0

    def __post_init__(self) -> None:
        if len(self.strands) != len(self.structure) or any(
            len(s) != len(p) for s, p in zip(self.strands, self.structure, strict=True)
        ):
            raise NetworkError(f"complex {self.name}: structure does not match its strands")
        stack: list[str] = []
        for strand, pattern in zip(self.strands, self.structure, strict=True):
            for domain, char in zip(strand, pattern, strict=True):
                if char == "(":
                    stack.append(domain)
                elif char == ")":
                    if not stack or complement(stack.pop()) != domain:
                        raise NetworkError(
                            f"complex {self.name}: domain {domain} closes a pair with a "
                            "domain that is not its complement"
                        )
                elif char != ".":
                    raise NetworkError(f"complex {self.name}: structure character {char!r}")
        if stack:
            raise NetworkError(f"complex {self.name}: {len(stack)} unclosed pairs")

    @property
    def domains(self) -> tuple[str, ...]:
        return tuple(d for s in self.strands for d in s)

    def kernel(self) -> str:
        """Kernel notation as PIL reads it, e.g. ``a( b( c + ) )``."""
        parts: list[str] = []
        for i, (strand, pattern) in enumerate(zip(self.strands, self.structure, strict=True)):
            if i:
                parts.append("+")
            for domain, char in zip(strand, pattern, strict=True):
                parts.append(")" if char == ")" else f"{domain}(" if char == "(" else domain)
        return " ".join(parts)

    def nucleotides(self, lengths: Mapping[str, int]) -> int:
        return sum(lengths[d.rstrip("*")] for d in self.domains)


def pil_text(
    complexes: Sequence[Complex], lengths: Mapping[str, int], header: Sequence[str] = ()
) -> str:
    """PIL text: ``length`` lines for each domain used, then one line per complex.

    A complex given twice (the same strands and structure under two names) is written
    once, under its first name. Fuel concentrations are written in nM with ``@initial``; signals have none (their
    amounts come with each input).
    """
    seen: set[tuple] = set()
    unique = []
    for c in complexes:  # one complex twice in a tube is one species: keep the first name
        if (c.strands, c.structure) not in seen:
            seen.add((c.strands, c.structure))
            unique.append(c)
    complexes = unique
    used: dict[str, None] = {}
    for c in complexes:
        for d in c.domains:
            used.setdefault(d.rstrip("*"), None)
    lines = [f"# {h}" for h in header]
    lines += [f"length {d} = {lengths[d]}" for d in used]
    lines.append("")
    for c in complexes:
        conc = f" @initial {c.concentration * 1e9:.6g} nM" if c.kind is Kind.FUEL else ""
        lines.append(f"{c.name} = {c.kernel()}{conc}")
    return "\n".join(lines) + "\n"
