"""Random search, regularized evolution and REINFORCE at equal budget: the smallest CRN that does the job.

    python benchmarks/search/bench_search.py [--datasets iris] [--seeds 5] [--budget 40] [--jobs 2]

For each dataset and seed: a stratified split (50% train, 25% validation, 25% test; the
seed picks the split, the initial weights and the strategy's draws), then each strategy
searches :class:`nncrn.search.SearchSpace` (default: 0-3 hidden layers of 2-32, 0-90%
pruned, smooth-relu or dual-rail, float / ternary / binary / 2-4-bit linear or
exponential weights, with or without QAT, eps 1e-4..1e-2) with the same budget of
evaluations, under the dataset's reaction limit (iris: 5, the issue's target; digits:
300; none otherwise). Every accuracy is the simulated CRN's. The search sees the
validation part; the best network's test accuracy is measured once at the end.

Per strategy: best validation and test accuracy (mean and std over seeds), the share of
seeds whose best reaches the dataset's target, evaluations until the best-so-far curve
reached 99% of its final value, and the number of distinct architectures within one
point of the best. Between strategies: Friedman's test over the three (paired by seed)
and paired t-tests of the best test accuracy (scipy.stats).

Writes ``OUT.json`` and ``OUT.png`` (best-so-far curves; ``--out``, default ``results``)
into ``latest/`` next to this file (git-ignored), or with ``--record`` next to this file:
the tracked results the README quotes.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from pathlib import Path

import numpy as np
import torch
from scipy import stats

from nncrn.data import load_dataset
from nncrn.search import (
    RandomSearch,
    RegularizedEvolution,
    Reinforce,
    SearchData,
    TrainSettings,
    search,
)

HERE = Path(__file__).resolve().parent
LIMITS = {"iris": 5, "wine": None, "breast_cancer": None, "digits": 300}
TARGETS = {"iris": 0.95, "wine": None, "breast_cancer": None, "digits": 0.92}
SETTINGS = TrainSettings(epochs=150, lr=1e-2, qat_epochs=100, finetune_epochs=50, min_steps=3000)


def strategies(budget: int) -> dict:
    pop = max(4, min(20, budget // 4))  # a quarter of the budget seeds the population
    return {
        "random": RandomSearch,
        "evolution": lambda: RegularizedEvolution(population=pop, tournament=3),
        "rl": Reinforce,
    }


STARTED_AT = "unknown"  # set by main(): the commit of the code this process runs


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, text=True,
                             capture_output=True, check=True)  # fmt: skip
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _dirty() -> bool:
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "src"],
                             cwd=HERE, text=True, capture_output=True, check=True)  # fmt: skip
        return bool(out.stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        return False


def run_one(name: str, seed: int, sname: str, budget: int, jobs: int, batch: int) -> dict:
    """One strategy's search on one seed's split of ``name``: the row of the results."""
    ds = load_dataset(name)
    data = SearchData.split(ds.X, ds.y, seed=seed)
    make = strategies(budget)[sname]
    t0 = time.perf_counter()
    r = search(data, make(), budget=budget, settings=SETTINGS, seed=seed,
               max_reactions=LIMITS[name], n_jobs=jobs, batch_size=batch)  # fmt: skip
    b = r.best
    row = {
        "seed": seed,
        "best": b.describe(),
        "val_accuracy": b.val_accuracy,
        # no network within the reaction limit: nothing deployable, scored 0
        "found": b.feasible,
        "test_accuracy": r.test_accuracy.get(b.index, 0.0),
        "test_converged": r.test_converged.get(b.index, float("nan")),
        "reactions": b.reactions,
        "species": b.species,
        "molecularity": b.molecularity,
        "distinct_rates": b.distinct_rates,
        "evals_to_99": r.evaluations_to_reach(0.99),
        "within_1pt": r.count_within(0.01),
        "distinct_evaluated": len({e.genome for e in r.evaluations}),
        "feasible": sum(e.feasible for e in r.evaluations),
        "curve": r.best_so_far.tolist(),
        "front": [
            {
                "arch": e.describe(),
                "val": e.val_accuracy,
                "reactions": e.reactions,
                "molecularity": e.molecularity,
                "test": r.test_accuracy.get(e.index),
            }
            for e in r.front
        ],
        "seconds": time.perf_counter() - t0,
        "commit": STARTED_AT,  # HEAD when this process started (its code)
    }
    print(f"{name:13} seed {seed} {sname:9} val {row['val_accuracy']:.3f} test "
          f"{row['test_accuracy']:.3f} reactions {b.reactions:4d} molec {b.molecularity:5d}  "
          f"{b.describe()}  ({row['seconds']:.0f} s)", flush=True)  # fmt: skip
    return row


def summarize(name: str, runs: dict[str, list[dict]]) -> dict:
    """Per-strategy means and the tests between strategies, from the rows in ``runs``."""
    out: dict = {"runs": runs}
    names = list(runs)
    test = {s: np.array([r["test_accuracy"] for r in runs[s]]) for s in names}
    summary = {}
    for s in names:
        rs = runs[s]
        t = TARGETS[name]
        summary[s] = {
            "val_mean": float(np.mean([r["val_accuracy"] for r in rs])),
            "val_std": float(np.std([r["val_accuracy"] for r in rs], ddof=1))
            if len(rs) > 1
            else 0.0,
            "test_mean": float(test[s].mean()),
            "test_std": float(test[s].std(ddof=1)) if len(rs) > 1 else 0.0,
            "reactions_mean": float(np.mean([r["reactions"] for r in rs])),
            "target_hit": None if t is None else int(sum(r["test_accuracy"] >= t for r in rs)),
            "evals_to_99_mean": float(np.mean([r["evals_to_99"] for r in rs])),
            "within_1pt_mean": float(np.mean([r["within_1pt"] for r in rs])),
            "found": int(sum(r["found"] for r in rs)),
            "feasible_mean": float(np.mean([r["feasible"] for r in rs])),
        }
    tests: dict = {}
    seeds = min((len(runs[s]) for s in names), default=0)
    if seeds >= 2 and all(len(runs[s]) == seeds for s in names):
        vals = [test[s] for s in names]
        if len(names) >= 3 and seeds >= 3 and not all(np.array_equal(vals[0], v) for v in vals[1:]):
            tests["friedman_p"] = float(stats.friedmanchisquare(*vals).pvalue)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                d = test[a] - test[b]
                p = 1.0 if np.allclose(d, 0) else float(stats.ttest_rel(test[a], test[b]).pvalue)
                tests[f"{a} vs {b}"] = {"mean_diff": float(d.mean()), "paired_t_p": p}
    out.update(summary=summary, tests=tests, limit=LIMITS[name], target=TARGETS[name])
    return out


def float_reference(name: str, seeds: int) -> list[dict]:
    """The best float MLP per seed: one hidden layer of 8, 16 or 32 (picked on validation), test accuracy.

    The network's own accuracy (no chemistry), trained like every searched network on the
    same split: the reference of the issue's "within 2 points of the best float MLP". Beside
    it, the float *linear* model trained the same way and scikit-learn's logistic
    regression (C = 100, on the same scaled features): the ceiling of a network with no
    hidden layer, the only kind within iris's 5 reactions.
    """
    from sklearn.linear_model import LogisticRegression

    from nncrn.data import MinMaxScaling, build_mlp, train_mlp

    ds = load_dataset(name)
    rows = []
    for seed in range(seeds):
        data = SearchData.split(ds.X, ds.y, seed=seed)
        scaling = MinMaxScaling.fit(data.X_train)
        A = scaling.transform(data.X_train)
        parts = ((data.X_val, data.y_val), (data.X_test, data.y_test))
        best, linear = None, None
        for width in (0, 8, 16, 32):
            sizes = (ds.X.shape[1], *([width] if width else []), data.n_classes)
            model = train_mlp(build_mlp(sizes, "smooth_relu", 1e-3, seed), A, data.y_train,
                              epochs=SETTINGS.epochs_for(SETTINGS.epochs, len(A), 32),
                              lr=SETTINGS.lr, batch_size=32, seed=seed)  # fmt: skip
            with torch.no_grad():
                acc = [float((model(torch.as_tensor(scaling.transform(X))).argmax(1).numpy() == y).mean())
                       for X, y in parts]  # fmt: skip
            if width == 0:
                linear = acc
            elif best is None or acc[0] > best["val"]:
                best = {"seed": seed, "width": width, "val": acc[0], "test": acc[1]}
        assert best is not None and linear is not None
        logreg = LogisticRegression(C=100.0, max_iter=10_000).fit(A, data.y_train)
        lr_acc = [float(logreg.score(scaling.transform(X), y)) for X, y in parts]
        best.update(linear_val=linear[0], linear_test=linear[1], logreg_val=lr_acc[0],
                    logreg_test=lr_acc[1])  # fmt: skip
        rows.append(best)
        print(f"{name:13} seed {seed} float MLP {ds.X.shape[1]}-{best['width']}-{data.n_classes}: "
              f"val {best['val']:.3f} test {best['test']:.3f}; linear val {linear[0]:.3f} test "
              f"{linear[1]:.3f}; logistic regression val {lr_acc[0]:.3f} test {lr_acc[1]:.3f}",
              flush=True)  # fmt: skip
    return rows


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.5), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        for k, (s, rs) in enumerate(results[name]["runs"].items()):
            curves = np.array([r["curve"] for r in rs])
            x = np.arange(1, curves.shape[1] + 1)
            ax.plot(x, curves.mean(0), color=f"C{k}", label=s)
            ax.fill_between(x, curves.min(0), curves.max(0), color=f"C{k}", alpha=0.15)
        lim = results[name]["limit"]
        ax.set_title(f"{name}" + (f" (<= {lim} reactions)" if lim else ""))
        ax.set_xlabel("evaluations")
        ax.set_ylabel("best validation accuracy (CRN)")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="iris")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--out", default="results", help="stem of the .json and .png written")
    parser.add_argument("--record", action="store_true",
                        help="write next to this script, the tracked results its README quotes (default: latest/, git-ignored)")  # fmt: skip
    parser.add_argument("--resume", action="store_true",
                        help="keep the runs already in OUT.json (same budget and settings) and do the rest; "
                             "the file is rewritten after every run, so a stopped run loses one search at most")  # fmt: skip
    parser.add_argument("--reference", action="store_true",
                        help="only train the float-MLP reference per seed (no search); prints it")  # fmt: skip
    args = parser.parse_args()
    global STARTED_AT
    STARTED_AT = _commit() + ("+changes" if _dirty() else "")
    torch.set_num_threads(1)
    if args.reference:
        for name in args.datasets.split(","):
            float_reference(name, args.seeds)
        return
    names = args.datasets.split(",")
    for name in names:
        if name not in LIMITS:
            parser.error(f"--datasets: unknown {name!r}; choose from {', '.join(LIMITS)}")
    where = HERE if args.record else HERE / "latest"
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{args.out}.json"
    settings = vars(SETTINGS) | {"split": "50/25/25 stratified", "budget": args.budget,
                                 "batch": args.batch}  # fmt: skip
    done: dict = {}
    before = 0.0
    if args.resume and path.exists():
        old = json.loads(path.read_text())
        if old.get("settings") != settings:
            parser.error(f"--resume: {path} was written with settings {old.get('settings')}, "
                         f"not {settings}; use another --out or the same --budget/--batch")  # fmt: skip
        done = {n: r["runs"] for n, r in old["results"].items()}
        before = float(old.get("seconds", 0.0))
    started = time.perf_counter()
    command = (f"python benchmarks/search/bench_search.py --datasets {args.datasets} --seeds "
               f"{args.seeds} --budget {args.budget} --jobs {args.jobs} --batch {args.batch} "
               f"--out {args.out}")  # fmt: skip

    def write(results: dict, complete: bool) -> None:
        doc = {
            "command": command,
            "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, torch {torch.__version__}",
            "seconds": before + time.perf_counter() - started,
            "complete": complete,
            "settings": settings,
            "results": results,
        }
        path.write_text(json.dumps(doc, indent=1))

    results: dict = {n: summarize(n, runs) for n, runs in done.items()}
    for name in names:
        runs = done.get(name, {})
        for seed in range(args.seeds):
            for sname in strategies(args.budget):
                if any(r["seed"] == seed for r in runs.get(sname, [])):
                    continue
                runs.setdefault(sname, []).append(
                    run_one(name, seed, sname, args.budget, args.jobs, args.batch)
                )
                runs[sname].sort(key=lambda r: r["seed"])
                results[name] = summarize(name, runs)
                write(results, complete=False)
        results[name] = summarize(name, runs)
        for s, row in results[name]["summary"].items():
            print(f"  {s:9} val {row['val_mean']:.3f} ± {row['val_std']:.3f}  test {row['test_mean']:.3f} "
                  f"± {row['test_std']:.3f}  reactions {row['reactions_mean']:.1f}  target hit "
                  f"{row['target_hit']}  evals to 99% {row['evals_to_99_mean']:.1f}  within 1 pt "
                  f"{row['within_1pt_mean']:.1f}", flush=True)  # fmt: skip
        print("  tests:", json.dumps(results[name]["tests"]), flush=True)
    write(results, complete=True)
    plot({n: results[n] for n in names}, where / f"{args.out}.png")
    print(f"total {before + time.perf_counter() - started:.0f} s; wrote {path} and {args.out}.png")


if __name__ == "__main__":
    main()
