"""Chemical-level training against torch: one ``nncrn.train.fit`` epoch over one torch epoch.

    python benchmarks/fit/bench_fit.py            # writes benchmarks/fit/latest/
    python benchmarks/fit/bench_fit.py --record   # also the tracked results.json beside it

The network is ``nncrn.data.build_mlp`` (smoothed ReLU, eps 1e-3) compiled by
``compile_network``; the torch side trains the same MLP. Both sides: Adam, lr 1e-2,
cross entropy, float64, one torch thread, the same batch size (rows shuffled each epoch;
``full`` = one full-batch step per epoch). Data: iris (4-8-3, 112 training rows) and
digits (64-16-10, 1,347 rows), min-max scaled, 75% split.

A ``fit`` epoch is what ``fit`` adds per epoch: ``(t(fit, E epochs) - t(fit, 1 epoch)) /
(E - 1)``, so the one-off set-up (reading the terms, planning the levels, the returned
network) is left out; it includes fit's per-epoch bookkeeping (the monitored loss and the
training accuracy, two forward passes over all rows). A torch epoch is the plain loop
(shuffle, forward, loss, backward, Adam step per batch). Each figure is the min and
median over ``--rounds`` rounds (every round times both sides), in one process.

``gradient="layered"`` is the closed-form graph (feed-forward networks); ``implicit`` is
the implicit-function gradient through ``steady_state`` (any network), timed on fewer
epochs since each is slower.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from nncrn.compile import compile_network
from nncrn.data import build_mlp
from nncrn.train import fit

HERE = Path(__file__).resolve().parent
LR = 1e-2


def load(name: str):
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    Xtr, _, ytr, _ = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    low, span = Xtr.min(0), np.ptp(Xtr, 0)
    span[span == 0] = 1.0
    return (Xtr - low) / span, ytr


def torch_epochs(sizes, X, y, batch: int | None, epochs: int) -> float:
    """Seconds per epoch of the plain torch loop on ``build_mlp(sizes)``."""
    model = build_mlp(sizes, seed=0).double()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    n = len(yt)
    bs = n if batch is None else batch
    gen = torch.Generator().manual_seed(0)
    tic = time.perf_counter()
    for _ in range(epochs):
        perm = torch.arange(n) if batch is None else torch.randperm(n, generator=gen)
        for start in range(0, n, bs):
            idx = perm[start : start + bs]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    return (time.perf_counter() - tic) / epochs


def fit_epochs(net, X, y, batch: int | None, epochs: int, gradient: str) -> tuple[float, float]:
    """Seconds per added ``fit`` epoch, and the final loss of the longer run."""
    times = []
    loss = float("nan")
    for e in (1, epochs):
        tic = time.perf_counter()
        _, hist = fit(net, X, y, epochs=e, lr=LR, batch_size=batch, gradient=gradient, rng=0)
        times.append(time.perf_counter() - tic)
        loss = float(hist.loss[-1])
    return (times[1] - times[0]) / (epochs - 1), loss


CASES = [
    # (dataset, hidden, batch, gradient, fit epochs, torch epochs)
    ("iris", 8, 32, "layered", 40, 200),
    ("iris", 8, None, "layered", 200, 1000),
    ("digits", 16, 32, "layered", 6, 40),
    ("digits", 16, None, "layered", 60, 400),
    ("iris", 8, 32, "implicit", 4, 200),
    ("iris", 8, None, "implicit", 12, 1000),
    ("digits", 16, 32, "implicit", 2, 40),
    ("digits", 16, None, "implicit", 4, 400),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=HERE / "latest")
    ap.add_argument(
        "--record", action="store_true", help="also write results.json beside the script"
    )
    ap.add_argument(
        "--only", default="", help="comma-separated gradients to run (layered,implicit)"
    )
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    only = set(filter(None, args.only.split(",")))
    rows = []
    data = {name: load(name) for name in ("iris", "digits")}
    for name, hidden, batch, gradient, fe, te in CASES:
        if only and gradient not in only:
            continue
        X, y = data[name]
        sizes = (X.shape[1], hidden, int(y.max()) + 1)
        net = compile_network(build_mlp(sizes, seed=0))
        fit(net, X[:64], y[:64], epochs=1, lr=LR, gradient=gradient)  # warm-up (first calls)
        torch_epochs(sizes, X, y, batch, 2)
        fits, torches, loss = [], [], float("nan")
        for _ in range(args.rounds):
            t_fit, loss = fit_epochs(net, X, y, batch, fe, gradient)
            fits.append(t_fit)
            torches.append(torch_epochs(sizes, X, y, batch, te))
        ratio = np.array(fits) / np.array(torches)
        row = {
            "dataset": name, "sizes": "-".join(map(str, sizes)), "rows": len(y),
            "batch": "full" if batch is None else batch, "gradient": gradient,
            "fit_epoch_s": {"min": min(fits), "median": float(np.median(fits))},
            "torch_epoch_s": {"min": min(torches), "median": float(np.median(torches))},
            "ratio": {"min": float(ratio.min()), "median": float(np.median(ratio))},
            "fit_epochs_timed": fe, "torch_epochs_timed": te, "last_epoch_loss": loss,
        }  # fmt: skip
        rows.append(row)
        print(f"{name:6s} {row['sizes']:9s} batch {row['batch']!s:4s} {gradient:8s} "
              f"fit {row['fit_epoch_s']['median'] * 1e3:9.2f} ms  torch "
              f"{row['torch_epoch_s']['median'] * 1e3:7.2f} ms  ratio {row['ratio']['median']:6.2f}x "
              f"(min {row['ratio']['min']:.2f}x)", flush=True)  # fmt: skip
    result = {
        "command": " ".join(["python", "benchmarks/fit/bench_fit.py", *sys.argv[1:]]),
        "machine": f"{platform.machine()}, 1 torch thread, float64, shared machine (upper bounds)",
        "torch": torch.__version__,
        "rounds": args.rounds,
        "rows": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    if args.record:
        (HERE / "results.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
