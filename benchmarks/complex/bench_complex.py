"""Binary complex networks (BCNN) against binary real networks (BNN), compiled into chemistry.

    python benchmarks/complex/bench_complex.py [--seeds 5] [--hidden 16] [--epochs 150]
                                               [--items 0] [--times 100]

Data: the 8x8 ``digits`` (1797 images, 10 classes), pixels divided by 16. Two inputs:
``fft``, the orthonormal 2-D FFT of each image (64 complex features; the BNN reads them as
128 real features, real and imaginary parts interleaved), and ``pixels`` (64 real features;
the BCNN's first layer reads them as ``x + 0i``). Per seed: a stratified 75/25 split (the
seed picks the split and the initial weights).

Models (one hidden layer, weights binary, biases real, one learned scale per layer):

* ``BCNN``: ``ComplexLinear(64, h, binary) -> CReLU -> ComplexToReal -> binary Linear(2h, 10)``.
  The head reads the real and imaginary parts of the hidden layer; the real part of a
  binary complex head would compute the same class of functions (its rows are ``[A, -B]``,
  any signs) with ten unused imaginary outputs.
* ``BNN (params)``: ``binary Linear(d, H) -> ReLU -> binary Linear(H, 10)`` with ``H`` chosen
  so that its real parameters (weights and biases) are closest to the BCNN's.
* ``BNN (reactions)``: the same with ``H`` chosen so that its compiled network's reaction
  count is closest to the BCNN's (one row when both choices give the same ``H``).

Training, identical for all: Adam (lr 1e-2, cosine to 0), batch 64, cross entropy,
straight-through binary weights (``ComplexLinear(weights="binary")``; ``nncrn.train.
STEQuantizer`` for the real ``Linear`` layers) with latent weights clipped to ``[-1, 1]``
after every step, float64; the model of the last epoch is kept.

Chemistry: ``compile_network(model, scheme=DualRail(rescale=True, dual_inputs=...))``
(``dual_inputs`` for ``fft``, whose features are negative too), so the network is
rate-independent; accuracy is that of ``steady_state`` (default ``TorchODE``) on the test
inputs, an unconverged item counting as wrong. ``t99``: ``settling_time`` (every readout
within 1% of its steady state, chemical time, rate constants 1), 99th percentile over the
first ``--times`` test items of the first seed.

Significance: per input and comparison, a paired two-sided t-test over the seeds
(``scipy.stats.ttest_rel``; the seeds share splits) on the chemistry's test accuracy.

Writes ``results.json`` into ``--out`` (default ``latest/`` next to this file; ``--record``:
next to this file, the tracked results the README quotes) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from scipy import stats
from sklearn.model_selection import train_test_split
from torch import nn
from torch.nn.utils import parametrize

from nncrn import ConvergenceWarning, compile_network
from nncrn.compile import DualRail, complex_inputs, dual_rail_inputs
from nncrn.data import load_dataset
from nncrn.nn import ComplexLinear, ComplexToReal, CReLU
from nncrn.simulate import settling_time, steady_state
from nncrn.train import STEQuantizer

HERE = Path(__file__).resolve().parent
LR, BATCH, N_CLASSES = 1e-2, 64, 10


def features(X: np.ndarray, kind: str) -> np.ndarray:
    """``(n, 64)`` pixels -> model inputs: complex ``(n, 64)`` FFT or real ``(n, 64)`` pixels."""
    images = X.reshape(-1, 8, 8) / 16.0
    if kind == "pixels":
        return images.reshape(-1, 64)
    return np.fft.fft2(images, norm="ortho").reshape(-1, 64)


def _binary_linear(n_in: int, n_out: int) -> nn.Linear:
    layer = nn.Linear(n_in, n_out).double()
    parametrize.register_parametrization(layer, "weight", STEQuantizer(1, "binary", layer.weight))
    return layer


def bcnn(kind: str, h: int) -> nn.Sequential:
    first = ComplexLinear(64, h, weights="binary", real_input=kind == "pixels")
    return nn.Sequential(first, CReLU(), ComplexToReal(), _binary_linear(2 * h, N_CLASSES)).double()


def bnn(kind: str, hidden: int) -> nn.Sequential:
    d = 128 if kind == "fft" else 64
    return nn.Sequential(_binary_linear(d, hidden), nn.ReLU(), _binary_linear(hidden, N_CLASSES))


def model_input(model: nn.Sequential, x: np.ndarray) -> torch.Tensor:
    """What ``model`` reads: complex for a complex first layer, else real features."""
    if isinstance(model[0], ComplexLinear) and not model[0].real_input:
        return torch.as_tensor(x, dtype=torch.complex128)
    return torch.as_tensor(complex_inputs(x) if np.iscomplexobj(x) else x, dtype=torch.float64)


def n_params(model: nn.Module) -> int:
    """Real parameters the forward pass depends on (latent weights, biases, scales)."""
    return sum(p.numel() for p in model.parameters())


def _clip(model: nn.Module) -> None:
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, ComplexLinear):
                m.clip_latent_()
            elif parametrize.is_parametrized(m, "weight"):
                m.parametrizations.weight.original.clamp_(-1.0, 1.0)


def train(model: nn.Sequential, x: np.ndarray, y: np.ndarray, epochs: int, seed: int) -> None:
    xt, yt = model_input(model, x), torch.as_tensor(y)
    gen = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    model.train()
    for _ in range(epochs):
        order = torch.from_numpy(gen.permutation(len(yt)))
        for start in range(0, len(yt), BATCH):
            idx = order[start : start + BATCH]
            opt.zero_grad()
            nn.functional.cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()
            _clip(model)
        schedule.step()
    model.eval()


def frozen(model: nn.Sequential) -> nn.Sequential:
    """``model`` with the real layers' quantized weights as plain parameters (for compiling)."""
    for m in model.modules():
        if parametrize.is_parametrized(m, "weight"):
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
    return model


def scheme_for(kind: str) -> DualRail:
    return DualRail(rescale=True, dual_inputs=kind == "fft")


def chem_inputs(kind: str, x: np.ndarray) -> np.ndarray:
    real = complex_inputs(x) if np.iscomplexobj(x) else x
    return dual_rail_inputs(real) if kind == "fft" else real


def reactions_of(model: nn.Sequential, kind: str) -> int:
    return compile_network(frozen(model), scheme=scheme_for(kind)).n_reactions


def matched_widths(kind: str, h: int) -> dict[str, int]:
    """BNN hidden widths closest to the BCNN's parameter and reaction counts."""
    target_p = n_params(bcnn(kind, h))
    target_r = reactions_of(bcnn(kind, h), kind)
    by_params = min(range(1, 8 * h + 1), key=lambda H: (abs(n_params(bnn(kind, H)) - target_p), H))
    lo, hi = 1, 8 * h  # the reaction count grows with H: bisect, then take the closer side
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if reactions_of(bnn(kind, mid), kind) < target_r else (lo, mid)
    by_reactions = min(
        (lo, hi), key=lambda H: (abs(reactions_of(bnn(kind, H), kind) - target_r), H)
    )
    return {"params": by_params, "reactions": by_reactions}


def evaluate(model, kind, x, y, items: int, times: int) -> dict:
    net = compile_network(frozen(model), scheme=scheme_for(kind))
    with torch.no_grad():
        nn_pred = model(model_input(model, x)).argmax(1).numpy()
    sub = slice(0, items or len(y))
    inputs = chem_inputs(kind, x[sub])
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ss = steady_state(net, inputs, throw=False)
    wall = time.perf_counter() - t0
    crn_pred = np.where(ss.converged, ss.outputs.argmax(1), -1)
    row = {
        "nn_accuracy": float((nn_pred == y).mean()),
        "crn_accuracy": float((crn_pred == y[sub]).mean()),
        "agreement": float((crn_pred == nn_pred[sub]).mean()),
        "converged": int(ss.converged.sum()),
        "items": len(crn_pred),
        "species": net.n_species,
        "reactions": net.n_reactions,
        "params": n_params(model),
        "steady_state_wall_s": wall,
    }
    if times:
        few = slice(0, min(times, len(crn_pred)))
        ok = ss.converged[few]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t = settling_time(net, inputs[few][ok], rtol=0.01)
        row["t99"] = float(np.quantile(t, 0.99)) if t.size else float("nan")
    return row


def run(args) -> dict:
    data = load_dataset("digits")
    X, y = np.asarray(data.X), np.asarray(data.y)
    rows: dict[str, list[dict]] = {}
    widths = {}
    for kind in ("fft", "pixels"):
        widths[kind] = matched_widths(kind, args.hidden)
        print(f"{kind}: BCNN h={args.hidden}; BNN widths {widths[kind]}", flush=True)
        for seed in range(args.seeds):
            tr, te = train_test_split(np.arange(len(y)), test_size=0.25, stratify=y,
                                      random_state=seed)  # fmt: skip
            x = features(X, kind)
            w = widths[kind]
            builds = {f"BCNN h={args.hidden}": (bcnn, args.hidden)}
            if w["params"] == w["reactions"]:  # one model matches both counts
                builds[f"BNN H={w['params']} (params, reactions)"] = (bnn, w["params"])
            else:
                builds[f"BNN H={w['params']} (params)"] = (bnn, w["params"])
                builds[f"BNN H={w['reactions']} (reactions)"] = (bnn, w["reactions"])
            for name, (build, width) in builds.items():
                torch.manual_seed(seed)
                t0 = time.perf_counter()
                model = build(kind, width)
                train(model, x[tr], y[tr], args.epochs, seed)
                train_s = time.perf_counter() - t0
                r = evaluate(model, kind, x[te], y[te], args.items, args.times if seed == 0 else 0)
                r.update(seed=seed, train_s=train_s)
                rows.setdefault(f"{kind} | {name}", []).append(r)
                print(f"  seed {seed} {kind} {name}: CRN acc {r['crn_accuracy']:.3f} "
                      f"(NN {r['nn_accuracy']:.3f}, agree {r['agreement']:.3f}, "
                      f"{r['converged']}/{r['items']} converged, {r['reactions']} reactions, "
                      f"ss {r['steady_state_wall_s']:.1f} s)", flush=True)  # fmt: skip
    return {"rows": rows, "widths": widths}


def significance(rows: dict[str, list[dict]]) -> list[dict]:
    out = []
    for kind in ("fft", "pixels"):
        keys = [k for k in rows if k.startswith(kind)]
        base = next(k for k in keys if "BCNN" in k)
        a = np.array([r["crn_accuracy"] for r in rows[base]])
        for other in (k for k in keys if k != base):
            b = np.array([r["crn_accuracy"] for r in rows[other]])
            diff = a - b
            p = float(stats.ttest_rel(a, b).pvalue) if np.any(diff != diff[0]) else float("nan")
            out.append({"input": kind, "bcnn": base.split(" | ")[1], "bnn": other.split(" | ")[1],
                        "mean_difference": float(diff.mean()), "std_difference": float(diff.std(ddof=1)),
                        "p_value": p, "bcnn_wins": int((diff > 0).sum()), "seeds": len(diff)})  # fmt: skip
    return out


def table(result: dict) -> str:
    lines = [
        "| input | model | real params | species | reactions | NN acc | CRN acc (mean ± sd) "
        "| agreement | converged | t99 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, rs in result["rows"].items():
        kind, name = key.split(" | ")
        crn = np.array([r["crn_accuracy"] for r in rs])
        lines.append(
            f"| {kind} | {name} | {rs[0]['params']} | {rs[0]['species']} | {rs[0]['reactions']} "
            f"| {np.mean([r['nn_accuracy'] for r in rs]):.3f} | {crn.mean():.3f} ± {crn.std(ddof=1) if len(crn) > 1 else 0:.3f} "
            f"| {np.mean([r['agreement'] for r in rs]):.3f} "
            f"| {sum(r['converged'] for r in rs)}/{sum(r['items'] for r in rs)} "
            f"| {rs[0].get('t99', float('nan')):.3g} |"
        )  # fmt: skip
    lines += ["", "| input | BCNN | BNN | mean difference (BCNN - BNN) | sd | BCNN better | p (paired t) |",
              "|---|---|---|---:|---:|---:|---:|"]  # fmt: skip
    for s in result["significance"]:
        lines.append(f"| {s['input']} | {s['bcnn']} | {s['bnn']} | {s['mean_difference']:+.4f} "
                     f"| {s['std_difference']:.4f} | {s['bcnn_wins']}/{s['seeds']} | {s['p_value']:.3g} |")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=16, help="complex hidden units of the BCNN")
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--items", type=int, default=0,
                        help="test items simulated per model (0: the whole test split)")  # fmt: skip
    parser.add_argument("--times", type=int, default=100,
                        help="test items timed with settling_time (first seed; 0: none)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None,
                    help="directory for the results (default: latest/ next to this script, git-ignored)")  # fmt: skip
    parser.add_argument("--record", action="store_true",
                    help="write the tracked results next to this script (the numbers its README quotes)")  # fmt: skip
    args = parser.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    result = run(args)
    result["significance"] = significance(result["rows"])
    result["settings"] = {**{k: (v.name if isinstance(v, Path) else v) for k, v in vars(args).items()},
                          "lr": LR, "batch": BATCH, "wall_s": time.perf_counter() - t0,
                          "machine": platform.platform(), "torch": torch.__version__}  # fmt: skip
    out = HERE if args.record else (args.out or HERE / "latest")
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(table(result))


if __name__ == "__main__":
    main()
