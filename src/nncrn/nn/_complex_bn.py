"""Complex batch normalization (Trabelsi et al., "Deep Complex Networks", ICLR 2018).

Each complex feature ``z = x + iy`` is a 2-vector ``(x, y)``: centred, whitened by the
inverse square root of its 2x2 covariance ``V``, then mapped by a learned symmetric 2x2
``gamma`` and shifted by a learned complex ``beta``. In evaluation mode the whole map is
affine per feature, ``M (z - mu) + beta`` with ``M = gamma V^(-1/2)``, so the compiler folds
it into the complex layer before it (:meth:`ComplexBatchNorm1d.affine`).
"""

from __future__ import annotations

import math

import torch

from nncrn._errors import InputError
from nncrn.nn._complex import _need_complex

__all__ = ["ComplexBatchNorm1d"]


def _inverse_sqrt(rr: torch.Tensor, ri: torch.Tensor, ii: torch.Tensor):
    """Entries ``(a, b, d)`` of ``[[a, b], [b, d]] = V^(-1/2)`` for SPD ``V = [[rr, ri], [ri, ii]]``.

    Closed form: with ``s = sqrt(det V)`` and ``t = sqrt(tr V + 2 s)``, ``sqrt(V) = (V + s I) / t``,
    whose inverse is ``[[ii + s, -ri], [-ri, rr + s]] / (s t)``.
    """
    s = torch.sqrt(rr * ii - ri * ri)
    t = torch.sqrt(rr + ii + 2.0 * s)
    k = 1.0 / (s * t)
    return (ii + s) * k, -ri * k, (rr + s) * k


class ComplexBatchNorm1d(torch.nn.Module):
    """2x2 whitening batch normalization of ``(batch, num_features)`` complex values.

    Parameters
    ----------
    num_features:
        Complex features.
    eps:
        Added to the diagonal of each covariance (default ``1e-5``, torch's BatchNorm).
    momentum:
        Weight of the batch statistics in the running ones (default 0.1, torch's).

    Notes
    -----
    ``gamma`` starts at ``I / sqrt(2)`` (``gamma_rr = gamma_ii = 1/sqrt(2)``, ``gamma_ri =
    0``) so the output has unit complex variance, ``beta`` at 0, the running covariance at
    ``I / 2`` and the running mean at 0. Training mode normalises with the batch's
    statistics and updates the running ones; evaluation mode uses the running ones.

    Examples
    --------
    >>> import torch
    >>> bn = ComplexBatchNorm1d(1).eval()
    >>> M, c = bn.affine()  # running covariance I / 2 whitened, then gamma = I / sqrt(2)
    >>> [round(v, 4) for v in M.flatten().tolist()], c.tolist()  # eps = 1e-5 moves M by 1e-5
    ([1.0, 0.0, 0.0, 1.0], [[0.0, 0.0]])
    """

    # buffers registered in __init__; named here so they type as tensors, not Tensor | Module
    running_mean: torch.Tensor
    running_cov: torch.Tensor

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, int) or num_features < 1:
            raise InputError(
                f"ComplexBatchNorm1d num_features is {num_features!r}; it must be an integer >= 1"
            )
        if not (math.isfinite(eps) and eps > 0):
            raise InputError(f"ComplexBatchNorm1d eps is {eps!r}; it must be finite and > 0")
        if not (0.0 <= momentum <= 1.0):
            raise InputError(f"ComplexBatchNorm1d momentum is {momentum!r}; it must be in [0, 1]")
        self.num_features, self.eps, self.momentum = num_features, float(eps), float(momentum)
        n = num_features
        self.gamma_rr = torch.nn.Parameter(torch.full((n,), 1.0 / math.sqrt(2.0)))
        self.gamma_ri = torch.nn.Parameter(torch.zeros(n))
        self.gamma_ii = torch.nn.Parameter(torch.full((n,), 1.0 / math.sqrt(2.0)))
        self.beta_real = torch.nn.Parameter(torch.zeros(n))
        self.beta_imag = torch.nn.Parameter(torch.zeros(n))
        self.register_buffer("running_mean", torch.zeros(n, 2))
        self.register_buffer("running_cov", torch.tensor([0.5, 0.0, 0.5]).repeat(n, 1))

    def _statistics(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mean (n, 2), covariance entries (n, 3) = [rr, ri, ii])`` to normalise with."""
        if not self.training:
            return self.running_mean, self.running_cov
        if z.shape[0] < 2:
            raise InputError(
                f"ComplexBatchNorm1d in training mode got a batch of {z.shape[0]}; a covariance "
                "needs at least 2 items (use batches of >= 2, or call .eval())"
            )
        x, y = z.real, z.imag
        mean = torch.stack([x.mean(0), y.mean(0)], dim=1)
        xc, yc = x - mean[:, 0], y - mean[:, 1]
        cov = torch.stack([(xc * xc).mean(0), (xc * yc).mean(0), (yc * yc).mean(0)], dim=1)
        with torch.no_grad():
            m = self.momentum
            self.running_mean.mul_(1 - m).add_(m * mean.detach())
            self.running_cov.mul_(1 - m).add_(m * cov.detach())
        return mean, cov

    def _map(self, cov: torch.Tensor) -> torch.Tensor:
        """``M = gamma V^(-1/2)`` as ``(n, 2, 2)``."""
        a, b, d = _inverse_sqrt(cov[:, 0] + self.eps, cov[:, 1], cov[:, 2] + self.eps)
        whiten = torch.stack([torch.stack([a, b], -1), torch.stack([b, d], -1)], -2)
        g = torch.stack([torch.stack([self.gamma_rr, self.gamma_ri], -1),
                         torch.stack([self.gamma_ri, self.gamma_ii], -1)], -2)  # fmt: skip
        return g @ whiten

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        _need_complex(z, "ComplexBatchNorm1d")
        if z.ndim != 2 or z.shape[1] != self.num_features:
            raise InputError(
                f"ComplexBatchNorm1d({self.num_features}) takes (batch, {self.num_features}) "
                f"values, got shape {tuple(z.shape)}"
            )
        mean, cov = self._statistics(z)
        M = self._map(cov)
        v = torch.view_as_real(z) - mean  # (batch, n, 2)
        out = (M @ v.unsqueeze(-1)).squeeze(-1)
        return torch.complex(out[..., 0] + self.beta_real, out[..., 1] + self.beta_imag)

    @torch.no_grad()
    def affine(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(M (n, 2, 2), c (n, 2))`` of the evaluation-mode map ``(x, y) -> M (x, y) + c``.

        Computed from the running statistics whatever the mode, as a compiled network runs it.
        """
        M = self._map(self.running_cov)
        beta = torch.stack([self.beta_real, self.beta_imag], dim=1)
        return M, beta - (M @ self.running_mean.unsqueeze(-1)).squeeze(-1)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps!r}, momentum={self.momentum!r}"
