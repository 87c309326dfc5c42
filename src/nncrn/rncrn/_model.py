"""The recurrent network itself: parameters, the reduced vector field, compilation to chemistry.

Executive species ``X_1..X_N`` and chemical perceptrons ``Y_1..Y_M`` (Dack, Qureshi,
Ouldridge & Plesa, arXiv 2406.03456) follow

    dx_i/dt    = beta_i + x_i sum_j alpha_ij y_j
    mu dy_j/dt = gamma_j + (sum_i omega_ji x_i + b_j) y_j - tau_j y_j^2

As ``mu -> 0`` each ``y_j`` sits at the positive root of its right-hand side,
``y_j = sigma_{gamma_j tau_j}(s_j) / tau_j`` with ``s = omega x + b`` and ``sigma_eps`` the
smoothed ReLU of the feed-forward construction, so the reduced system is
``dx/dt = beta + x * (alpha @ y(x))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from nncrn._activations import smooth_relu
from nncrn._errors import InputError
from nncrn.network import Reaction, ReactionNetwork, Role, Species

__all__ = ["RNCRN", "check_mu"]


def check_mu(mu: object) -> float:
    """``mu`` as a float, finite and > 0 (the perceptrons' time scale)."""
    try:
        value = float(mu)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(mu, bool) or not math.isfinite(value) or value <= 0:
        raise InputError(
            f"mu is {mu!r}; it must be a finite number > 0 (the perceptrons' time scale "
            "relative to the executive species: small, e.g. 0.01, keeps them at their "
            "quasi-steady state)"
        )
    return value


def _array(value: object, shape: tuple[int, ...], name: str, positive: bool = False) -> np.ndarray:
    a = np.array(value, dtype=np.float64)
    if a.shape != shape:
        raise InputError(f"RNCRN {name} has shape {a.shape}; it must have shape {shape}")
    if not np.isfinite(a).all():
        raise InputError(f"RNCRN {name} must be finite; got {a.tolist()}")
    if positive and (a <= 0).any():
        raise InputError(
            f"RNCRN {name} must be > 0 (it is a rate constant of 0 -> Y or 2 Y -> Y); got "
            f"{a.tolist()}"
        )
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class RNCRN:
    """A recurrent neural chemical reaction network with ``N`` executive and ``M`` perceptron species.

    Parameters
    ----------
    alpha:
        ``(N, M)`` perceptron-to-executive weights (any sign).
    omega:
        ``(M, N)`` executive-to-perceptron weights (any sign).
    bias:
        ``(M,)`` perceptron biases (any sign).
    beta:
        ``(N,)`` constant production of each executive species, ``>= 0`` (0: no ``0 -> X``
        reaction, and ``x = 0`` is invariant).
    gamma, tau:
        ``(M,)`` production and self-annihilation rates of the perceptrons, ``> 0``.
    names:
        Names of the executive variables (default ``X_1..X_N``); perceptrons are ``Y_1..Y_M``.
    """

    alpha: np.ndarray
    omega: np.ndarray
    bias: np.ndarray
    beta: np.ndarray
    gamma: np.ndarray
    tau: np.ndarray
    names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        alpha = np.asarray(self.alpha, dtype=np.float64)
        if alpha.ndim != 2 or 0 in alpha.shape:
            raise InputError(
                f"RNCRN alpha must be a non-empty (N, M) array; got shape {alpha.shape}"
            )
        n, m = alpha.shape
        object.__setattr__(self, "alpha", _array(alpha, (n, m), "alpha"))
        object.__setattr__(self, "omega", _array(self.omega, (m, n), "omega"))
        object.__setattr__(self, "bias", _array(self.bias, (m,), "bias"))
        beta = _array(self.beta, (n,), "beta")
        if (beta < 0).any():
            raise InputError(f"RNCRN beta must be >= 0 (rate of 0 -> X); got {beta.tolist()}")
        object.__setattr__(self, "beta", beta)
        object.__setattr__(self, "gamma", _array(self.gamma, (m,), "gamma", positive=True))
        object.__setattr__(self, "tau", _array(self.tau, (m,), "tau", positive=True))
        names = tuple(f"X_{i + 1}" for i in range(n)) if self.names is None else tuple(self.names)
        if len(names) != n:
            raise InputError(
                f"RNCRN names has {len(names)} entries; give one per executive species ({n})"
            )
        object.__setattr__(self, "names", names)

    @property
    def n_executive(self) -> int:
        """``N``, the dimension of the dynamical system."""
        return self.alpha.shape[0]

    @property
    def n_perceptrons(self) -> int:
        """``M``, the number of chemical perceptrons."""
        return self.alpha.shape[1]

    def _x(self, x: object) -> np.ndarray:
        a = np.asarray(x, dtype=np.float64)
        if a.ndim != 2 or a.shape[1] != self.n_executive:
            raise InputError(
                f"x has shape {a.shape}; pass a (batch, {self.n_executive}) array of executive "
                f"concentrations (a single state is x.reshape(1, -1))"
            )
        return a

    def perceptrons(self, x: object) -> np.ndarray:
        """``(batch, M)`` quasi-steady perceptron concentrations ``y(x)`` for ``x (batch, N)``."""
        s = self._x(x) @ self.omega.T + self.bias
        eps = self.gamma * self.tau
        return np.stack(
            [smooth_relu(s[:, j], float(eps[j])) / self.tau[j] for j in range(self.n_perceptrons)],
            axis=1,
        )

    def vector_field(self, x: object) -> np.ndarray:
        """``(batch, N)`` reduced vector field ``beta + x * (alpha @ y(x))`` (the ``mu -> 0`` limit)."""
        xa = self._x(x)
        return self.beta + xa * (self.perceptrons(xa) @ self.alpha.T)

    def jacobian(self, x: object) -> np.ndarray:
        """``(batch, N, N)`` Jacobian of :meth:`vector_field`, analytic."""
        xa = self._x(x)
        s = xa @ self.omega.T + self.bias
        y = self.perceptrons(xa)
        # dy/ds = y / sqrt(s^2 + 4 gamma tau), from tau y^2 - s y - gamma = 0
        dy = y / np.sqrt(s**2 + 4.0 * self.gamma * self.tau)
        g = y @ self.alpha.T  # (batch, N)
        inner = np.einsum("im,bm,mk->bik", self.alpha, dy, self.omega)
        return xa[:, :, None] * inner + np.einsum("ik,bi->bik", np.eye(self.n_executive), g)

    def full_jacobian(self, x: object, mu: float) -> np.ndarray:
        """``(batch, N + M, N + M)`` Jacobian of the full system at ``(x, y(x))``, time scale ``mu``.

        Axes are ``X_1..X_N, Y_1..Y_M`` (the species order of :meth:`to_network`). At a zero
        of the reduced field, ``(x, y(x))`` is a fixed point of the full system for every
        ``mu``; these eigenvalues decide its stability there.
        """
        mu = check_mu(mu)
        xa = self._x(x)
        n, m = self.n_executive, self.n_perceptrons
        s = xa @ self.omega.T + self.bias
        y = self.perceptrons(xa)
        out = np.zeros((xa.shape[0], n + m, n + m))
        out[:, :n, :n] = np.einsum("ik,bi->bik", np.eye(n), y @ self.alpha.T)
        out[:, :n, n:] = xa[:, :, None] * self.alpha[None]
        out[:, n:, :n] = y[:, :, None] * self.omega[None] / mu
        out[:, n:, n:] = np.einsum("jl,bj->bjl", np.eye(m), (s - 2 * self.tau * y) / mu)
        return out

    # ------------------------------------------------------------------ chemistry
    def rate_constants(self, mu: float) -> np.ndarray:
        """The rate constants of :meth:`to_network` at ``mu``, in its reaction order."""
        return np.array([r.rate for r in self.to_network(mu).reactions])

    def rate_spread(self, mu: float) -> float:
        """Decades between the largest and the smallest rate constant at ``mu`` (``log10 max/min``)."""
        k = self.rate_constants(mu)
        return float(np.log10(k.max() / k.min()))

    def rescaled(self, scale: object) -> RNCRN:
        """The same dynamics with perceptron ``j`` measured in units ``scale[j]`` times larger.

        ``y_j -> y_j / c_j`` maps ``alpha_ij -> c_j alpha_ij``, ``gamma_j -> gamma_j / c_j`` and
        ``tau_j -> c_j tau_j`` and leaves both the reduced and the full dynamics of ``x``
        unchanged (exactly), while it moves rate constants by decades.
        """
        c = np.asarray(scale, dtype=np.float64).reshape(-1)
        if c.shape != (self.n_perceptrons,) or not np.isfinite(c).all() or (c <= 0).any():
            raise InputError(
                f"scale must be {self.n_perceptrons} finite numbers > 0; got {scale!r}"
            )
        return RNCRN(alpha=self.alpha * c, omega=self.omega, bias=self.bias, beta=self.beta,
                     gamma=self.gamma / c, tau=self.tau * c, names=self.names)  # fmt: skip

    def balanced(self, mu: float) -> RNCRN:
        """:meth:`rescaled` with the scales that minimise :meth:`rate_spread` at ``mu`` (a linear program)."""
        from scipy.optimize import linprog

        mu = check_mu(mu)
        n, m = self.n_executive, self.n_perceptrons
        logs: list[float] = []
        rows: list[np.ndarray] = []

        def add(value: float, j: int | None, sign: float) -> None:
            if value != 0:
                logs.append(math.log10(abs(value)))
                row = np.zeros(m)
                if j is not None:
                    row[j] = sign
                rows.append(row)

        for i in range(n):
            for j in range(m):
                add(float(self.alpha[i, j]), j, 1.0)
                add(float(self.omega[j, i]) / mu, None, 0.0)
            add(float(self.beta[i]), None, 0.0)
        for j in range(m):
            add(float(self.bias[j]) / mu, None, 0.0)
            add(float(self.gamma[j]) / mu, j, -1.0)
            add(float(self.tau[j]) / mu, j, 1.0)
        a, l_ = np.array(rows), np.array(logs)
        # variables (u_1..u_M, hi, lo): minimise hi - lo with lo <= l + a u <= hi
        k = len(logs)
        ones = np.ones((k, 1))
        a_ub = np.block([[a, -ones, np.zeros((k, 1))], [-a, np.zeros((k, 1)), ones]])
        b_ub = np.concatenate([-l_, l_])
        cost = np.r_[np.zeros(m), 1.0, -1.0]
        bounds = [(-6.0, 6.0)] * m + [(None, None)] * 2
        res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
        if not res.success:  # pragma: no cover - the program is always feasible and bounded
            return self
        return self.rescaled(10.0 ** res.x[:m])

    def to_network(self, mu: float, *, x0: object = None) -> ReactionNetwork:
        """The mass-action network at perceptron time scale ``mu``: ``2NM + 3M + N`` reactions.

        Weights that are exactly 0 (and ``beta_i = 0``) have no reaction, so a network may
        have fewer. ``x0`` (``(N,)``, default all 1) sets the executive species' initial
        concentrations; the perceptrons start at their quasi-steady state there.

        >>> import numpy as np
        >>> m = RNCRN(alpha=[[1.0, -1.0]], omega=[[1.0], [-1.0]], bias=[0.5, -0.5],
        ...           beta=[0.0], gamma=[1.0, 1.0], tau=[1.0, 1.0])
        >>> m.to_network(0.01).n_reactions  # 2*1*2 + 3*2 + 1, less the absent 0 -> X_1
        10
        """
        mu = check_mu(mu)
        n, m = self.n_executive, self.n_perceptrons
        x_init = np.ones(n) if x0 is None else np.asarray(x0, dtype=np.float64).reshape(-1)
        if x_init.shape != (n,) or not np.isfinite(x_init).all() or (x_init < 0).any():
            raise InputError(f"x0 must be {n} finite concentrations >= 0; got {x0!r}")
        y_init = self.perceptrons(x_init[None, :])[0]
        xs, ys = list(self.names or ()), [f"Y_{j + 1}" for j in range(m)]
        species = [Species(xs[i], Role.OUTPUT, initial=float(x_init[i])) for i in range(n)]
        species += [Species(ys[j], Role.HIDDEN, initial=float(y_init[j])) for j in range(m)]
        reactions: list[Reaction] = []

        def add(reactants: dict, products: dict, rate: float, label: str) -> None:
            if rate != 0:
                reactions.append(Reaction(reactants, products, abs(float(rate)), label))

        for i, x in enumerate(xs):
            for j, y in enumerate(ys):
                a = float(self.alpha[i, j])
                add({x: 1, y: 1}, {x: 2, y: 1} if a > 0 else {y: 1}, a, f"alpha[{i},{j}]")
        for j, y in enumerate(ys):
            for i, x in enumerate(xs):
                w = float(self.omega[j, i])
                add({x: 1, y: 1}, {x: 1, y: 2} if w > 0 else {x: 1}, w / mu, f"omega[{j},{i}]/mu")
            bj = float(self.bias[j])
            add({y: 1}, {y: 2} if bj > 0 else {}, bj / mu, f"bias[{j}]/mu")
            add({}, {y: 1}, float(self.gamma[j]) / mu, f"gamma[{j}]/mu")
            add({y: 2}, {y: 1}, float(self.tau[j]) / mu, f"tau[{j}]/mu")
        for i, x in enumerate(xs):
            add({}, {x: 1}, float(self.beta[i]), f"beta[{i}]")
        meta: dict[str, Any] = {"scheme": "rncrn", "mu": mu, "executive": xs, "perceptrons": ys}
        return ReactionNetwork(tuple(species), tuple(reactions), metadata={"rncrn": meta})

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible parameters (``RNCRN(**d)`` rebuilds the model)."""
        return {
            "alpha": self.alpha.tolist(), "omega": self.omega.tolist(), "bias": self.bias.tolist(),
            "beta": self.beta.tolist(), "gamma": self.gamma.tolist(), "tau": self.tau.tolist(),
            "names": list(self.names or ()),
        }  # fmt: skip

    def __repr__(self) -> str:
        return f"RNCRN(N={self.n_executive}, M={self.n_perceptrons})"
