"""Species: a named chemical with a role in the computation."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from nncrn._errors import NetworkError
from nncrn.network._numbers import as_real, fmt_number

__all__ = ["Role", "Species", "check_name"]


class Role(StrEnum):
    """What a species stands for in a compiled network.

    ``INPUT`` species start at the input concentrations; where they only act as
    catalysts (the AJD construction) no reaction changes them and they stay there, while
    schemes such as :class:`~nncrn.DualRail` consume them like any other species (every
    species some reaction changes is integrated). ``OUTPUT`` species are read out;
    ``HIDDEN`` are the neurons between; ``AUXILIARY`` is everything else (fuel, helpers,
    or any species of a network that was not compiled from a neural network).
    """

    INPUT = "input"
    HIDDEN = "hidden"
    OUTPUT = "output"
    AUXILIARY = "auxiliary"


def check_name(name: object, what: str = "species name") -> str:
    """Return ``name`` if it is a valid identifier (ASCII letters, digits, ``_``; no leading digit)."""
    if not isinstance(name, str) or not name.isascii() or not name.isidentifier():
        raise NetworkError(
            f"{what} {name!r} is not a valid identifier: names must be ASCII letters, digits "
            "and '_' and must not start with a digit (so that SBML ids and CRN text can use "
            "them unchanged); rename it, e.g. to 'X_1'"
        )
    return name


def _fmt_range(value: object) -> str:
    if isinstance(value, tuple | list):
        return "(" + ", ".join(fmt_number(v) for v in value) + ")"
    return fmt_number(value)


@dataclass(frozen=True)
class Species:
    """A chemical species.

    Parameters
    ----------
    name:
        Identifier, unique within a network.
    role:
        :class:`Role` of the species (default ``AUXILIARY``).
    initial:
        Initial concentration (>= 0) used when a simulation is not given one.
    input_range:
        Only for ``INPUT`` species: the ``(low, high)`` range of the feature this species
        encodes. The species' concentration is ``feature - low`` (so features that can be
        negative become non-negative concentrations); ``high`` may be ``math.inf``.
        ``None`` means the feature is itself a concentration (``low = 0``, ``high = inf``).
    input_scale:
        Only for ``INPUT`` species: a finite factor ``> 0`` (default 1) by which the
        shifted feature is multiplied, so the concentration is
        ``(feature - low) * input_scale``. A network trained on min-max scaled features
        keeps the scaling here rather than in its weights, which then stay the trained
        (e.g. ternary) levels while the user still passes features in their own units.
    """

    name: str
    role: Role = Role.AUXILIARY
    initial: float = 0.0
    input_range: tuple[float, float] | None = None
    input_scale: float = 1.0

    def __post_init__(self) -> None:
        check_name(self.name)
        try:
            role = Role(self.role)
        except ValueError:
            allowed = ", ".join(repr(r.value) for r in Role)
            raise NetworkError(
                f"species {self.name!r} has role {self.role!r}; the role must be one of {allowed}"
            ) from None
        object.__setattr__(self, "role", role)
        initial = as_real(self.initial)
        if initial is None or not math.isfinite(initial) or initial < 0:
            kind = "" if initial is not None else f" (a {type(self.initial).__name__})"
            raise NetworkError(
                f"species {self.name!r} has initial concentration "
                f"{fmt_number(self.initial)}{kind}; initial concentrations must be finite "
                "numbers >= 0, e.g. Species('A', initial=0.5)"
            )
        object.__setattr__(self, "initial", initial)
        if self.input_range is not None:
            if role is not Role.INPUT:
                raise NetworkError(
                    f"species {self.name!r} has role {role.value!r} but an input_range; only "
                    "input species have an input_range"
                )
            try:
                low, high = (as_real(v) for v in self.input_range)
            except (TypeError, ValueError):
                low = high = None
            if low is None or high is None:
                raise NetworkError(
                    f"species {self.name!r} has input_range {_fmt_range(self.input_range)}; it "
                    "must be a pair (low, high) of numbers, e.g. (-1.0, 1.0) or (0.0, math.inf)"
                ) from None
            if not math.isfinite(low) or math.isnan(high) or not high > low:
                raise NetworkError(
                    f"species {self.name!r} has input_range ({low}, {high}); low must be finite "
                    "and high > low (high may be inf)"
                )
            object.__setattr__(self, "input_range", (low, high))
        scale = as_real(self.input_scale)
        if scale is None or not math.isfinite(scale) or scale <= 0:
            raise NetworkError(
                f"species {self.name!r} has input_scale {fmt_number(self.input_scale)}; it must "
                "be a finite number > 0 (concentration = (feature - low) * input_scale)"
            )
        if scale != 1.0 and role is not Role.INPUT:
            raise NetworkError(
                f"species {self.name!r} has role {role.value!r} but input_scale {scale!r}; only "
                "input species have an input_scale"
            )
        object.__setattr__(self, "input_scale", scale)
