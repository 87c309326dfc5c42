"""Complex-valued layers (BCNN: Li, Geng, Li & Yu 2021) that compile as real layers.

A complex weight ``W = A + iB`` maps ``h = x + iy`` to ``(A x - B y) + i (B x + A y)``: a
real layer on the interleaved features ``[Re h_0, Im h_0, Re h_1, ...]`` whose weight has
the 2x2 blocks ``[[A, -B], [B, A]]``. Binary weights are ``alpha (sign(A) + i sign(B))``,
so the real layer's weights are ``alpha * {-1, 1}``: one unit per layer, which the
rate-independent dual-rail scheme expresses as stoichiometric coefficients.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from nncrn._activations import check_eps
from nncrn._errors import InputError
from nncrn.nn._real import smooth_relu

__all__ = ["CReLU", "ComplexLinear", "ComplexSmoothReLU", "ComplexToReal"]

WEIGHTS = ("float", "ternary", "binary")


def _need_complex(z: torch.Tensor, who: str) -> None:
    if not torch.is_tensor(z) or not z.is_complex():
        what = f"a real tensor of dtype {z.dtype}" if torch.is_tensor(z) else type(z).__name__
        raise InputError(
            f"{who} takes a complex tensor, got {what}; pass torch.complex(re, im) (or "
            "x.to(torch.complex64)), or use the real module (torch.nn.ReLU, nncrn.nn.SmoothReLU)"
        )


class ComplexLinear(torch.nn.Module):
    """Complex affine map ``z = W h + b``, ``W = A + iB``, with float, ternary or binary weights.

    Parameters
    ----------
    in_features:
        Complex input features (each is two real features once compiled).
    out_features:
        Complex output features (each is two real neurons once compiled).
    weights:
        ``"float"`` (default): ``A``, ``B`` are the weights. ``"binary"``: the forward pass
        uses ``alpha (sign(A) + i sign(B))`` (sign 0 counts as +1); ``"ternary"``: ``alpha
        s(A) + i alpha s(B)`` with ``s(w) = sign(w) 1{|w| > 0.7 mean|w|}`` over ``A`` and
        ``B`` together. ``alpha > 0`` is one learned scale per layer, shared by ``A`` and
        ``B`` (initialised to the least-squares scale), so the compiled real layer has one
        unit. ``A`` and ``B`` are then latent weights with the straight-through gradient
        ``alpha 1{|w| <= 1}`` (BinaryConnect); call :meth:`clip_latent_` after each
        optimizer step to keep them in ``[-1, 1]``, where they can still change sign.
    bias:
        Learn a complex bias ``b`` (kept real-valued per component, never quantized: a
        neuron has one bias against ``2 in_features`` weights).
    real_input:
        True: the input is a real tensor ``(batch, in_features)``, read as ``x + 0i``; the
        compiled layer then has ``in_features`` real inputs, not ``2 in_features``.

    Notes
    -----
    Shapes: input ``(batch, in_features)`` complex (real with ``real_input``), output
    ``(batch, out_features)`` complex. Initialisation (Trabelsi et al. 2018): magnitude
    Rayleigh with ``sigma = 1 / sqrt(in + out)`` (so ``Var W = 2 / (in + out)``, Glorot's),
    phase uniform on ``[-pi, pi)``, from torch's global generator; bias 0.

    Examples
    --------
    >>> import torch
    >>> layer = ComplexLinear(1, 1, bias=False)
    >>> with torch.no_grad():
    ...     _ = layer.weight_real.fill_(2.0), layer.weight_imag.fill_(1.0)
    >>> layer(torch.tensor([[1.0 + 1.0j]]))  # (2 + i)(1 + i) = 1 + 3i
    tensor([[1.+3.j]], grad_fn=<ComplexBackward0>)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        weights: str = "float",
        bias: bool = True,
        real_input: bool = False,
    ) -> None:
        super().__init__()
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise InputError(f"ComplexLinear {name} is {n!r}; it must be an integer >= 1")
        if weights not in WEIGHTS:
            raise InputError(f"ComplexLinear weights={weights!r}; it must be one of {WEIGHTS}")
        self.in_features, self.out_features = in_features, out_features
        self.weights, self.real_input = weights, bool(real_input)
        sigma = 1.0 / math.sqrt(in_features + out_features)
        u = torch.rand(out_features, in_features).clamp_min(1e-12)
        magnitude = sigma * torch.sqrt(-2.0 * torch.log(u))
        phase = (torch.rand(out_features, in_features) * 2.0 - 1.0) * math.pi
        self.weight_real = torch.nn.Parameter(magnitude * torch.cos(phase))
        self.weight_imag = torch.nn.Parameter(magnitude * torch.sin(phase))
        if bias:
            self.bias_real = torch.nn.Parameter(torch.zeros(out_features))
            self.bias_imag = torch.nn.Parameter(torch.zeros(out_features))
        else:
            self.register_parameter("bias_real", None)
            self.register_parameter("bias_imag", None)
        if weights == "float":
            self.register_parameter("alpha", None)
        else:
            a = torch.cat([self.weight_real.detach(), self.weight_imag.detach()]).abs()
            init = a.mean() if weights == "binary" else a[a > 0.7 * a.mean()].mean()
            self.alpha = torch.nn.Parameter(init.reshape(()))

    def weight_parts(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(A, B)`` as the forward pass uses them: quantized values with the STE gradient."""
        A, B = self.weight_real, self.weight_imag
        if self.weights == "float":
            return A, B
        w = torch.stack([A, B])
        clipped = w.clamp(-1.0, 1.0)
        if self.weights == "binary":
            s = torch.where(w >= 0, 1.0, -1.0).to(w.dtype)
        else:
            s = (torch.sign(w) * (w.abs() > 0.7 * w.detach().abs().mean())).to(w.dtype)
        # Value exactly alpha * s; d/dalpha = s, d/dw = alpha * 1{|w| <= 1}.
        q = self.alpha * s + self.alpha.detach() * (clipped - clipped.detach())
        return q[0], q[1]

    @torch.no_grad()
    def clip_latent_(self) -> None:
        """Clip the latent ``A``, ``B`` of a binary/ternary layer to ``[-1, 1]`` (no-op for float)."""
        if self.weights != "float":
            self.weight_real.clamp_(-1.0, 1.0)
            self.weight_imag.clamp_(-1.0, 1.0)

    @torch.no_grad()
    def real_layer(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(weight, bias)`` of the equivalent real layer on interleaved ``[Re, Im]`` features.

        ``weight`` is ``(2 out, 2 in)`` with blocks ``[[A, -B], [B, A]]`` (``(2 out, in)``
        with rows ``A``, ``B`` when ``real_input``); ``bias`` is ``(2 out,)``.
        """
        A, B = (t.detach() for t in self.weight_parts())
        n_in = self.in_features if self.real_input else 2 * self.in_features
        W = A.new_zeros(2 * self.out_features, n_in)
        if self.real_input:
            W[0::2], W[1::2] = A, B
        else:
            W[0::2, 0::2], W[0::2, 1::2], W[1::2, 0::2], W[1::2, 1::2] = A, -B, B, A
        b = A.new_zeros(2 * self.out_features)
        if self.bias_real is not None:
            b[0::2], b[1::2] = self.bias_real.detach(), self.bias_imag.detach()
        return W, b

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        A, B = self.weight_parts()
        br, bi = self.bias_real, self.bias_imag
        if self.real_input:
            if not torch.is_tensor(h) or h.is_complex():
                raise InputError(
                    "ComplexLinear(real_input=True) takes a real tensor (batch, in_features); "
                    "got a complex one: build the layer with real_input=False"
                )
            return torch.complex(F.linear(h, A, br), F.linear(h, B, bi))
        _need_complex(h, "ComplexLinear")
        x, y = h.real, h.imag
        re, im = F.linear(x, A) - F.linear(y, B), F.linear(x, B) + F.linear(y, A)
        if br is not None:
            re, im = re + br, im + bi
        return torch.complex(re, im)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"weights={self.weights!r}, bias={self.bias_real is not None}, "
                f"real_input={self.real_input}")  # fmt: skip


class CReLU(torch.nn.Module):
    """ReLU on the real and on the imaginary part: ``relu(Re z) + i relu(Im z)`` (Trabelsi et al.).

    >>> import torch
    >>> CReLU()(torch.tensor([1.0 - 2.0j, -1.0 + 0.5j]))
    tensor([1.+0.0000j, 0.+0.5000j])
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        _need_complex(z, "CReLU")
        return torch.complex(torch.relu(z.real), torch.relu(z.imag))


class ComplexSmoothReLU(torch.nn.Module):
    """:class:`SmoothReLU` ``(eps)`` on the real and on the imaginary part (the smooth scheme's neuron).

    >>> import torch
    >>> ComplexSmoothReLU(0.04)(torch.tensor([0.0 + 0.0j]))
    tensor([0.2000+0.2000j])
    """

    def __init__(self, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = check_eps(eps, "ComplexSmoothReLU eps")

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        _need_complex(z, "ComplexSmoothReLU")
        return torch.complex(smooth_relu(z.real, self.eps), smooth_relu(z.imag, self.eps))

    def extra_repr(self) -> str:
        return f"eps={self.eps!r}"


class ComplexToReal(torch.nn.Module):
    """Complex ``(batch, n)`` -> real ``(batch, 2 n)`` interleaved ``[Re z_0, Im z_0, Re z_1, ...]``.

    Put it between complex layers and a real ``torch.nn.Linear`` head (e.g. a classifier's
    logits); the compiler reads it as the identity on the real features it already uses.

    >>> import torch
    >>> ComplexToReal()(torch.tensor([[1.0 + 2.0j, 3.0 - 4.0j]]))
    tensor([[ 1.,  2.,  3., -4.]])
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        _need_complex(z, "ComplexToReal")
        return torch.view_as_real(z).flatten(-2)
