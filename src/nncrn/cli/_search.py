"""``nncrn search``: the most accurate (and the smallest) chemistry for a dataset."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nncrn._errors import InputError

STRATEGIES = ("random", "evolution", "rl")
OUTPUT_FILES = ("best_network.json", "pareto.png", "evaluations.csv")


def register(sub: Any) -> None:
    from nncrn.data import DATASETS

    p = sub.add_parser(
        "search",
        help="search architectures for the most accurate CRN under a reaction budget",
        description="Trains, compiles and simulates every proposed network (0-3 hidden layers, "
        "widths 2-32, 0-90% pruned weights, smooth-relu or dual-rail, float / ternary / binary / "
        "2-4-bit linear or exponential weights, with or without QAT) and scores the CRN's "
        "accuracy on a validation split; the test split is read once, at the end. Writes "
        "best_network.json, pareto.png (accuracy against reactions) and evaluations.csv to --out.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--dataset", choices=DATASETS, help="a built-in dataset")
    src.add_argument("--csv", type=Path, help="a table with a header row (with --target)")
    p.add_argument("--target", help="the class-label column of --csv")
    p.add_argument("--budget", type=int, default=50, help="evaluations (default 50)")
    p.add_argument("--strategy", choices=STRATEGIES, default="evolution",
                   help="random search, regularized evolution or the REINFORCE controller "
                   "(default evolution)")  # fmt: skip
    p.add_argument("--max-reactions", type=int, help="networks with more reactions are infeasible")
    p.add_argument("--max-species", type=int, help="networks with more species are infeasible")
    p.add_argument(
        "--seed", type=int, default=0, help="split, weights and strategy draws (default 0)"
    )
    p.add_argument("--jobs", type=int, default=1, help="local worker processes (default 1)")
    p.add_argument("--scheduler", help="address of a Dask scheduler to evaluate on instead")
    p.add_argument("--batch-size", type=int, default=8,
                   help="evaluations asked for at a time (default 8); with the seed it fixes the run")  # fmt: skip
    p.add_argument(
        "--epochs", type=int, default=150, help="training epochs per network (default 150)"
    )
    p.add_argument("--qat-epochs", type=int, default=100, help="QAT epochs (default 100)")
    p.add_argument("--min-steps", type=int, default=3000,
                   help="optimizer steps each training makes at least, whatever the epochs "
                        "(default 3000: a small table gets more epochs)")  # fmt: skip
    p.add_argument("--times", action="store_true",
                   help="also measure the completion time (t99, within 1%%) of the front's networks")  # fmt: skip
    p.add_argument("--out", type=Path, required=True, help="directory for the results")
    p.set_defaults(func=run)


def _strategy(name: str, budget: int):
    from nncrn.search import RandomSearch, RegularizedEvolution, Reinforce

    if name == "random":
        return RandomSearch()
    if name == "evolution":
        return RegularizedEvolution(
            population=max(2, min(20, budget // 4)), tournament=min(3, max(2, budget // 4))
        )
    return Reinforce()


def run(args: argparse.Namespace, console: Any) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from nncrn.cli._io import check_not_input
    from nncrn.data import load_csv, load_dataset
    from nncrn.search import SearchData, TrainSettings, search

    if args.csv is not None and not args.target:
        raise InputError("--csv needs --target COLUMN, the class-label column")
    if args.dataset is not None and args.target:
        raise InputError("--target goes with --csv; a built-in --dataset has its own labels")
    if args.budget < 1:
        raise InputError(f"--budget {args.budget}: give at least 1 evaluation")
    if args.csv is not None:
        for name in OUTPUT_FILES:
            check_not_input(args.out / name, {"--csv": args.csv}, option="--out")
    ds = load_dataset(args.dataset) if args.dataset else load_csv(args.csv, args.target)
    settings = TrainSettings(epochs=args.epochs, qat_epochs=args.qat_epochs,
                             min_steps=args.min_steps)  # fmt: skip
    data = SearchData.split(ds.X, ds.y, seed=args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    client = None
    if args.scheduler:
        try:
            from dask.distributed import Client
        except ImportError as exc:
            raise InputError(
                "--scheduler needs dask.distributed: pip install 'nncrn[dask]'"
            ) from exc
        client = Client(args.scheduler)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    best = [0.0]
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(f"{args.strategy} search", total=args.budget)

            def tell(e) -> None:
                best[0] = max(best[0], e.fitness)
                progress.update(task, advance=1,
                                description=f"{args.strategy} search (best {best[0]:.3f})")  # fmt: skip

            result = search(data, _strategy(args.strategy, args.budget), budget=args.budget,
                            settings=settings, seed=args.seed, max_reactions=args.max_reactions,
                            max_species=args.max_species, n_jobs=args.jobs, client=client,
                            batch_size=args.batch_size, completion_times=args.times,
                            on_result=tell)  # fmt: skip
    finally:
        if client is not None:
            client.close()
    _report(result, ds.name, console, Table)
    _write(result, args.out)
    console.print(
        f"wrote {', '.join(str(args.out / f) for f in OUTPUT_FILES if (args.out / f).exists())}"
    )
    return 0


def _report(result, name: str, console: Any, Table: Any) -> None:
    table = Table(title=f"nncrn search: {name}, {result.strategy}, {result.budget} evaluations, "
                  f"seed {result.seed} (Pareto front of validation accuracy against reactions)")  # fmt: skip
    times = bool(result.completion_time)
    cols = ["architecture", "val acc", "test acc", "reactions", "species", "molecularity", "rates"]
    for col in cols + (["t99"] if times else []):
        table.add_column(col, justify="left" if col == "architecture" else "right")
    for e in result.front:
        test = result.test_accuracy.get(e.index)
        table.add_row(e.describe() + (" (best)" if e.index == result.best.index else ""),
                      f"{e.val_accuracy:.3f}", "-" if test is None else f"{test:.3f}",
                      str(e.reactions), str(e.species), str(e.molecularity), str(e.distinct_rates),
                      *([f"{result.completion_time.get(e.index, float('nan')):.4g}"] if times else []))  # fmt: skip
    console.print(table)
    feasible = sum(e.feasible for e in result.evaluations)
    b = result.best
    if not b.feasible:
        console.print(f"no network met the limits in {result.budget} evaluations ({b.reason}); "
                      "raise --budget or --max-reactions")  # fmt: skip
        return
    console.print(f"{feasible} of {result.budget} evaluations feasible; best reached 99% after "
                  f"{result.evaluations_to_reach()} evaluations; {result.count_within()} architectures "
                  f"within 1 point of it; test accuracy of the best {result.test_accuracy[b.index]:.3f} "
                  f"(CRN, simulated, converged {result.test_converged[b.index]:.0%})")  # fmt: skip


def _write(result, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nncrn.cli._io import atomic_path, write_csv

    rows = [[e.index, e.describe(), e.feasible, e.val_accuracy, e.nn_accuracy, e.converged,
             e.reactions, e.species, e.molecularity, e.distinct_rates, round(e.seconds, 3),
             e.reason or ""]
            for e in result.evaluations]  # fmt: skip
    # "reason" says why a row is infeasible; one not trained has the bound as its reactions
    write_csv(out / "evaluations.csv", ["index", "architecture", "feasible", "val_accuracy", "nn_accuracy",
              "converged", "reactions", "species", "molecularity", "distinct_rates", "seconds",
              "reason"], rows)  # fmt: skip
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    result.plot(ax)
    fig.tight_layout()
    with atomic_path(out / "pareto.png") as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)
    if result.best.feasible:
        with atomic_path(out / "best_network.json") as tmp:
            result.best.network.save(tmp)
