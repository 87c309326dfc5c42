"""fit never hands back a network worse than it was given (by the loss that picks the epoch)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nncrn import InputError
from nncrn.compile import compile_network
from nncrn.nn import SmoothReLU
from nncrn.simulate import fixed_point
from nncrn.train import fit


@pytest.fixture(scope="module")
def task():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (60, 2))
    y = (X[:, 0] > X[:, 1]).astype(int)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 4), SmoothReLU(0.01), torch.nn.Linear(4, 2))
    # a good start: a few epochs of ordinary training
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(200):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(torch.tensor(X, dtype=torch.float32)),
                                          torch.tensor(y)).backward()  # fmt: skip
        opt.step()
    return compile_network(model.double()), X, y


def _loss(net, X, y):
    out = torch.tensor(fixed_point(net, X).outputs)
    return float(torch.nn.functional.cross_entropy(out, torch.tensor(y)))


def test_a_diverging_learning_rate_returns_the_best_epoch_not_the_last(task):
    net, X, y = task
    start = _loss(net, X, y)
    last, hist_last = fit(net, X, y, epochs=6, lr=3.0, keep_best=False)
    best, hist = fit(net, X, y, epochs=6, lr=3.0)
    assert _loss(last, X, y) > start  # the steps make it worse: the check below can fail
    assert hist.final_loss == pytest.approx(_loss(best, X, y), rel=1e-9)
    assert _loss(best, X, y) <= start + 1e-12
    assert hist.initial_loss == pytest.approx(start, rel=1e-9)
    assert hist.monitored[hist.best_epoch] == hist.monitored.min()
    assert hist_last.best_epoch == 6


def test_validation_rows_pick_the_epoch_and_are_checked(task):
    net, X, y = task
    _, hist = fit(net, X, y, epochs=4, lr=0.05, validation=0.25, rng=0)
    assert hist.monitored.shape == (5,) and 0 <= hist.best_epoch <= 4
    with pytest.raises(InputError, match="validation"):
        fit(net, X, y, epochs=1, validation=1.0)
    with pytest.raises(InputError, match="at least one row"):
        fit(net, X[:2], y[:2], epochs=1, validation=0.1)
