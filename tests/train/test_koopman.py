"""Koopman acceleration: DMD is exact on linear/affine iterates, clips, truncates, rejects bad jumps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nncrn import InputError
from nncrn.train import (
    Koopman,
    KoopmanAccelerator,
    fit_koopman,
    koopman_train,
    partition,
)


def _regression(seed: int = 0, homogeneous: bool = False):
    """A ``Linear(4, 3)`` model, data, and an SGD step on the MSE loss (affine iterates)."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(30, 4, generator=gen, dtype=torch.float64)
    Y = (
        torch.zeros(30, 3, dtype=torch.float64)
        if homogeneous
        else torch.randn(30, 3, generator=gen, dtype=torch.float64)
    )
    torch.manual_seed(seed)
    model = torch.nn.Linear(4, 3, bias=not homogeneous).double()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)

    def loss() -> torch.Tensor:
        return ((model(X) - Y) ** 2).mean()

    def step() -> float:
        opt.zero_grad()
        value = loss()
        value.backward()
        opt.step()
        return float(value.detach())

    def evaluate() -> float:
        with torch.no_grad():
            return float(loss())

    step.data = (X, Y)
    return model, step, evaluate


def _snapshots(model, step, n: int) -> torch.Tensor:
    flat = [torch.nn.utils.parameters_to_vector(model.parameters()).detach().clone()]
    for _ in range(n):
        step()
        flat.append(torch.nn.utils.parameters_to_vector(model.parameters()).detach().clone())
    return torch.stack(flat)


@pytest.mark.parametrize("kind", ["node", "layer"])
def test_dmd_predicts_gradient_descent_on_least_squares_exactly(kind):
    # GD on a quadratic is w' = (I - lr H) w + lr c: affine, so the operator with the
    # constant observable reproduces T = 300 further steps (to 1e-8 of weights ~0.1: the
    # window's SVD has a condition number ~1e4, amplified over 300 steps).
    model, step, _ = _regression()
    k = Koopman(window=20, horizon=300, partition=kind)
    S = _snapshots(model, step, 20)
    ops = fit_koopman(S, partition(model, kind), k)
    truth = _snapshots(model, step, 300)[-1]
    predicted = ops.predict(S[-1])
    moved = float((truth - S[-1]).abs().max())
    assert moved > 0.05  # the 300 steps go somewhere: the test is not trivially passed
    np.testing.assert_allclose(predicted.numpy(), truth.numpy(), rtol=0, atol=1e-7)
    assert ops.n_clipped == 0
    assert (ops.max_abs_eig <= 1 + 1e-9).all() and (ops.max_abs_eig > 0.99).all()
    assert (ops.residual < 1e-8).all()  # the window is exactly affine


def test_a_window_of_many_snapshots_takes_the_qr_path_and_stays_exact():
    # 200 snapshots of 6 dimensions (node + constant): F^T is factored by QR before the SVD
    model, step, _ = _regression()
    S = _snapshots(model, step, 200)
    ops = fit_koopman(S, partition(model), Koopman(window=200, horizon=300))
    truth = _snapshots(model, step, 300)[-1]
    assert float((truth - S[-1]).abs().max()) > 1e-3
    np.testing.assert_allclose(ops.predict(S[-1]).numpy(), truth.numpy(), rtol=0, atol=1e-9)
    assert (ops.residual < 1e-8).all() and ops.rank.tolist() == [6, 6, 6]


def test_linear_dmd_misses_the_affine_part_but_is_exact_on_linear_iterates():
    model, step, _ = _regression()
    S = _snapshots(model, step, 20)
    truth = _snapshots(model, step, 300)[-1]
    plain = fit_koopman(S, partition(model), Koopman(window=20, horizon=300, affine=False))
    assert float((plain.predict(S[-1]) - truth).abs().max()) > 1e-3
    # no bias, no target: w' = (I - lr H) w is linear, and plain DMD is exact
    model, step, _ = _regression(homogeneous=True)
    S = _snapshots(model, step, 20)
    truth = _snapshots(model, step, 300)[-1]
    plain = fit_koopman(S, partition(model), Koopman(window=20, horizon=300, affine=False))
    np.testing.assert_allclose(plain.predict(S[-1]).numpy(), truth.numpy(), rtol=0, atol=1e-10)


def test_eigenvalues_above_the_clip_are_scaled_onto_it():
    # w(t) = 1.05^t v + 0.5^t u: clip=1 keeps the growing mode at its size, clip=None grows it
    v, u = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 1.0])
    S = np.stack([1.05**t * v + 0.5**t * u for t in range(11)])
    groups = [np.arange(3)]
    clipped = fit_koopman(S, groups, Koopman(window=10, horizon=40, affine=False))
    free = fit_koopman(S, groups, Koopman(window=10, horizon=40, affine=False, clip=None))
    assert clipped.n_clipped == 1 and free.n_clipped == 0
    np.testing.assert_allclose(clipped.max_abs_eig, [1.05], rtol=1e-10)
    expect_free = 1.05**50 * v + 0.5**50 * u
    np.testing.assert_allclose(free.predict(S[-1]).numpy(), expect_free, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(clipped.predict(S[-1]).numpy(), 1.05**10 * v + 0.5**50 * u,
                               rtol=1e-9, atol=1e-12)  # fmt: skip


def test_rank_truncation_keeps_the_leading_modes_and_leaves_the_rest_in_place():
    # a 40-wide node moving in a 2-d subspace, plus a fixed offset in a third direction
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(40, 3)))[0].T
    S = np.stack([0.9**t * basis[0] + 0.7**t * basis[1] + 5.0 * basis[2] for t in range(9)])
    k = Koopman(window=8, horizon=30, affine=False, rank=3)
    ops = fit_koopman(S, [np.arange(40)], k)
    assert ops.rank.tolist() == [3]
    expect = 0.9**38 * basis[0] + 0.7**38 * basis[1] + 5.0 * basis[2]
    np.testing.assert_allclose(ops.predict(S[-1]).numpy(), expect, atol=1e-9)
    # rank 1: the jump moves w only along the leading singular direction of the window
    one = fit_koopman(S, [np.arange(40)], Koopman(window=8, horizon=30, affine=False, rank=1))
    assert one.rank.tolist() == [1]
    lead = np.linalg.svd(S[:-1].T)[0][:, 0]
    move = one.predict(S[-1]).numpy() - S[-1]
    assert np.abs(move).max() > 1e-3
    np.testing.assert_allclose(move, lead * (lead @ move), atol=1e-12)


def test_a_jump_that_raises_the_loss_is_rejected_and_undone():
    # Adam's early steps are ~lr each: a ramp, extrapolated 500 steps it overshoots the
    # minimum at 1 by ~4, so the jump must be refused and the weights put back.
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([w], lr=0.01)

    def step() -> float:
        opt.zero_grad()
        value = ((w - 1.0) ** 2).sum()
        value.backward()
        opt.step()
        return float(value.detach())

    def evaluate() -> float:
        return float(((w.detach() - 1.0) ** 2).sum())

    acc = KoopmanAccelerator(w, Koopman(window=20, horizon=500))
    for _ in range(20):
        step()
        due = acc.after_step()
    assert due
    before = w.detach().clone()
    jump = acc.jump(evaluate)
    assert not jump.accepted
    assert jump.loss_after > 5 * jump.loss_before
    assert 0.15 < float(before) < 0.25  # 20 steps of ~0.01
    assert np.sqrt(jump.loss_after) > 2  # the ramp extrapolated past the minimum, to w > 3
    assert torch.equal(w.detach(), before)
    assert acc.iteration == 20 and acc.steps == 20


def test_koopman_train_beats_plain_gradient_descent_at_equal_steps():
    model, step, evaluate = _regression()
    hist = koopman_train(model, step, evaluate, steps=60, koopman=Koopman(window=20, horizon=300))
    _, plain_step, plain_eval = _regression()
    for _ in range(60):
        plain_step()
    assert len(hist.jumps) == 3 and hist.accepted == 3
    assert hist.iteration[-1] == 60 + 3 * 300
    assert hist.evaluations == 6
    # the jumps are exact GD: the loss equals GD after 960 steps, far below GD after 60
    _, ref_step, ref_eval = _regression()
    for _ in range(960):
        ref_step()
    assert evaluate() == pytest.approx(ref_eval(), rel=1e-9)
    X, Y = step.data
    Xb = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], 1)
    best = float(((Xb @ torch.linalg.lstsq(Xb, Y).solution - Y) ** 2).mean())
    assert evaluate() - best < 1e-3 * (plain_eval() - best)


def test_partition_of_a_sequential_model():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    nodes = partition(model, "node")
    assert [g.size for g in nodes] == [4] * 4 + [5] * 2
    assert nodes[0].tolist() == [0, 1, 2, 12]  # row 0 of the weight, then bias[0]
    assert nodes[4].tolist() == [16, 17, 18, 19, 24]
    assert [g.size for g in partition(model, "layer")] == [16, 10]
    assert len(partition(model, "weight")) == 26
    assert np.array_equal(np.sort(np.concatenate(nodes)), np.arange(26))
    assert [g.size for g in partition([torch.zeros(2, 3), torch.zeros(4)])] == [6, 4]


def test_settings_are_validated_with_the_fix():
    with pytest.raises(InputError, match="multiples of stride"):
        Koopman(window=10, horizon=25, stride=10)
    with pytest.raises(InputError, match="partition='neuron'"):
        Koopman(partition="neuron")
    with pytest.raises(InputError, match=r"clip=-1.*or None"):
        Koopman(clip=-1)
    with pytest.raises(InputError, match="at least 2 snapshots"):
        fit_koopman(np.zeros((1, 3)), [np.arange(3)], Koopman())
    with pytest.raises(InputError, match="diverged"):
        fit_koopman(np.full((3, 2), np.nan), [np.arange(2)], Koopman())
    with pytest.raises(InputError, match="after_step"):
        KoopmanAccelerator(torch.zeros(2), Koopman(window=3)).jump(lambda: 0.0)


def test_stride_maps_several_steps_per_application():
    model, step, _ = _regression()
    S = _snapshots(model, step, 40)[::5]  # every 5th step: 9 snapshots of 5 + 1 dimensions
    truth = _snapshots(model, step, 300)[-1]
    ops = fit_koopman(S, partition(model), Koopman(window=40, horizon=300, stride=5))
    np.testing.assert_allclose(ops.predict(S[-1]).numpy(), truth.numpy(), atol=1e-7)
    with pytest.raises(InputError, match="multiple of stride=5"):
        ops.predict(S[-1], steps=12)
