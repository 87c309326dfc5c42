"""``CRNClassifier`` / ``CRNRegressor``: fit an MLP, compile it, predict with the chemistry."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from nncrn._errors import InputError, NNCRNWarning

__all__ = ["CRNClassifier", "CRNRegressor"]

_SCHEMES = ("smooth-relu", "dual-rail")


class _CRNBase(BaseEstimator):
    """Shared fit/compile/simulate logic; subclasses set the loss and the output map."""

    _loss = "cross_entropy"

    def __init__(self, hidden: tuple[int, ...] = (32, 16), *, scheme: str = "smooth-relu",
                 eps: float = 1e-3, epochs: int = 200, lr: float = 1e-2, batch_size: int = 32,
                 discretize: str | None = None, bits: int = 2, qat: bool = False,
                 qat_epochs: int = 300, random_state: int = 0, solver: Any = None) -> None:  # fmt: skip
        self.hidden = hidden
        self.scheme = scheme
        self.eps = eps
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.discretize = discretize
        self.bits = bits
        self.qat = qat
        self.qat_epochs = qat_epochs
        self.random_state = random_state
        self.solver = solver

    def _check_params(self):
        from nncrn.data import Discretization

        if self.scheme not in _SCHEMES:
            raise InputError(f"{type(self).__name__}(scheme={self.scheme!r}); choose one of {_SCHEMES}")
        hidden = tuple(int(h) for h in (self.hidden if self.hidden is not None else ()))
        if any(h < 1 for h in hidden):
            raise InputError(f"{type(self).__name__}(hidden={self.hidden!r}): every width must be >= 1")
        if not (isinstance(self.eps, int | float) and 0 < self.eps < np.inf):
            raise InputError(f"{type(self).__name__}(eps={self.eps!r}) must be finite and > 0")
        how = None
        if self.discretize is not None:
            how = Discretization(self.discretize, self.bits, qat=bool(self.qat),
                                 qat_epochs=self.qat_epochs)  # fmt: skip
        if self.scheme == "dual-rail" and (how is None or not how.integer_levels):
            raise InputError(
                f"{type(self).__name__}(scheme='dual-rail') needs weights that are integer "
                "multiples of one unit per layer: pass discretize='ternary' (or 'binary', or "
                "'linear' with bits=N), with qat=True to train for the levels"
            )
        return hidden, how

    def _fit_network(self, X: np.ndarray, targets: np.ndarray, n_out: int) -> None:
        from nncrn.compile import DualRail, SmoothReLUScheme, compile_network
        from nncrn.data import (
            MinMaxScaling,
            build_mlp,
            discretize_mlp,
            fold_offset,
            infer_input_range,
            train_mlp,
        )

        hidden, how = self._check_params()
        self.scaling_ = MinMaxScaling.fit(X)
        A = self.scaling_.transform(X)
        activation = "relu" if self.scheme == "dual-rail" else "smooth_relu"
        mlp = build_mlp((X.shape[1], *hidden, n_out), activation, self.eps, self.random_state)
        mlp = train_mlp(mlp, A, targets, epochs=self.epochs, lr=self.lr, batch_size=self.batch_size,
                        seed=self.random_state, loss=self._loss)  # fmt: skip
        if how is not None:
            if self._loss != "cross_entropy" and how.qat:
                raise InputError(f"{type(self).__name__}: qat=True trains classifiers only; "
                                 "use qat=False (post-training discretization) for regression")  # fmt: skip
            mlp = discretize_mlp(mlp, A, targets, how, seed=self.random_state)
        self.model_ = fold_offset(mlp, self.scaling_.low, self.scaling_.input_scale).eval()
        self.input_range_ = infer_input_range(X)
        scheme = DualRail(rescale=True) if self.scheme == "dual-rail" else SmoothReLUScheme(self.eps)
        self.network_ = compile_network(self.model_, scheme=scheme, input_range=self.input_range_,
                                        input_scale=self.scaling_.input_scale)  # fmt: skip

    def _network_outputs(self, X: object) -> np.ndarray:
        """Steady-state outputs ``(n, n_out)`` of the network, in the model's units."""
        from nncrn.simulate import steady_state

        check_is_fitted(self, "network_")
        Xa: np.ndarray = validate_data(self, X, reset=False, dtype=np.float64)
        if self.input_range_ is not None:
            lows = np.array([lo for lo, _ in self.input_range_])
            below = int((Xa < lows).sum())
            if below:
                warnings.warn(
                    f"{below} feature values lie below the input range the network was "
                    "compiled with (concentrations cannot be negative); they were clipped to it",
                    NNCRNWarning,
                    stacklevel=3,
                )
                Xa = np.maximum(Xa, lows)
        elif (Xa < 0).any():
            raise InputError(
                f"{type(self).__name__}: X has negative values but every training feature was "
                ">= 0, so each feature is a concentration; refit on data that includes such "
                "values, or shift the features"
            )
        ss = steady_state(self.network_, Xa, solver=self.solver)  # raises if any item fails
        return ss.outputs * float(self.network_.metadata.get("output_scale", 1.0))


class CRNClassifier(ClassifierMixin, _CRNBase):
    """A classifier whose answers are steady states of a compiled reaction network.

    ``fit`` min-max scales the features (kept as the network's ``input_scale``), trains an
    MLP with cross entropy (``SmoothReLU(eps)`` hidden layers for ``scheme="smooth-relu"``,
    ReLU for ``"dual-rail"``), optionally discretizes its weights (``discretize`` =
    ``"binary"``, ``"ternary"``, ``"linear"`` or ``"exponential"`` with ``bits``, ``qat``
    to train for the levels) and compiles it: ``network_`` (a :class:`~nncrn.ReactionNetwork`),
    ``model_`` (the torch model it computes), ``classes_``.

    ``decision_function`` returns the network's outputs (the logits, computed as chemistry;
    for two classes the difference ``out_1 - out_0``); ``predict`` their argmax;
    ``predict_proba`` their softmax, which is computed outside the chemistry. A steady state
    that does not converge raises :class:`~nncrn.ConvergenceError` (pass a ``solver`` to
    change the solver's settings).

    >>> from nncrn.data import load_dataset
    >>> ds = load_dataset("iris")
    >>> clf = CRNClassifier(hidden=(8,), epochs=100).fit(ds.X, ds.y)
    >>> round(clf.score(ds.X, ds.y), 2) >= 0.9
    True
    """

    def fit(self, X: object, y: object) -> CRNClassifier:
        Xa, ya = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(ya)
        encoder = LabelEncoder().fit(ya)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise InputError(
                f"CRNClassifier needs at least 2 classes in y; got {len(self.classes_)} class "
                f"({list(self.classes_)})"
            )
        self._fit_network(Xa, encoder.transform(ya), len(self.classes_))
        return self

    def decision_function(self, X: object) -> np.ndarray:
        out = self._network_outputs(X)
        return out[:, 1] - out[:, 0] if out.shape[1] == 2 else out

    def predict_proba(self, X: object) -> np.ndarray:
        out = self._network_outputs(X)
        z = np.exp(out - out.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def predict(self, X: object) -> np.ndarray:
        out = self._network_outputs(X)  # checks that the estimator is fitted first
        return self.classes_[out.argmax(axis=1)]


class CRNRegressor(RegressorMixin, _CRNBase):
    """A regressor whose answers are steady states of a compiled reaction network.

    As :class:`CRNClassifier`, trained with mean squared error on targets standardized by
    their training mean and standard deviation (``y_mean_``, ``y_scale_``). For real
    weights the standardization is folded into the last layer, so the network's outputs
    are the predictions; with ``discretize`` the weights stay on their levels and
    ``predict`` applies ``out * y_scale_ + y_mean_`` to the network's outputs
    (``qat`` is for classifiers only).
    """

    _loss = "mse"

    def fit(self, X: object, y: object) -> CRNRegressor:
        import torch

        Xa, ya = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        Y = ya.reshape(len(ya), -1)
        self._single_output = ya.ndim == 1
        mean, scale = Y.mean(axis=0), Y.std(axis=0)
        scale[scale == 0] = 1.0
        self._fit_network(Xa, (Y - mean) / scale, Y.shape[1])
        self.y_mean_, self.y_scale_ = mean, scale
        if self.discretize is None:  # fold the target scaling into the last layer
            from nncrn.compile import SmoothReLUScheme, compile_network

            last = [m for m in self.model_.modules() if isinstance(m, torch.nn.Linear)][-1]
            with torch.no_grad():
                last.weight.mul_(torch.as_tensor(scale)[:, None])
                last.bias.mul_(torch.as_tensor(scale)).add_(torch.as_tensor(mean))
            self.network_ = compile_network(self.model_, scheme=SmoothReLUScheme(self.eps),
                                            input_range=self.input_range_,
                                            input_scale=self.scaling_.input_scale)  # fmt: skip
            self.y_mean_, self.y_scale_ = np.zeros_like(mean), np.ones_like(scale)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def predict(self, X: object) -> np.ndarray:
        out = self._network_outputs(X) * self.y_scale_ + self.y_mean_
        return out[:, 0] if self._single_output else out
