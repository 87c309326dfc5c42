"""Linear and exponential level sets, binary/ternary, per-layer discretization of networks."""

from __future__ import annotations

import numpy as np
import pytest

from nncrn import InputError
from nncrn.compile import compile_network
from nncrn.train import (
    discretization_levels,
    discretize,
    discretize_network,
    extract_terms,
    quantize_model,
)

from .conftest import small_model


def _laplace(n: int = 400, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).laplace(0.0, 0.1, n)


def _sse(w, q) -> float:
    return float(np.sum((w - q) ** 2))


def test_linear_levels_are_uniform_up_to_max_abs():
    w = np.array([-0.9, 0.3, 0.05, 0.6])
    np.testing.assert_allclose(discretization_levels(w, 3, "linear"), [0, 0.3, 0.6, 0.9])
    np.testing.assert_allclose(discretize(w, 3, "linear"), [-0.9, 0.3, 0.0, 0.6])
    np.testing.assert_allclose(discretize(w, 1, "linear"), [-0.9, 0.9, 0.9, 0.9])


@pytest.mark.parametrize("bits", [3, 4, 5])
def test_exponential_levels_are_geometric_and_minimise_the_error(bits):
    w = _laplace()
    mags = discretization_levels(w, bits, "exponential")
    assert mags.size == 2 ** (bits - 1) and mags[0] == 0
    ratios = mags[2:] / mags[1:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-12)
    best = _sse(w, discretize(w, bits, "exponential"))
    # No other geometric level set (a, r) on a random sample of pairs does better.
    rng = np.random.default_rng(1)
    m = mags.size
    for a, r in zip(rng.uniform(1e-3, 0.3, 300), rng.uniform(1.05, 6.0, 300), strict=True):
        other = np.concatenate([[0.0], a * r ** np.arange(m - 1)])
        mid = (other[1:] + other[:-1]) / 2
        q = np.sign(w) * other[np.searchsorted(mid, np.abs(w))]
        assert _sse(w, q) >= best * (1 - 1e-9)


def test_exponential_beats_linear_on_heavy_tailed_weights():
    w = _laplace()
    for bits in (3, 4, 5):
        assert _sse(w, discretize(w, bits, "exponential")) < 0.8 * _sse(
            w, discretize(w, bits, "linear")
        )


def test_binary_and_ternary_least_squares_scales():
    w = np.array([-0.4, -0.1, 0.02, 0.3, 0.5])
    np.testing.assert_allclose(discretize(w, 1, "binary"), 0.264 * np.sign(w))
    # Threshold 0.7 mean|w| = 0.1848: 0.02 and -0.1 go to 0, the rest share mean 0.4.
    np.testing.assert_allclose(discretize(w, 2, "ternary"), [-0.4, 0, 0, 0.4, 0.4])


@pytest.mark.parametrize("method", ["linear", "exponential"])
def test_network_and_model_discretization_agree(method):
    model = small_model(sizes=(4, 8, 3))
    net = compile_network(model)
    direct = extract_terms(discretize_network(net, 3, method))
    via_model = extract_terms(compile_network(quantize_model(model, 3, method)))
    # A zero level removes a reaction; compare the remaining terms by label.
    a = dict(zip(direct.labels, direct.weights, strict=True))
    b = dict(zip(via_model.labels, via_model.weights, strict=True))
    assert a.keys() == b.keys()
    assert direct.n_terms < extract_terms(net).n_terms  # some weights went to level 0
    np.testing.assert_allclose([a[k] for k in a], [b[k] for k in a], rtol=1e-12)
    terms = direct
    is_bias = np.array(["bias" in lab for lab in terms.labels])
    for layer in (0, 1):
        for flag in (False, True):
            mags = np.unique(np.abs(terms.weights[(terms.layer == layer) & (is_bias == flag)]))
            assert 1 <= mags.size <= 3  # 2^(3-1) magnitudes, one of them 0 (no reaction)


@pytest.mark.parametrize("bits", [0, -1, 2.5, True, 25])
def test_bad_bits_are_rejected(bits):
    with pytest.raises(InputError, match=r"discretize\(bits="):
        discretize(np.ones(3), bits, "linear")


def test_bad_method_and_empty_weights_are_rejected():
    with pytest.raises(InputError, match="choose one of"):
        discretize(np.ones(3), 3, "log")
    with pytest.raises(InputError, match="non-empty"):
        discretize(np.zeros(0), 3, "exponential")
