"""Robustness of a network's answers to rate-constant noise and to early readout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from nncrn._display import html_table, require_pandas
from nncrn._errors import InputError, NetworkError
from nncrn.network import (
    ReactionNetwork,
    input_concentrations,
    input_features,
    require_network,
    require_readout,
)
from nncrn.simulate import Solver, fixed_point, integrate, steady_state
from nncrn.simulate._solver import check_setting_int
from nncrn.train._fit import as_rng
from nncrn.train._layered import NotFeedForward, build_layered
from nncrn.train._terms import extract_terms

if TYPE_CHECKING:
    import pandas
    from matplotlib.axes import Axes

__all__ = ["EarlyReadout", "NoiseRobustness", "early_readout", "rate_noise"]

# Elements of the largest intermediate (draws x batch x entries) per chunk: ~160 MB float64.
_CHUNK_ELEMENTS = 2e7


@dataclass(frozen=True)
class NoiseRobustness:
    """Accuracy and agreement under log-normal rate noise.

    Attributes
    ----------
    sigmas:
        ``(n_sigma,)`` standard deviations of ``log k`` (every rate ``k -> k exp(sigma xi)``,
        ``xi ~ N(0, 1)`` independent per reaction and draw; the median rate is unchanged).
    agreement, accuracy:
        ``(n_sigma, n_draws)`` per-draw fraction of inputs whose argmax equals the
        noise-free network's (agreement) or the label (accuracy; None without labels). For a
        network compiled from a smoothed-ReLU model the noise-free steady state *is* the
        model's output, so agreement is agreement with the neural network.
    clean_accuracy:
        Accuracy of the noise-free network (None without labels).
    method:
        ``"layered"`` (all draws in one batched closed-form pass) or ``"steady_state"``.
    """

    sigmas: np.ndarray
    agreement: np.ndarray
    accuracy: np.ndarray | None
    clean_accuracy: float | None
    n_draws: int
    method: str

    def to_dataframe(self) -> pandas.DataFrame:
        """Tidy frame: one row per (sigma, draw) with ``agreement`` (and ``accuracy``).

        ``frame.groupby(level="sigma").describe()`` summarises each sigma. Needs pandas
        (``pip install pandas``).
        """
        pd = require_pandas("NoiseRobustness.to_dataframe")
        index = pd.MultiIndex.from_product([self.sigmas, range(self.agreement.shape[1])],
                                           names=["sigma", "draw"])  # fmt: skip
        data = {"agreement": self.agreement.ravel()}
        if self.accuracy is not None:
            data["accuracy"] = self.accuracy.ravel()
        return pd.DataFrame(data, index=index)

    def plot(self, ax: Axes | None = None) -> Axes:
        """Box plot of agreement per sigma; see :func:`nncrn.plot.plot_rate_noise`."""
        from nncrn.plot import plot_rate_noise

        return plot_rate_noise(self, ax)

    def _repr_html_(self) -> str:
        header = ["sigma", "agreement mean", "min", "5%"]
        if self.accuracy is not None:
            header += ["accuracy mean", "min"]
        rows = []
        for k, s in enumerate(self.sigmas):
            ag = self.agreement[k]
            acc = [] if self.accuracy is None else [self.accuracy[k].mean(), self.accuracy[k].min()]
            rows.append([s, ag.mean(), ag.min(), np.quantile(ag, 0.05), *acc])
        clean = "" if self.clean_accuracy is None else f", noise-free accuracy {self.clean_accuracy:.3f}"
        summary = f"NoiseRobustness({self.n_draws} draws per sigma, method={self.method}{clean})"
        return html_table(summary, header, rows, noun="sigmas")


def _labels(labels: object, n: int, n_out: int) -> np.ndarray | None:
    if labels is None:
        return None
    from nncrn.train._fit import check_labels

    return check_labels(labels, n, n_out, "cross_entropy")


def _sigmas(sigmas: object) -> np.ndarray:
    try:
        s = np.atleast_1d(np.asarray(sigmas, dtype=np.float64))
    except (TypeError, ValueError):
        s = np.array([np.nan])
    if s.ndim != 1 or s.size == 0 or not np.isfinite(s).all() or (s < 0).any():
        raise InputError(f"sigmas must be a non-empty list of finite numbers >= 0; got {sigmas!r}")
    return s


def rate_noise(
    network: ReactionNetwork,
    X: object,
    labels: object = None,
    *,
    sigmas: object = (0.1, 0.3, 1.0),
    n_draws: int = 32,
    rng: object = None,
    solver: Solver | None = None,
) -> NoiseRobustness:
    """Perturb every rate constant log-normally ``n_draws`` times per sigma; score the answers.

    A feed-forward network is evaluated for all draws at once (draws stacked in front of
    the batch of the closed-form layer pass); other networks call
    :func:`nncrn.simulate.steady_state` once per draw. ``X`` is ``(n, n_inputs)`` features,
    ``labels`` optional class indices ``(n,)``. 32 draws put the standard error of a mean
    agreement below ``0.5 / sqrt(32) ~ 0.09`` in the worst case, typically far less.
    """
    network = require_network(network, "rate_noise")
    require_readout(network, "rate_noise")
    n_draws = check_setting_int("rate_noise", "n_draws", n_draws)
    sig = _sigmas(sigmas)
    conc = input_concentrations(network, X)
    Xa = input_features(network, X)
    y = _labels(labels, conc.shape[0], len(network.outputs))
    gen = as_rng(rng)
    xi = gen.standard_normal((sig.size, n_draws, network.n_reactions))
    terms = extract_terms(network)
    try:
        plan = build_layered(network, terms)
    except NotFeedForward:
        plan = None
    if plan is not None:
        cols = torch.tensor([network.index(s) for s in network.inputs], dtype=torch.long)
        x = torch.from_numpy(conc)
        w0 = torch.from_numpy(terms.weights)
        pos = torch.from_numpy(terms.positions)

        def run(factors: np.ndarray) -> np.ndarray:  # (D, n_reactions) -> (D, n, n_out)
            f = torch.from_numpy(factors)
            chunk = max(1, int(_CHUNK_ELEMENTS // max(1, x.shape[0] * plan.param.numel())))
            outs = []
            with torch.no_grad():
                for s in range(0, f.shape[0], chunk):
                    fc = f[s : s + chunk]
                    st = plan.state(x, w0 * fc[:, pos], cols, fixed_scale=fc)
                    outs.append(plan.outputs(st).numpy())
            return np.concatenate(outs)
    else:

        def run(factors: np.ndarray) -> np.ndarray:
            rates = network.stoichiometry.rates
            return np.stack([steady_state(network.with_rates(rates * f), Xa, solver=solver).outputs
                             for f in factors])  # fmt: skip

    clean = run(np.ones((1, network.n_reactions)))[0].argmax(1)
    agree = np.empty((sig.size, n_draws))
    acc = None if y is None else np.empty((sig.size, n_draws))
    for k, s in enumerate(sig):
        pred = run(np.exp(s * xi[k])).argmax(-1)  # (D, n)
        agree[k] = (pred == clean).mean(1)
        if acc is not None:
            acc[k] = (pred == y).mean(1)
    clean_acc = None if y is None else float((clean == y).mean())
    return NoiseRobustness(sig, agree, acc, clean_acc, n_draws,
                           "layered" if plan is not None else "steady_state")  # fmt: skip


@dataclass(frozen=True)
class EarlyReadout:
    """Answers read at chemical times ``times`` (from each species' initial concentration).

    ``agreement (n_times,)``: fraction of inputs whose argmax at time ``T`` equals the
    steady state's; ``accuracy (n_times,)`` the same against labels (None without);
    ``undecided (n_times,)``: fraction of inputs with no single largest output at ``T``
    (e.g. every output still 0 at the start). An undecided input counts as neither
    agreeing nor correct: the argmax of a tie would name a class the chemistry has not
    chosen.
    """

    times: np.ndarray
    agreement: np.ndarray
    accuracy: np.ndarray | None
    steady_accuracy: float | None
    undecided: np.ndarray | None = None

    def to_dataframe(self) -> pandas.DataFrame:
        """One row per readout time (index ``time``): ``agreement`` (and ``accuracy``).

        Needs pandas (``pip install pandas``).
        """
        pd = require_pandas("EarlyReadout.to_dataframe")
        data = {"agreement": self.agreement}
        if self.accuracy is not None:
            data["accuracy"] = self.accuracy
        if self.undecided is not None:
            data["undecided"] = self.undecided
        return pd.DataFrame(data, index=pd.Index(self.times, name="time"))

    def plot(self, ax: Axes | None = None) -> Axes:
        """Agreement (and accuracy) against readout time; see :func:`nncrn.plot.plot_early_readout`."""
        from nncrn.plot import plot_early_readout

        return plot_early_readout(self, ax)

    def _repr_html_(self) -> str:
        header = ["time", "agreement", *(() if self.accuracy is None else ("accuracy",))]
        rows = [[t, self.agreement[k], *(() if self.accuracy is None else (self.accuracy[k],))]
                for k, t in enumerate(self.times)]  # fmt: skip
        steady = "" if self.steady_accuracy is None else f", steady-state accuracy {self.steady_accuracy:.3f}"
        summary = f"EarlyReadout({self.times.size} readout times{steady})"
        return html_table(summary, header, rows, noun="times")


def early_readout(
    network: ReactionNetwork,
    X: object,
    labels: object = None,
    *,
    times: object = None,
    solver: Solver | None = None,
) -> EarlyReadout:
    """Accuracy versus readout time ``T`` via :func:`nncrn.simulate.integrate`.

    ``times`` default: 16 log-spaced times from 0.1 to 1000 — the slowest compiled neuron
    settles at rate ``>= 2 sqrt(eps)`` (0.063 at ``eps = 1e-3``), so per layer ~16/0.063
    time units suffice in the worst case and 1000 covers a few layers.
    """
    network = require_network(network, "early_readout")
    require_readout(network, "early_readout")
    try:
        t = np.geomspace(0.1, 1000.0, 16) if times is None else np.asarray(times, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            f"times={times!r}; pass increasing chemical times > 0, e.g. times=[1, 10, 100]"
        ) from None
    traj = integrate(network, X, t, solver=solver)
    try:
        final = fixed_point(network, X).outputs
    except NetworkError:
        final = steady_state(network, X, solver=solver).outputs
    y = _labels(labels, final.shape[0], len(network.outputs))
    ref = final.argmax(1)
    pred = _decided_argmax(traj.outputs)  # (n, n_times); -1 where no single output leads
    agree = (pred == ref[:, None]).mean(0)
    acc = None if y is None else (pred == y[:, None]).mean(0)
    steady_acc = None if y is None else float((ref == y).mean())
    return EarlyReadout(t, agree, acc, steady_acc, (pred < 0).mean(0))


def _decided_argmax(outputs: np.ndarray) -> np.ndarray:
    """Argmax over the last axis, or -1 where the top two outputs tie (to 1e-9 relative)."""
    if outputs.shape[-1] < 2:
        return np.zeros(outputs.shape[:-1], dtype=np.int64)
    top2 = np.sort(outputs, axis=-1)[..., -2:]
    tie = top2[..., 1] - top2[..., 0] <= 1e-9 * np.maximum(1.0, np.abs(top2[..., 1]))
    return np.where(tie | ~np.isfinite(top2[..., 1]), -1, outputs.argmax(-1))
