"""The command line's scheme names: the one name -> scheme table (the library takes objects)."""

from __future__ import annotations

from typing import Any

from nncrn._errors import InputError

SCHEME_NAMES = ("smooth-relu", "rectified-root", "sigmoid", "dual-rail")
# schemes `train`/`demo` train for: the model's own activation compiles exactly
TRAINABLE = ("smooth-relu", "dual-rail")


def make_scheme(name: str, eps: float) -> Any:
    """The scheme object for a CLI name; ``eps`` is the smoothed ReLU's (or rectified root's)."""
    from nncrn.compile import ChemicalSigmoidScheme, DualRail, Polynomial, SmoothReLUScheme

    if name == "smooth-relu":
        return SmoothReLUScheme(eps)
    if name == "rectified-root":
        return Polynomial.rectified_root(3, eps)
    if name == "sigmoid":
        return ChemicalSigmoidScheme()
    if name == "dual-rail":
        return DualRail(rescale=True)
    raise InputError(f"--scheme {name!r}: choose one of {', '.join(SCHEME_NAMES)}")
