"""Discretized networks compiled into chemistry: accuracy, agreement, size and completion time.

    python benchmarks/discrete/bench_discrete.py [--seeds 3] [--datasets iris,wine,...]

For each dataset (iris 4-8-3, wine 13-8-3, breast_cancer 30-8-2, digits 64-32-10, and the
generated 2-D two-class pattern ``moons``, 256 points, 2-8-2) and seed: a stratified 75/25
split (the seed picks the split and the initial weights), features min-max scaled on the
training part with the scaling kept as the network's input map (``input_scale``), a float
MLP trained with Adam (200 epochs, lr 1e-2, batch 32; ``SmoothReLU(1e-3)`` hidden layers for
the smooth-relu rows, ``ReLU`` for the dual-rail rows). Then every discretization:
ternary, binary, 2- and 3-bit exponential, each post-training (weights rounded once) and
with quantization-aware training (``nncrn.train.qat_fit``, 300 epochs), biases real. Each
model is compiled with ``SmoothReLU`` and, where the levels are integer multiples of one
unit (ternary, binary), with ``DualRail(rescale=True)``, single-rail inputs.

Columns: test accuracy of the float model, of the discretized model and of the chemistry
(``steady_state`` with the default ``TorchODE``; a row that did not converge counts as
wrong), CRN/NN agreement (argmax), items converged, species, reactions, distinct rate
constants, and the 99th-percentile completion time (``settling_time``: every readout
species within 1% of its steady state; first seed, the converged items of at most 100
test inputs). Accuracy columns are means over the seeds. A row at or below the majority-class rate, or whose
predictions are all one class, carries a warning.

Writes ``results.json`` into ``--out`` (default ``latest/`` next to this file; ``--record``:
next to this file, the tracked results the README quotes).
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
from sklearn.model_selection import train_test_split

from nncrn import ConvergenceWarning, compile_network
from nncrn.compile import DualRail, SmoothReLUScheme
from nncrn.data import (
    Discretization,
    MinMaxScaling,
    build_mlp,
    discretize_mlp,
    fold_offset,
    load_dataset,
    train_mlp,
)
from nncrn.simulate import settling_time, steady_state

HERE = Path(__file__).resolve().parent
HIDDEN = {"iris": 8, "wine": 8, "breast_cancer": 8, "digits": 32, "moons": 8}
EPS = 1e-3
EPOCHS, LR, QAT_EPOCHS = 200, 1e-2, 300
CODES = {  # row name -> Discretization (None: float)
    "float": None,
    "ternary": ("ternary", 2),
    "binary": ("binary", 1),
    "exp 2-bit": ("exponential", 2),
    "exp 3-bit": ("exponential", 3),
}


def _predict(model, X):
    with torch.no_grad():
        return model(torch.as_tensor(X)).numpy()


def one_row(model, scaling, Xte, yte, scheme, times: bool) -> dict:
    """Compile ``model`` (reads scaled features) with ``scheme`` and measure its chemistry."""
    deployed = fold_offset(model, scaling.low, scaling.input_scale)
    lows = np.minimum(scaling.low, Xte.min(0))
    input_range = None if (lows >= 0).all() else [(float(v), float("inf")) for v in np.minimum(lows, 0)]
    net = compile_network(deployed, scheme=scheme, input_range=input_range,
                          input_scale=scaling.input_scale)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ss = steady_state(net, Xte, throw=False)
    nn = _predict(deployed, Xte * scaling.input_scale)
    crn_pred = np.where(ss.converged, ss.outputs.argmax(1), -1)
    row = {
        "nn_accuracy": float((nn.argmax(1) == yte).mean()),
        "crn_accuracy": float((crn_pred == yte).mean()),
        "agreement": float((crn_pred == nn.argmax(1)).mean()),
        "converged": int(ss.converged.sum()),
        "items": len(Xte),
        "single_class": bool(np.unique(crn_pred).size == 1),
        "species": net.n_species,
        "reactions": net.n_reactions,
        "distinct_rates": int(np.unique(net.stoichiometry.rates).size),
    }
    if times:
        sub = slice(0, min(100, len(Xte)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            steady = steady_state(net, Xte[sub], throw=False)
            t = settling_time(net, Xte[sub], rtol=0.01, steady=steady)
        ok = steady.converged  # an item without a steady state has no settling time
        row["t99"] = float(np.quantile(t[ok], 0.99)) if ok.any() else float("nan")
    return row


def run_dataset(name: str, seeds: int) -> list[dict]:
    ds = load_dataset(name)
    sizes = (ds.X.shape[1], HIDDEN[name], len(ds.classes))
    rows: dict[tuple, list[dict]] = {}
    for seed in range(seeds):
        Xtr, Xte, ytr, yte = train_test_split(ds.X, ds.y, test_size=0.25, random_state=seed,
                                              stratify=ds.y)  # fmt: skip
        scaling = MinMaxScaling.fit(Xtr)
        A = scaling.transform(Xtr)
        floats = {
            act: train_mlp(build_mlp(sizes, act, EPS, seed), A, ytr, epochs=EPOCHS, lr=LR, seed=seed)
            for act in ("smooth_relu", "relu")
        }
        majority = float(np.bincount(yte).max() / len(yte))
        for code, spec in CODES.items():
            for qat in (False, True) if spec else (False,):
                for scheme_name in ("smooth-relu", "dual-rail"):
                    integer = spec is not None and spec[0] in ("binary", "ternary")
                    if scheme_name == "dual-rail" and not integer:
                        continue
                    act = "relu" if scheme_name == "dual-rail" else "smooth_relu"
                    fm = floats[act]
                    model = fm
                    t0 = time.perf_counter()
                    if spec is not None:
                        how = Discretization(spec[0], spec[1], qat=qat, qat_epochs=QAT_EPOCHS)
                        model = discretize_mlp(fm, A, ytr, how, seed=seed)
                    scheme = DualRail(rescale=True) if scheme_name == "dual-rail" else SmoothReLUScheme(EPS)
                    r = one_row(model, scaling, Xte, yte, scheme, times=seed == 0)
                    r["float_accuracy"] = float((_predict(fm, scaling.transform(Xte)).argmax(1) == yte).mean())
                    r["majority"] = majority
                    r["seconds"] = time.perf_counter() - t0
                    rows.setdefault((code, "QAT" if qat else "post" if spec else "-", scheme_name), []).append(r)
    out = []
    for (code, mode, scheme_name), rs in rows.items():
        agg = {k: float(np.mean([r[k] for r in rs])) for k in
               ("float_accuracy", "nn_accuracy", "crn_accuracy", "agreement", "majority")}  # fmt: skip
        agg.update(dataset=name, arch="-".join(map(str, sizes)), weights=code, mode=mode,
                   scheme=scheme_name, converged=int(sum(r["converged"] for r in rs)),
                   items=int(sum(r["items"] for r in rs)),
                   species=rs[0]["species"], reactions=rs[0]["reactions"],
                   distinct_rates=rs[0]["distinct_rates"], t99=rs[0].get("t99"),
                   min_agreement=float(min(r["agreement"] for r in rs)),
                   warning=any(r["single_class"] or r["crn_accuracy"] <= r["majority"] for r in rs))  # fmt: skip
        out.append(agg)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--datasets", default=",".join(HIDDEN))
    parser.add_argument("--out", type=Path, default=None,
                    help="directory for the results (default: latest/ next to this script, git-ignored)")  # fmt: skip
    parser.add_argument("--record", action="store_true",
                    help="write the tracked results next to this script (the numbers its README quotes)")  # fmt: skip
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    results = []
    head = (f"{'dataset':14} {'arch':9} {'weights':10} {'mode':5} {'scheme':11} {'float':>6} "
            f"{'NN':>6} {'CRN':>6} {'agree':>6} {'conv':>9} {'spec':>5} {'reac':>5} "
            f"{'rates':>5} {'t99':>8}")  # fmt: skip
    print(head)
    for name in args.datasets.split(","):
        if name not in HIDDEN:
            parser.error(f"--datasets: unknown {name!r}; choose from {', '.join(HIDDEN)}")
        for r in run_dataset(name, args.seeds):
            results.append(r)
            t99 = "-" if r["t99"] is None else f"{r['t99']:.4g}"
            print(f"{r['dataset']:14} {r['arch']:9} {r['weights']:10} {r['mode']:5} {r['scheme']:11} "
                  f"{r['float_accuracy']:6.3f} {r['nn_accuracy']:6.3f} {r['crn_accuracy']:6.3f} "
                  f"{r['agreement']:6.3f} {r['converged']:>4}/{r['items']:<4} {r['species']:5d} "
                  f"{r['reactions']:5d} {r['distinct_rates']:5d} {t99:>8}"
                  + ("  WARNING: at/below majority or one class" if r["warning"] else ""), flush=True)  # fmt: skip
    doc = {
        "command": "python benchmarks/discrete/bench_discrete.py --seeds " + str(args.seeds),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, torch {torch.__version__}",
        "seconds": time.perf_counter() - started,
        "settings": {"epochs": EPOCHS, "lr": LR, "qat_epochs": QAT_EPOCHS, "eps": EPS,
                     "seeds": args.seeds, "test_size": 0.25},
        "rows": results,
    }
    out = HERE if args.record else (args.out or HERE / "latest")
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(doc, indent=1))
    print(f"total {doc['seconds']:.0f} s; wrote {out / 'results.json'}")


if __name__ == "__main__":
    main()
