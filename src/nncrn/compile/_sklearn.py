"""Parse a fitted scikit-learn ``MLPClassifier``/``MLPRegressor`` into a :class:`LayerStack`."""

from __future__ import annotations

import numpy as np

from nncrn._errors import UnsupportedModelError
from nncrn.compile._layers import DenseLayer, LayerStack, check_finite

__all__ = ["parse_sklearn", "sklearn_output_names"]

_HIDDEN = {"relu": "relu", "identity": "identity"}


def parse_sklearn(model: object) -> LayerStack:
    """The layers of a fitted MLP; ``coefs_[l]`` is ``(n_in, n_out)`` and is transposed.

    Hidden activation ``relu`` or ``identity``; the classifier's output activation
    (``softmax`` or ``logistic``) is dropped, so the outputs are logits. A binary
    classifier has one logit output (the positive class ``classes_[1]``).
    """
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    kind = type(model).__name__
    if not isinstance(model, MLPClassifier | MLPRegressor):
        raise UnsupportedModelError(
            f"scikit-learn model {kind} is not supported; compile_network reads fitted "
            "MLPClassifier and MLPRegressor models"
        )
    if not hasattr(model, "coefs_"):
        raise UnsupportedModelError(
            f"this {kind} is not fitted (it has no coefs_); call model.fit(X, y) before compiling"
        )
    act = model.activation
    if act not in _HIDDEN:
        raise UnsupportedModelError(
            f"{kind} has activation={act!r}; nncrn compiles scikit-learn MLPs with "
            "activation 'relu' or 'identity' only: no nncrn scheme (SmoothReLUScheme, DualRail, "
            f"Polynomial, ChemicalSigmoidScheme) has a reaction-network form of a {act} neuron. "
            "Retrain with activation='relu', or train a torch model with "
            "nncrn.nn.ChemicalSigmoid for a bounded activation"
        )
    n_layers = len(model.coefs_)
    layers = []
    for k, (w, b) in enumerate(zip(model.coefs_, model.intercepts_, strict=True)):
        last = k == n_layers - 1
        activation = "identity" if last else _HIDDEN[act]
        where = f"{kind} {'output' if last else 'hidden'} layer {k} (coefs_[{k}])"
        w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
        # checked before the transpose, so the index reads as in the model: coefs_[k][i_in, j_out]
        check_finite(where, f"coefs_[{k}]", w)
        check_finite(where, f"intercepts_[{k}]", b)
        layers.append(DenseLayer(w.T, b, activation, None, where))
    dropped = []
    out = getattr(model, "out_activation_", "identity")
    if out != "identity":
        dropped.append(f"output activation {out!r} (argmax unchanged; outputs are logits)")
    return LayerStack(tuple(layers), f"sklearn.neural_network.{kind}", tuple(dropped))


def sklearn_output_names(model: object, n_outputs: int) -> tuple[list[str], list | None]:
    """Readout names and the class labels (JSON-compatible) of a fitted MLP.

    Multiclass: one logit per class, named by the class label. Binary: one logit, named
    by the positive class ``classes_[1]``. Multi-label and regressors: ``y0, y1, ...``, and
    so are classifiers whose labels would make duplicate or empty names (``""``).
    """
    default = [f"y{i}" for i in range(n_outputs)]
    classes = getattr(model, "classes_", None)
    if classes is None:
        return default, None
    labels = [c.item() if isinstance(c, np.generic) else c for c in np.asarray(classes).tolist()]
    binarizer = getattr(model, "_label_binarizer", None)
    multilabel = getattr(binarizer, "y_type_", "") == "multilabel-indicator"
    if multilabel:
        return default, labels
    if len(labels) == n_outputs:
        names = [str(c) for c in labels]
    elif len(labels) == 2 and n_outputs == 1:
        names = [str(labels[1])]
    else:
        return default, labels
    usable = len(set(names)) == len(names) and all(names)
    return (names if usable else default), labels
