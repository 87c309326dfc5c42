"""Built-in classification datasets: scikit-learn's bundled tables and generated 2-D patterns.

Nothing is downloaded: iris, wine, breast_cancer and digits ship inside scikit-learn, and
the 2-D patterns are generated from a seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nncrn._errors import InputError

__all__ = ["DATASETS", "Dataset", "load_dataset"]

_BUNDLED = ("iris", "digits", "wine", "breast_cancer")
_GENERATED = ("moons", "circles")
DATASETS = _BUNDLED + _GENERATED


@dataclass(frozen=True)
class Dataset:
    """A classification table: features ``X (n, d)``, class indices ``y (n,)`` and names.

    ``classes[k]`` names class ``k``; ``feature_names[j]`` names column ``j`` of ``X``.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    classes: list[str]
    feature_names: list[str]

    @property
    def majority_rate(self) -> float:
        """Share of the most frequent class: the accuracy of always predicting it."""
        return float(np.bincount(self.y).max() / len(self.y))


def load_dataset(name: str, *, n_samples: int = 256, noise: float = 0.15,
                 seed: int = 0) -> Dataset:  # fmt: skip
    """One built-in dataset by name (see :data:`DATASETS`).

    ``"iris"``, ``"wine"``, ``"breast_cancer"`` and ``"digits"`` (8x8 images, 64 features)
    are scikit-learn's bundled copies. ``"moons"`` (two interleaving half circles) and
    ``"circles"`` (a disc inside a ring) are 2-D two-class patterns of ``n_samples``
    points with Gaussian ``noise``, generated from ``seed``; the other arguments are
    ignored for the bundled tables.

    >>> ds = load_dataset("iris")
    >>> ds.X.shape, ds.classes
    ((150, 4), ['setosa', 'versicolor', 'virginica'])
    """
    from sklearn import datasets

    if name not in DATASETS:
        raise InputError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    if name in _BUNDLED:
        bunch = getattr(datasets, f"load_{name}")()
        classes = [str(c) for c in getattr(bunch, "target_names", np.unique(bunch.target))]
        return Dataset(name, bunch.data.astype(np.float64), bunch.target.astype(np.int64),
                       classes, [str(f) for f in bunch.feature_names])  # fmt: skip
    if not isinstance(n_samples, int) or n_samples < 4:
        raise InputError(f"load_dataset({name!r}): n_samples must be an integer >= 4, got {n_samples!r}")
    if not 0 <= noise < np.inf:
        raise InputError(f"load_dataset({name!r}): noise must be finite and >= 0, got {noise!r}")
    if name == "moons":
        X, y = datasets.make_moons(n_samples, noise=noise, random_state=seed)
        classes = ["upper", "lower"]
    else:
        X, y = datasets.make_circles(n_samples, noise=noise / 2, factor=0.5, random_state=seed)
        classes = ["ring", "disc"]
    return Dataset(name, X.astype(np.float64), y.astype(np.int64), classes, ["x1", "x2"])
