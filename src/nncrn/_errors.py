"""Exception and warning hierarchy of nncrn.

Every exception also inherits from the built-in a caller would naturally catch
(``ValueError`` for bad input, ``RuntimeError`` for a failed computation), the way
scikit-learn's ``NotFittedError`` is both a ``ValueError`` and an ``AttributeError``.
Messages say what is wrong, the constraint, the value received and the fix.
"""

from __future__ import annotations

__all__ = [
    "ApproximationWarning",
    "ConvergenceError",
    "ConvergenceWarning",
    "FormatError",
    "InputError",
    "NNCRNError",
    "NNCRNWarning",
    "NetworkError",
    "UnsupportedModelError",
]


class NNCRNError(Exception):
    """Base class of every error raised by nncrn."""


class NetworkError(NNCRNError, ValueError):
    """A reaction network violates an invariant (unknown species, bad rate constant, ...)."""


class InputError(NNCRNError, ValueError):
    """Inputs or initial concentrations are malformed: wrong shape, NaN, negative, out of range."""


class FormatError(NNCRNError, ValueError):
    """A file or text (JSON, SBML, CRN text, model file) is malformed or of an unsupported version."""


class UnsupportedModelError(NNCRNError, TypeError):
    """A model contains a layer, activation or structure the chosen scheme cannot express."""


class ConvergenceError(NNCRNError, RuntimeError):
    """A solver did not reach its target (steady state, end time) for some batch items."""


class NNCRNWarning(UserWarning):
    """Base class of every warning issued by nncrn."""


class ConvergenceWarning(NNCRNWarning):
    """Issued instead of :class:`ConvergenceError` when a solver runs with ``throw=False``."""


class ApproximationWarning(NNCRNWarning):
    """The compiled network computes a stated approximation of the model (ReLU -> sigma_eps)."""
