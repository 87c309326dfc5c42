"""The picture of a verification: target against network, vector field and trajectories."""

from __future__ import annotations

from typing import Any

import numpy as np

from nncrn.rncrn._model import RNCRN
from nncrn.rncrn._targets import Target
from nncrn.rncrn._train import sample_box
from nncrn.rncrn._verify import Verification

__all__ = ["phase_portrait"]


def phase_portrait(model: RNCRN, target: Target, verification: Verification) -> Any:
    """A matplotlib Figure comparing ``target`` with the compiled network of ``verification``.

    1-D: the target's and the reduced network's ``dx/dt`` over the box with both sets of
    fixed points, and the full network's trajectory against the target's. 2-D: the two
    vector fields (streamlines) with the trajectory from ``x0`` of each. 3-D and above: the
    time series of every coordinate, target against network, and the ``(x_1, x_2)``
    projection of both attractors.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    v = verification
    n = target.dimension
    title = f"{target.name}: RNCRN with M = {model.n_perceptrons}, mu = {v.mu:g}, {v.reactions} reactions"
    if n == 1:
        fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
        xs = np.linspace(target.low[0], target.high[0], 600)[:, None]
        ax.plot(xs[:, 0], target(xs)[:, 0], "k-", label="target f(x)")
        ax.plot(xs[:, 0], model.vector_field(xs)[:, 0], "C1--", label="network (mu -> 0)")
        ax.axhline(0, color="0.7", lw=0.8)
        for fp in v.target_fixed_points:
            ax.plot(fp.x[0], 0, "o", mfc="k" if fp.stable else "w", mec="k", ms=7)
        for fp in v.fixed_points:
            ax.plot(fp.x[0], 0, "s", mfc="C1" if fp.stable else "w", mec="C1", ms=5)
        ax.set(xlabel="x", ylabel="dx/dt", title="vector field (filled: stable)")
        ax.legend(fontsize=8)
        bx.plot(v.t, v.x_target[:, 0], "k-", label="target")
        bx.plot(v.t, v.x_network[:, 0], "C1--", label=f"full network, mu = {v.mu:g}")
        for a in v.attractors:
            bx.axhline(a[0], color="C1", lw=0.6, ls=":")
        bx.set(xlabel="t", ylabel="x", title=f"trajectory from x0 = {(target.x0 or (0.0,))[0]:g}")
        bx.legend(fontsize=8)
    elif n == 2:
        fig, axes = plt.subplots(1, 2, figsize=(11, 5), sharey=True)
        pts = 25
        grid = sample_box(target.low, target.high, pts)
        gx = grid[:, 0].reshape(pts, pts).T
        gy = grid[:, 1].reshape(pts, pts).T
        for ax, field, traj, name in (
            (axes[0], target(grid), v.x_target, "target"),
            (
                axes[1],
                model.vector_field(grid),
                v.x_network,
                f"network (trajectory: full CRN, mu = {v.mu:g})",
            ),
        ):
            u = field[:, 0].reshape(pts, pts).T
            w = field[:, 1].reshape(pts, pts).T
            ax.streamplot(gx, gy, u, w, color="0.6", density=1.1, linewidth=0.7)
            ax.plot(traj[:, 0], traj[:, 1], "C1" if ax is axes[1] else "k", lw=1.2)
            ax.plot(*(target.x0 or ()), "o", color="C3")
            ax.set(xlabel=target.labels[0], title=name, xlim=(target.low[0], target.high[0]),
                   ylim=(target.low[1], target.high[1]))  # fmt: skip
        axes[0].set_ylabel(target.labels[1])
    else:
        fig = plt.figure(figsize=(12, 6))
        for i in range(n):
            ax = fig.add_subplot(n, 2, 2 * i + 1)
            ax.plot(v.t, v.x_target[:, i], "k-", lw=0.7, label="target")
            ax.plot(
                v.t,
                v.x_network[:, i],
                "C1-",
                lw=0.7,
                alpha=0.8,
                label=f"full network, mu = {v.mu:g}",
            )
            ax.set_ylabel(target.labels[i])
            if i == 0:
                ax.legend(fontsize=8, loc="upper right")
        ax.set_xlabel("t")
        px = fig.add_subplot(1, 2, 2)
        w = v.t >= (target.t_average[0] if target.t_average else 0.5 * v.t[-1])
        px.plot(v.x_target[w, 0], v.x_target[w, 1], "k-", lw=0.4, label="target")
        px.plot(v.x_network[w, 0], v.x_network[w, 1], "C1-", lw=0.4, alpha=0.8, label="network")
        px.set(xlabel=target.labels[0], ylabel=target.labels[1], title="attractor (projection)")
        px.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
