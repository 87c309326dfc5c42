"""nncrn.nn.SmoothReLU: forward values, autograd (first and second order), repr, validation."""

import numpy as np
import pytest
import torch

from nncrn._activations import smooth_relu
from nncrn.nn import SmoothReLU


@pytest.mark.parametrize("eps", [1e-3, 1e-2, 1.0])
def test_forward_matches_numpy(eps):
    z = torch.linspace(-30, 30, 601, dtype=torch.float64)
    np.testing.assert_allclose(SmoothReLU(eps)(z).numpy(), smooth_relu(z.numpy(), eps), rtol=1e-15)


def test_float32_and_shape_preserved():
    z = torch.randn(4, 3, 2)
    out = SmoothReLU()(z)
    assert out.shape == z.shape and out.dtype == torch.float32


@pytest.mark.parametrize("eps", [1e-3, 1.0])
def test_gradcheck_first_and_second_order(eps):
    z = torch.tensor([-40.0, -2.0, -1e-3, 0.0, 1e-3, 0.7, 30.0], dtype=torch.float64,
                     requires_grad=True)  # fmt: skip
    f = SmoothReLU(eps)
    assert torch.autograd.gradcheck(f, (z,))
    assert torch.autograd.gradgradcheck(f, (z,))


def test_eps_zero_gradient_has_no_nan():
    z = torch.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    SmoothReLU(0.0)(z).sum().backward()
    assert z.grad.tolist() == [0.0, 0.0, 1.0]


def test_extra_repr_shows_eps():
    assert repr(SmoothReLU(0.01)) == "SmoothReLU(eps=0.01)"
    assert "eps=0.001" in repr(torch.nn.Sequential(torch.nn.Linear(2, 2), SmoothReLU()))


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_bad_eps(bad):
    with pytest.raises(ValueError, match="finite and >= 0"):
        SmoothReLU(bad)


@pytest.mark.parametrize("rate", [0, -1.0, float("inf"), "0.5", True, None])
def test_torch_chemical_sigmoid_refuses_a_bad_rate_with_input_error(rate):
    from nncrn import InputError
    from nncrn.nn import ChemicalSigmoid as TorchSigmoid

    with pytest.raises(InputError, match="finite number > 0"):
        TorchSigmoid(rate)


def test_torch_rectified_root_refuses_k_below_two_with_input_error():
    from nncrn import InputError
    from nncrn.nn import RectifiedRoot

    with pytest.raises(InputError, match="integer k >= 2"):
        RectifiedRoot(1)
