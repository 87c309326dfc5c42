"""train_mlp(accelerate=...): Koopman jumps during the MLP training of ``nncrn train``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nncrn import InputError
from nncrn.data import build_mlp, train_mlp
from nncrn.train import Koopman


def _task():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (160, 3))
    y = (X[:, 0] + X[:, 1] > 1).astype(np.int64) + (X[:, 2] > 0.6)
    return X, y


def _loss(model, X, y) -> float:
    with torch.no_grad():
        return float(torch.nn.functional.cross_entropy(model(torch.from_numpy(X)), torch.from_numpy(y)))


def test_jumps_happen_every_window_and_only_lower_the_loss():
    X, y = _task()
    init = build_mlp((3, 8, 3), seed=1)
    fast = train_mlp(init, X, y, epochs=6, accelerate=Koopman(window=10, horizon=30))
    jumps = fast.koopman_jumps
    assert [j.step for j in jumps] == [10, 20, 30]  # 160 rows / 32 = 5 steps per epoch
    for j in jumps:
        assert j.accepted == (j.loss_after <= j.loss_before)
    # the first jump starts from exactly the weights of 10 plain Adam steps (2 epochs)
    plain = train_mlp(init, X, y, epochs=2)
    assert jumps[0].loss_before == pytest.approx(_loss(plain, X, y), rel=1e-12)
    assert train_mlp(init, X, y, epochs=1).koopman_jumps == ()


def test_accelerate_is_validated():
    X, y = _task()
    with pytest.raises(InputError, match="accelerate='fast'"):
        train_mlp(build_mlp((3, 3)), X, y, epochs=1, accelerate="fast")
