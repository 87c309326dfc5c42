"""DNA strand-displacement designs of compiled networks: cost, verification, DSD-level accuracy.

One command::

    python benchmarks/dsd/bench_dsd.py            # results in benchmarks/dsd/latest/
    python benchmarks/dsd/bench_dsd.py --record   # also writes results.json here (README)

Networks: XOR (2-2-1, smooth ReLU, eps 1e-3, fixed weights), iris 4-8-3 with smooth ReLU
(float weights) and iris 4-8-3 ternary dual rail (QAT, ``DualRail(rescale=True)``), test
split 25 % (seed 0). Each is translated under ``qian2011`` (default knobs: 7-nt toeholds,
15-nt domains, fuels at 1 uM, 1 formal unit = 1 nM); every module is enumerated with
peppercorn and checked by CRN bisimulation; XOR is also enumerated and verified as a
whole. The DSD-level network (the condensed enumerated reactions of every module, fuels as
species) is simulated with ScipyODE (BDF) on the test inputs, with and without fuel +
fuel -> products leaks, and its predicted classes compared with the formal CRN's.
Timings are wall-clock seconds of one run on the machine named in the results.
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

from nncrn import ScipyODE, compile_network, integrate, steady_state
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
from nncrn.dsd import Qian2011, dsd_network, enumerate_modules, fuel_depletion, translate, verify

HERE = Path(__file__).resolve().parent
EPS = 1e-3
LEAKS = (0.01, 0.1, 1.0, 10.0, 100.0)  # /M/s, fuel + fuel -> products
GATE_LEAKS = (1e-11, 1e-10, 1e-9, 1e-8, 1e-7)  # /s, gate -> products
TIMES = (10.0, 30.0, 100.0, 300.0)  # formal time units
GRID = np.unique(np.concatenate([[0.0], np.geomspace(1e-2, TIMES[-1], 60), TIMES]))


def xor_network():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    with torch.no_grad():
        model[0].weight[:] = torch.tensor([[1.0, -1.0], [-1.0, 1.0]])
        model[0].bias[:] = 0.0
        model[2].weight[:] = torch.tensor([[1.0, 1.0]])
        model[2].bias[:] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = compile_network(model, scheme=SmoothReLUScheme(EPS), input_range=(0.0, 1.0))
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return net, x, np.array([0, 1, 1, 0])


def iris_networks():
    ds = load_dataset("iris")
    Xtr, Xte, ytr, yte = train_test_split(ds.X, ds.y, test_size=0.25, random_state=0,
                                          stratify=ds.y)  # fmt: skip
    sc = MinMaxScaling.fit(Xtr)
    A = sc.transform(Xtr)
    smooth = train_mlp(build_mlp((4, 8, 3), "smooth_relu", EPS, 0), A, ytr, epochs=200, lr=1e-2,
                       seed=0)  # fmt: skip
    relu = train_mlp(build_mlp((4, 8, 3), "relu", EPS, 0), A, ytr, epochs=200, lr=1e-2, seed=0)
    ternary = discretize_mlp(relu, A, ytr, Discretization("ternary", 2, qat=True, qat_epochs=300),
                             seed=0)  # fmt: skip
    nets = {}
    for name, model, scheme in (("iris 4-8-3 smooth", smooth, SmoothReLUScheme(EPS)),
                                ("iris 4-8-3 ternary dual-rail", ternary, DualRail(rescale=True))):  # fmt: skip
        deployed = fold_offset(model, sc.low, sc.input_scale)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nets[name] = compile_network(deployed, scheme=scheme, input_scale=sc.input_scale)
    return nets, Xte, yte


def classes(outputs: np.ndarray) -> np.ndarray:
    return (outputs[:, 0] > 0.5).astype(int) if outputs.shape[1] == 1 else outputs.argmax(1)


def one_case(name, net, x, y, *, whole: bool, simulate: dict | None) -> dict:
    row: dict = {"network": name, "formal_species": net.n_species,
                 "formal_reactions": net.n_reactions}  # fmt: skip
    design = translate(net, "qian2011")
    row.update(design.cost().as_dict(), time_unit_s=design.time_unit)
    t0 = time.perf_counter()
    result = verify(design, whole=whole, time_limit=600)
    row["verify_s"] = time.perf_counter() - t0
    row["modules_verified"] = sum(m.correct for m in result.modules)
    row["modules"] = len(result.modules)
    row["module_enumeration_s"] = sum(m.enumeration_s for m in result.modules)
    row["enumerated_species"] = sum(m.species for m in result.modules)
    row["enumerated_reactions"] = sum(m.reactions for m in result.modules)
    if whole:
        row.update(whole_bisimulation=result.whole, pathway_decomposition=result.pathway,
                   whole_species=result.whole_species, whole_reactions=result.whole_reactions,
                   whole_s=result.whole_s, whole_note=result.whole_note)  # fmt: skip
    formal_out = steady_state(net, x).outputs
    formal = classes(formal_out)
    row["formal_accuracy"] = float((formal == y).mean())
    if not simulate:
        return row
    enums = enumerate_modules(design, time_limit=600)
    runs = [(fuel, "none", 0.0) for fuel in simulate["fuels"]]
    runs += [(simulate["leak_fuel"], "fuel + fuel", k) for k in simulate.get("leaks", LEAKS)]
    runs += [(simulate["leak_fuel"], "gate", k) for k in simulate.get("gate_leaks", GATE_LEAKS)]
    sweep = []
    for fuel, kind, leak in runs:
        d = translate(net, Qian2011(fuel_concentration=fuel))
        dna = dsd_network(d, leak=leak if kind == "fuel + fuel" else 0.0,
                          gate_leak=leak if kind == "gate" else 0.0, enumerations=enums)  # fmt: skip
        t0 = time.perf_counter()
        traj = integrate(dna, x, GRID, solver=ScipyODE(), throw=False)
        seconds = time.perf_counter() - t0
        fuel_left = fuel_depletion(dna, traj)
        for t in TIMES:
            j = int(np.searchsorted(GRID, t))
            pred = classes(traj.outputs[:, j])
            sweep.append({"fuel_M": fuel, "time_unit_s": d.time_unit, "leak_kind": kind,
                          "leak": leak, "t": t, "accuracy": float((pred == y).mean()),
                          "agreement_with_formal": float((pred == formal).mean()),
                          "max_output_error": float(np.abs(traj.outputs[:, j] - formal_out).max()),
                          "fuel_left": float(fuel_left.min_fraction[j]),
                          "lowest_fuel": fuel_left.fuel[j],
                          "t_below_90": fuel_left.first_below[0.9],
                          "t_below_50": fuel_left.first_below[0.5],
                          "converged": bool(np.all(traj.converged)),
                          "simulate_s": seconds})  # fmt: skip
        row["dsd_species"], row["dsd_reactions"] = dna.n_species, dna.n_reactions
        print(name, fuel, kind, leak, f"{seconds:.0f} s", [round(r["accuracy"], 3)
              for r in sweep[-len(TIMES):]], fuel_left.first_below, flush=True)  # fmt: skip
    row["sweep"] = sweep
    return row


def _write(rows: list[dict], args: argparse.Namespace) -> None:
    """Results so far: latest/ always, results.json here with --record (rows of networks not
    run this time, with --only, are kept from the recorded file)."""
    doc = {"machine": platform.platform(), "processor": platform.processor(),
           "command": "python benchmarks/dsd/bench_dsd.py --record", "rows": rows}  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(doc, indent=1, default=str))
    plot_leaks(doc, args.out / "leaks.png")
    if args.record:
        recorded = HERE / "results.json"
        if args.only and recorded.exists():
            new = {r["network"]: r for r in rows}
            old = json.loads(recorded.read_text())["rows"]
            doc["rows"] = [new.pop(r["network"], r) for r in old] + list(new.values())
        recorded.write_text(json.dumps(doc, indent=1, default=str))
        plot_leaks(doc, HERE / "leaks.png")


def plot_leaks(doc: dict, path: Path) -> None:
    """Accuracy against leak rate (fuel + fuel and gate leaks), one line per formal time t.

    The zero-leak accuracy at the same fuel is drawn at the left edge of each panel.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in doc["rows"] if any(s["leak_kind"] != "none" for s in r["sweep"])]
    if not rows:
        return
    kinds = (("fuel + fuel", "fuel + fuel leak (/M/s)"), ("gate", "gate leak (/s)"))
    fig, axes = plt.subplots(len(rows), 2, figsize=(10, 3.4 * len(rows)), squeeze=False)
    for row, ax_row in zip(rows, axes, strict=True):
        sweep = row["sweep"]
        fuel = next(s["fuel_M"] for s in sweep if s["leak_kind"] != "none")
        for (kind, label), ax in zip(kinds, ax_row, strict=True):
            pts = [s for s in sweep if s["leak_kind"] == kind]
            leaks = sorted({s["leak"] for s in pts})
            if not leaks:
                ax.set_visible(False)
                continue
            base = min(leaks) / 10
            for k, t in enumerate(sorted({s["t"] for s in pts})):
                zero = [s["accuracy"] for s in sweep
                        if s["leak_kind"] == "none" and s["fuel_M"] == fuel and s["t"] == t]  # fmt: skip
                xs = ([base] if zero else []) + leaks
                ys = zero[:1] + [next(s["accuracy"] for s in pts if s["leak"] == v and s["t"] == t)
                                 for v in leaks]  # fmt: skip
                ax.plot(xs, ys, "o-", color=f"C{k}", label=f"t = {t:g}")
            ax.set_xscale("log")
            ax.set_ylim(0, 1.05)
            ax.set_xlabel(label + "; leftmost point: no leak")
            ax.set_ylabel("test accuracy (DNA level)")
            ax.set_title(f"{row['network']}, fuels at {fuel:g} M")
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "latest",
                        help="directory for the results (default latest/ here, git-ignored)")  # fmt: skip
    parser.add_argument("--record", action="store_true",
                        help="also write results.json next to this script (quoted by README)")  # fmt: skip
    parser.add_argument("--only", default="",
                        help="run only the networks whose name contains this text")  # fmt: skip
    parser.add_argument("--plot-only", action="store_true",
                        help="redraw leaks.png from the recorded results.json and stop")  # fmt: skip
    args = parser.parse_args()
    if args.plot_only:
        plot_leaks(json.loads((HERE / "results.json").read_text()), HERE / "leaks.png")
        return
    torch.manual_seed(0)
    rows: list[dict] = []
    if args.only in "XOR 2-2-1 smooth":
        net, x, y = xor_network()
        rows.append(one_case("XOR 2-2-1 smooth", net, x, y, whole=True,
                             simulate={"fuels": (1e-6, 1e-5, 1e-4, 1e-3), "leak_fuel": 1e-4}))  # fmt: skip
        print(json.dumps(rows[-1], default=str)[:400], flush=True)
        _write(rows, args)
    nets, xte, yte = iris_networks()
    plans = {"iris 4-8-3 smooth": {"fuels": (1e-6, 1e-4), "leak_fuel": 1e-4, "leaks": (),
                                   "gate_leaks": ()},
             "iris 4-8-3 ternary dual-rail": {"fuels": (1e-6,), "leak_fuel": 1e-6}}  # fmt: skip
    for name, net in nets.items():
        if args.only not in name:
            continue
        rows.append(one_case(name, net, xte, yte, whole=False, simulate=plans[name]))
        print(json.dumps(rows[-1], default=str)[:400], flush=True)
        _write(rows, args)


if __name__ == "__main__":
    main()
