"""A compiled iris classifier under intrinsic noise: agreement rises with the volume."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
datasets = pytest.importorskip("sklearn.datasets")

from nncrn.compile import compile_network  # noqa: E402
from nncrn.nn import SmoothReLU  # noqa: E402
from nncrn.simulate import fixed_point, gillespie, noise_study  # noqa: E402


@pytest.fixture(scope="module")
def iris():
    X, y = datasets.load_iris(return_X_y=True)
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 8), SmoothReLU(0.01), torch.nn.Linear(8, 3), SmoothReLU(0.01)
    )
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    for _ in range(300):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xt), yt).backward()
        opt.step()
    low, high = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    net = compile_network(model, input_range=np.stack([low, high], axis=1))
    return net, X, y


def test_agreement_rises_with_volume_small(iris):
    net, X, y = iris
    X, y = X[::10], y[::10]
    study = noise_study(net, X, y, volumes=[3, 30, 3000], runs=2, rng=0, t_end=30.0)
    assert study.agreement[0] < 0.9  # a few molecules per species: the answer is often wrong
    assert study.agreement[0] <= study.agreement[1] <= study.agreement[2]
    assert study.agreement[2] >= 0.95
    assert study.deterministic_accuracy >= 0.9
    assert study.item_agreement.shape == (3, len(X))


def test_exact_and_tau_leaping_agree_on_a_compiled_network(iris):
    net, X, _ = iris
    det = fixed_point(net, X[[0, 75]]).outputs
    res = gillespie(net, X[[0, 75]], volume=50, t_end=30.0, runs=2, rng=1, n_times=0)
    assert np.all(res.agreement(det) == 1)
    assert np.allclose(res.outputs.mean(axis=1), det, atol=0.15 * det.max())


@pytest.mark.slow
def test_agreement_reaches_99_percent_at_volume_1e4(iris):
    net, X, y = iris
    study = noise_study(net, X, y, volumes=[10, 100, 1000, 10000], runs=4, rng=0)
    assert np.all(np.diff(study.agreement) > -2 * study.agreement_se[1:])
    assert study.agreement[-1] >= 0.99
