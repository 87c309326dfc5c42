"""The SBML of a compiled 64-32-10 digits MLP, simulated by libRoadRunner, matches nncrn."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from nncrn.export import to_sbml
from nncrn.network import input_concentrations

pytest.importorskip("libsbml")
roadrunner = pytest.importorskip("roadrunner")


@pytest.mark.slow
def test_digits_mlp_sbml_agrees_with_nncrn_steady_state():
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier

    from nncrn.compile import SmoothReLUScheme, compile_network
    from nncrn.simulate import steady_state

    x, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn's ConvergenceWarning; ReLU approximation
        clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, random_state=0).fit(x / 16, y)
        net = compile_network(clf, scheme=SmoothReLUScheme(1e-3), input_range=(0.0, 1.0))
    inputs = x[:20] / 16
    ours = steady_state(net, inputs).concentrations
    conc = input_concentrations(net, inputs)
    rr = roadrunner.RoadRunner(to_sbml(net))
    rr.integrator.relative_tolerance = 1e-12
    rr.integrator.absolute_tolerance = 1e-14
    names = list(net.species_names)
    selections = [f"[{n}]" for n in names]
    for row in range(len(inputs)):
        rr.reset()
        # Set the current values: changing init() of a constant species makes roadrunner
        # regenerate the whole model (~40 s here); reset() leaves constant species alone.
        for j, name in enumerate(net.inputs):
            rr.setValue(f"[{name}]", float(conc[row, j]))
        # slowest decay rate >= 2 sqrt(eps) ~ 0.063: t = 1500 leaves far below 1e-12
        result = np.asarray(rr.simulate(0, 1500, 3, selections))
        np.testing.assert_allclose(result[-1], result[-2], rtol=1e-9, atol=1e-13)
        np.testing.assert_allclose(result[-1], ours[row], rtol=1e-6, atol=1e-12)
