"""A network's output values: :class:`Readout`, ``[plus] - [minus]`` of two species."""

from __future__ import annotations

from dataclasses import dataclass

from nncrn._errors import NetworkError
from nncrn.network._reaction import check_text
from nncrn.network._species import check_name

__all__ = ["Readout"]


@dataclass(frozen=True)
class Readout:
    """One output value of a network: ``[plus] - [minus]`` (or ``[plus]`` when ``minus`` is None).

    A smoothed-ReLU output neuron is read from one species; an exact linear output is read
    as the difference of a positive-part and a negative-part species.
    """

    name: str
    plus: str
    minus: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise NetworkError(f"readout name must be a non-empty string, got {self.name!r}")
        check_text(self.name, "readout name is", "rename the readout")
        check_name(self.plus, "readout species")
        if self.minus is not None:
            check_name(self.minus, "readout species")
            if self.minus == self.plus:
                raise NetworkError(
                    f"readout {self.name!r} uses species {self.plus!r} as both plus and minus part"
                )
