"""nncrn.nn complex layers: values, the real-layer blocks, quantization, STE gradient, errors."""

import math

import numpy as np
import pytest
import torch

from nncrn._errors import InputError
from nncrn.nn import ComplexBatchNorm1d, ComplexLinear, ComplexSmoothReLU, ComplexToReal, CReLU


def _set(layer, A, B, br=None, bi=None):
    with torch.no_grad():
        layer.weight_real.copy_(torch.as_tensor(A, dtype=layer.weight_real.dtype))
        layer.weight_imag.copy_(torch.as_tensor(B, dtype=layer.weight_imag.dtype))
        if br is not None:
            layer.bias_real.copy_(torch.as_tensor(br, dtype=layer.bias_real.dtype))
            layer.bias_imag.copy_(torch.as_tensor(bi, dtype=layer.bias_imag.dtype))


def test_float_layer_is_the_complex_affine_map():
    layer = ComplexLinear(2, 1).double()
    _set(layer, [[2.0, 0.0]], [[1.0, -1.0]], [0.5], [-0.25])
    x = torch.tensor([[1.0 + 1.0j, 3.0 - 2.0j]], dtype=torch.complex128)
    # (2 + i)(1 + i) + (0 - i)(3 - 2i) + (0.5 - 0.25i) = (1 + 3i) + (-2 - 3i) + 0.5 - 0.25i
    assert layer(x).detach().numpy().tolist() == [[-0.5 - 0.25j]]


def test_real_layer_has_the_blocks_and_computes_the_same_function():
    torch.manual_seed(1)
    layer = ComplexLinear(3, 2).double()
    with torch.no_grad():
        layer.bias_real.normal_(), layer.bias_imag.normal_()
    W, b = layer.real_layer()
    A, B = layer.weight_real.detach(), layer.weight_imag.detach()
    assert torch.equal(W[0::2, 0::2], A) and torch.equal(W[1::2, 1::2], A)
    assert torch.equal(W[0::2, 1::2], -B) and torch.equal(W[1::2, 0::2], B)
    x = torch.randn(4, 3, dtype=torch.complex128)
    z = torch.view_as_real(layer(x).detach()).flatten(1)
    torch.testing.assert_close(torch.view_as_real(x).flatten(1) @ W.T + b, z, rtol=0, atol=1e-14)


def test_real_input_reads_x_plus_zero_i():
    layer = ComplexLinear(2, 1, real_input=True).double()
    _set(layer, [[1.0, -2.0]], [[3.0, 0.5]], [1.0], [0.0])
    out = layer(torch.tensor([[2.0, 1.0]], dtype=torch.float64))
    assert out.detach().numpy().tolist() == [[1.0 + 6.5j]]
    W, b = layer.real_layer()
    assert W.tolist() == [[1.0, -2.0], [3.0, 0.5]] and b.tolist() == [1.0, 0.0]


def test_binary_weights_are_alpha_times_signs_shared_by_both_parts():
    layer = ComplexLinear(2, 1, weights="binary", bias=False).double()
    _set(layer, [[0.3, -0.1]], [[0.0, -0.6]])
    with torch.no_grad():
        layer.alpha.fill_(0.25)
    A, B = layer.weight_parts()
    assert A.tolist() == [[0.25, -0.25]] and B.tolist() == [[0.25, -0.25]]  # sign(0) = +1
    W, _ = layer.real_layer()
    assert set(W.abs().flatten().tolist()) == {0.25}


def test_binary_alpha_starts_at_the_least_squares_scale():
    torch.manual_seed(0)
    layer = ComplexLinear(5, 4, weights="binary")
    parts = torch.cat([layer.weight_real, layer.weight_imag]).detach().abs()
    assert layer.alpha.item() == pytest.approx(float(parts.mean()), rel=1e-6)


def test_ternary_threshold_is_over_both_parts():
    layer = ComplexLinear(2, 1, weights="ternary", bias=False).double()
    # mean |w| over A and B = (0.9 + 0.1 + 0.5 + 0.1) / 4 = 0.4; threshold 0.28
    _set(layer, [[0.9, -0.1]], [[-0.5, 0.1]])
    with torch.no_grad():
        layer.alpha.fill_(2.0)
    A, B = layer.weight_parts()
    assert A.tolist() == [[2.0, 0.0]] and B.tolist() == [[-2.0, 0.0]]


def test_straight_through_gradient_is_alpha_inside_the_clip_range():
    layer = ComplexLinear(2, 1, weights="binary", bias=False).double()
    _set(layer, [[0.5, 1.5]], [[-0.2, -3.0]])
    with torch.no_grad():
        layer.alpha.fill_(0.5)
    x = torch.tensor([[1.0 + 0.0j, 1.0 + 0.0j]], dtype=torch.complex128)
    out = layer(x)
    (out.real.sum() + out.imag.sum()).backward()
    # d(Re + Im)/dA_j = Re x_j = 1 for both parts: gradient alpha * 1{|w| <= 1}
    assert layer.weight_real.grad.tolist() == [[0.5, 0.0]]
    assert layer.weight_imag.grad.tolist() == [[0.5, 0.0]]
    # d/dalpha = sum of the signs the output sums: (1 + 1) + (-1 - 1)
    assert float(layer.alpha.grad) == pytest.approx(0.0)
    layer.clip_latent_()
    assert layer.weight_real.tolist() == [[0.5, 1.0]]
    assert layer.weight_imag.tolist() == [[-0.2, -1.0]]


def test_clip_latent_leaves_float_weights_alone():
    layer = ComplexLinear(1, 1).double()
    _set(layer, [[4.0]], [[-4.0]])
    layer.clip_latent_()
    assert layer.weight_real.item() == 4.0 and layer.weight_imag.item() == -4.0


def test_initialisation_variance_and_phase():
    torch.manual_seed(3)
    n_in, n_out = 300, 200
    layer = ComplexLinear(n_in, n_out)
    w = torch.complex(layer.weight_real, layer.weight_imag).detach()
    # Rayleigh(sigma): E|w|^2 = 2 sigma^2 = 2 / (n_in + n_out) = 0.004
    assert float((w.abs() ** 2).mean()) == pytest.approx(2.0 / (n_in + n_out), rel=0.02)
    phase = torch.angle(w)
    assert abs(float(phase.mean())) < 0.02 and float(phase.std()) == pytest.approx(
        math.pi / math.sqrt(3), rel=0.02
    )


def test_activations_act_on_each_part():
    z = torch.tensor([1.0 - 2.0j, -3.0 + 0.5j], dtype=torch.complex128)
    assert CReLU()(z).numpy().tolist() == [1.0 + 0.0j, 0.5j]
    out = ComplexSmoothReLU(0.04)(z).numpy()
    s = lambda v: (v + math.sqrt(v * v + 0.16)) / 2  # noqa: E731
    np.testing.assert_allclose(out, [s(1.0) + 1j * s(-2.0), s(-3.0) + 1j * s(0.5)], rtol=1e-14)
    assert repr(ComplexSmoothReLU(0.01)) == "ComplexSmoothReLU(eps=0.01)"


def test_complex_to_real_interleaves():
    z = torch.tensor([[1.0 + 2.0j, 3.0 - 4.0j]])
    assert ComplexToReal()(z).tolist() == [[1.0, 2.0, 3.0, -4.0]]


@pytest.mark.parametrize("module", [CReLU(), ComplexSmoothReLU(), ComplexToReal(),
                                    ComplexLinear(2, 1)])  # fmt: skip
def test_real_tensor_is_refused_with_the_fix(module):
    with pytest.raises(InputError, match=r"complex tensor.*torch\.complex\(re, im\)"):
        module(torch.zeros(1, 2))


def test_real_input_layer_refuses_complex_tensor():
    with pytest.raises(InputError, match="real_input=False"):
        ComplexLinear(2, 1, real_input=True)(torch.zeros(1, 2, dtype=torch.complex64))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"in_features": 0, "out_features": 1}, "in_features is 0"),
        ({"in_features": 2, "out_features": 1.5}, "out_features is 1.5"),
        ({"in_features": 2, "out_features": 1, "weights": "quaternary"}, "'quaternary'"),
    ],
)
def test_bad_construction_arguments(kwargs, match):
    with pytest.raises(InputError, match=match):
        ComplexLinear(**kwargs)


def test_repr_states_the_settings():
    text = repr(ComplexLinear(3, 2, weights="binary", real_input=True))
    assert "weights='binary'" in text and "real_input=True" in text and "in_features=3" in text


def test_inverse_sqrt_closed_form_matches_eigendecomposition():
    from nncrn.nn._complex_bn import _inverse_sqrt

    V = np.array([[4.0, 1.0], [1.0, 3.0]])
    vals, vecs = np.linalg.eigh(V)
    expected = vecs @ np.diag(vals**-0.5) @ vecs.T
    a, b, d = (
        float(t)
        for t in _inverse_sqrt(*(torch.tensor(v, dtype=torch.float64) for v in (4.0, 1.0, 3.0)))
    )
    np.testing.assert_allclose([[a, b], [b, d]], expected, rtol=1e-13)


def test_batch_norm_whitens_correlated_parts():
    torch.manual_seed(0)
    x = torch.randn(20000, 2, dtype=torch.float64)
    z = torch.complex(3.0 + x[:, :1] * 2.0, -1.0 + x[:, :1] + 0.5 * x[:, 1:])  # (n, 1)
    bn = ComplexBatchNorm1d(1, eps=1e-12, momentum=1.0).double()
    out = torch.view_as_real(bn(z).detach())[:, 0]  # (n, 2)
    np.testing.assert_allclose(out.mean(0).numpy(), [0.0, 0.0], atol=1e-12)
    cov = np.cov(out.numpy().T, bias=True)
    np.testing.assert_allclose(cov, 0.5 * np.eye(2), atol=1e-9)  # unit complex variance
    # momentum 1: the running statistics are the batch's own
    np.testing.assert_allclose(bn.running_mean.numpy()[0], [3.0, -1.0], atol=0.05)


def test_batch_norm_eval_is_its_affine_map():
    torch.manual_seed(2)
    bn = ComplexBatchNorm1d(3).double()
    bn(torch.randn(64, 3, dtype=torch.complex128) * 2 + 1)  # update the running statistics
    with torch.no_grad():
        for p in bn.parameters():
            p.add_(0.3 * torch.randn_like(p))
    bn.eval()
    z = torch.randn(5, 3, dtype=torch.complex128)
    M, c = bn.affine()
    expected = (M @ torch.view_as_real(z).unsqueeze(-1)).squeeze(-1) + c
    torch.testing.assert_close(torch.view_as_real(bn(z).detach()), expected, rtol=0, atol=1e-13)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ComplexBatchNorm1d(0), "num_features is 0"),
        (lambda: ComplexBatchNorm1d(2, eps=0.0), "eps is 0.0"),
        (lambda: ComplexBatchNorm1d(2, momentum=1.5), r"momentum is 1.5; it must be in \[0, 1\]"),
        (lambda: ComplexBatchNorm1d(2)(torch.zeros(1, 2, dtype=torch.complex64)), "batch of 1"),
        (lambda: ComplexBatchNorm1d(2)(torch.zeros(4, 3, dtype=torch.complex64)),
         r"takes \(batch, 2\) values, got shape \(4, 3\)"),
        (lambda: ComplexBatchNorm1d(2)(torch.zeros(4, 2)), "complex tensor"),
    ],
)  # fmt: skip
def test_batch_norm_errors(call, match):
    with pytest.raises(InputError, match=match):
        call()
