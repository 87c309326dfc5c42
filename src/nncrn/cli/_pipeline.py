"""The main job end to end: data -> trained MLP -> compiled CRN -> chemistry vs network report.

Shared by ``nncrn demo`` (built-in datasets) and ``nncrn train`` (the user's CSV).
"""

from __future__ import annotations

import argparse
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nncrn._errors import ConvergenceWarning, InputError
from nncrn.cli._io import write_csv
from nncrn.cli._models import save_model
from nncrn.data import save_onnx

if TYPE_CHECKING:
    from nncrn.train import Koopman
from nncrn.data import (
    DATASETS,
    Dataset,
    Discretization,
    infer_input_range,
    load_csv,
    load_dataset,
)

__all__ = ["DATASETS", "Options", "Report", "builtin_dataset", "csv_dataset", "run"]

SIM_CHUNK = 256  # rows per steady-state call: the progress bar's granularity
OUTPUT_FILES = ("network.json", "model.json", "trajectories.png", "test_inputs.csv", "test_labels.csv")

def check_seed(seed: int, option: str = "--seed") -> int:
    """``seed`` if it is a valid random seed (``0 <= seed < 2**32``, what numpy and sklearn take)."""
    if not 0 <= seed < 2**32:
        raise InputError(f"{option} {seed}: a random seed must be an integer in [0, 2**32), e.g. 0")
    return seed


def check_output_directory(out: Path, option: str = "--out") -> Path:
    """``out`` if it is a directory or can be created as one (checked before any work)."""
    if out.exists() and not out.is_dir():
        raise FileExistsError(
            f"{option} {str(out)!r} is a file, not a directory; the command writes several "
            "files into it: choose a directory path (created if missing)"
        )
    return out


def builtin_dataset(name: str) -> Dataset:
    """One of the built-in datasets (no download); see :func:`nncrn.data.load_dataset`."""
    return load_dataset(name)


def csv_dataset(path: str | Path, target: str) -> Dataset:
    """A table with a categorical ``target`` column and numeric feature columns."""
    return load_csv(path, target)


def check_split(ds: Dataset, test_size: float) -> None:
    """Refuse data the stratified train/test split cannot divide, saying which class is short.

    The split keeps every class's share in both parts, so each class needs a row in each,
    and each part needs a row per class (what ``StratifiedShuffleSplit`` requires).
    """
    counts = np.bincount(ds.y, minlength=len(ds.classes))
    short = [ds.classes[i] for i in np.flatnonzero(counts < 2)]
    if short:
        raise InputError(
            f"{ds.name}: class {short[0]!r} has {counts[ds.classes.index(short[0])]} row "
            f"(classes with fewer than 2 rows: {short[:6]}); the held-out test split keeps "
            "every class in both parts, so each class needs at least 2 rows: add rows or "
            "drop the class"
        )
    n = len(ds.y)
    n_test = int(np.ceil(test_size * n))
    n_classes = int((counts > 0).sum())
    if n_test < n_classes or n - n_test < n_classes:
        raise InputError(
            f"{ds.name}: {n} rows are too few to split {round(test_size * 100)}% off for testing "
            f"with each of the {n_classes} classes in both parts (test rows: {n_test}, training "
            f"rows: {n - n_test}); give at least {int(np.ceil(n_classes / test_size))} rows"
        )


def parse_hidden(text: str) -> tuple[int, ...]:
    """``"32,16"`` -> ``(32, 16)``; empty string for no hidden layer."""
    try:
        sizes = tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise InputError(f"--hidden {text!r}: give layer widths as integers, e.g. 32,16") from None
    if any(s < 1 for s in sizes):
        raise InputError(f"--hidden {text!r}: every layer width must be >= 1")
    return sizes


@dataclass
class Report:
    rows: list[tuple[str, str]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    values: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def add(self, key: str, label: str, value: float, fmt: str) -> None:
        self.values[key] = value
        self.rows.append((label, format(value, fmt)))


@dataclass(frozen=True)
class Options:
    """Settings of the main job (the CLI's options; see ``nncrn train --help``)."""

    hidden: tuple[int, ...] = (32, 16)
    eps: float = 1e-3
    epochs: int = 60
    seed: int = 0
    test_size: float = 0.25
    scheme: str = "smooth-relu"
    discretization: Discretization | None = None
    koopman: Koopman | None = None


def check_options(opts: Options) -> None:
    """Refuse settings that cannot work, before any training."""
    from nncrn.cli._schemes import TRAINABLE

    if not 0 < opts.eps < np.inf:
        raise InputError(f"--eps must be > 0 and finite, got {opts.eps}")
    if opts.epochs < 1:
        raise InputError(f"--epochs must be >= 1, got {opts.epochs}")
    check_seed(opts.seed)
    if not 0 <= opts.test_size < 1:
        raise InputError(
            f"--test-size {opts.test_size!r}: give the held-out share in [0, 1), e.g. 0.25; "
            "0 tests on the training rows themselves"
        )
    if opts.scheme not in TRAINABLE:
        raise InputError(f"--scheme {opts.scheme!r}: train/demo support {', '.join(TRAINABLE)}")
    disc = opts.discretization
    if opts.scheme == "dual-rail" and (disc is None or not disc.integer_levels):
        got = "real-valued weights" if disc is None else f"--discretize {disc.method}"
        raise InputError(
            f"--scheme dual-rail encodes each weight as a stoichiometric coefficient, so the "
            f"weights must be integer multiples of one unit per layer; {got} are not. Add "
            "--discretize ternary (or binary, or linear with --bits N), with --qat to train "
            "for the levels"
        )


def _split(ds: Dataset, test_size: float, seed: int) -> tuple[np.ndarray, ...]:
    """Stratified train/test split; ``test_size = 0`` tests on the training rows."""
    from sklearn.model_selection import train_test_split

    if test_size == 0:
        return ds.X, ds.X, ds.y, ds.y
    check_split(ds, test_size)
    return tuple(train_test_split(ds.X, ds.y, test_size=test_size, random_state=seed,
                                  stratify=ds.y))  # fmt: skip


def _accuracy_row(report: Report, key: str, label: str, pred: np.ndarray, y: np.ndarray,
                  majority: float, n_classes: int) -> None:  # fmt: skip
    """Add an accuracy row; warn when the predictions are one class or no better than the majority."""
    acc = float((pred == y).mean())
    report.add(key, label, acc, ".4f")
    if n_classes < 2:
        return
    distinct = np.unique(pred[pred >= 0])  # -1: a row without an answer (not converged)
    if distinct.size == 1:
        report.warnings.append(
            f"{label}: every test input is predicted as one class ({acc:.4f}, majority-class "
            f"rate {majority:.4f}); the network has not learned the task"
        )
    elif acc <= majority:
        report.warnings.append(
            f"{label} {acc:.4f} is at or below the majority-class rate {majority:.4f}: no "
            "better than always predicting the most frequent class"
        )


def run(ds: Dataset, opts: Options, *, out: Path, console: Any) -> Report:
    """Train, discretize, compile, simulate every test input in batches, write the artefacts."""
    import torch
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from nncrn.cli._schemes import make_scheme
    from nncrn.compile import compile_network
    from nncrn.data import MinMaxScaling, build_mlp, discretize_mlp, fold_offset, train_mlp
    from nncrn.simulate import settling_time, steady_state

    check_options(opts)
    check_output_directory(out)
    Xtr, Xte, ytr, yte = _split(ds, opts.test_size, opts.seed)
    scaling = MinMaxScaling.fit(Xtr)
    activation = "relu" if opts.scheme == "dual-rail" else "smooth_relu"
    sizes = (ds.X.shape[1], *opts.hidden, len(ds.classes))
    initial = build_mlp(sizes, activation, opts.eps, opts.seed)
    disc = opts.discretization
    out.mkdir(parents=True, exist_ok=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("training", total=opts.epochs)

        def advance(epoch: int, loss: float) -> None:
            progress.update(task, advance=1, description=f"training (loss {loss:.3f})")

        float_model = train_mlp(initial, scaling.transform(Xtr), ytr, epochs=opts.epochs,
                                seed=opts.seed, on_epoch=advance, accelerate=opts.koopman)  # fmt: skip
        trained = float_model
        if disc is not None:
            what = f"discretizing ({disc.describe()})"
            qtask = progress.add_task(what, total=1)
            trained = discretize_mlp(float_model, scaling.transform(Xtr), ytr, disc, seed=opts.seed)
            progress.update(qtask, advance=1)
        # the model that reads features * input_scale: the weights stay what was trained
        model = fold_offset(trained, scaling.low, scaling.input_scale).eval()
        input_range = infer_input_range(Xtr)
        network = compile_network(model, scheme=make_scheme(opts.scheme, opts.eps),
                                  input_range=input_range, input_scale=scaling.input_scale)  # fmt: skip
        network = network.with_metadata(
            dataset=ds.name, classes=ds.classes, feature_names=ds.feature_names
        )
        if input_range is not None:  # clip test features below the inferred range (reported)
            lows = np.array([r[0] for r in input_range])
            clipped = int((Xte < lows).sum())
            Xte = np.maximum(Xte, lows)
        else:
            clipped = 0
        steady_task = progress.add_task("chemistry: steady states", total=len(Xte))
        settle_task = progress.add_task("chemistry: settling times", total=len(Xte))
        parts, settle_parts = [], []
        for start in range(0, len(Xte), SIM_CHUNK):
            chunk = Xte[start : start + SIM_CHUNK]
            with warnings.catch_warnings():  # the report counts and names unconverged items
                warnings.simplefilter("ignore", ConvergenceWarning)
                parts.append(steady_state(network, chunk, throw=False))
            progress.update(steady_task, advance=len(chunk))
            settle_parts.append(settling_time(network, chunk, rtol=0.01, steady=parts[-1]))
            progress.update(settle_task, advance=len(chunk))
        scale = float(network.metadata.get("output_scale", 1.0))
        crn = np.concatenate([p.outputs for p in parts]) * scale
        conc = np.concatenate([p.concentrations for p in parts])
        converged = np.concatenate([p.converged for p in parts])
        settle = np.concatenate(settle_parts)
    with torch.no_grad():
        nn_out = model(torch.tensor(Xte * scaling.input_scale)).numpy()
        float_out = float_model(torch.tensor(scaling.transform(Xte))).numpy()
    # a row that did not converge has no answer: it counts as wrong and as a disagreement
    nn_pred, crn_pred = nn_out.argmax(1), np.where(converged, crn.argmax(1), -1)
    majority = float(np.bincount(yte, minlength=len(ds.classes)).max() / len(yte))
    n_classes = len(ds.classes)
    report = Report()
    _accuracy_row(report, "float_accuracy", "float NN test accuracy", float_out.argmax(1), yte,
                  majority, n_classes)  # fmt: skip
    if disc is not None:
        _accuracy_row(report, "nn_accuracy", "discretized NN test accuracy", nn_pred, yte,
                      majority, n_classes)  # fmt: skip
    else:
        report.values["nn_accuracy"] = report.values["float_accuracy"]
    _accuracy_row(report, "crn_accuracy", "CRN test accuracy", crn_pred, yte, majority, n_classes)
    report.add("majority_rate", "majority-class rate (test)", majority, ".4f")
    report.add("agreement", "NN/CRN agreement", float((nn_pred == crn_pred).mean()), ".4f")
    diff = np.abs(crn - nn_out)[converged]
    report.add("max_abs_diff", "max |CRN - NN| (converged rows)",
               float(diff.max()) if diff.size else float("nan"), ".3e")  # fmt: skip
    report.add("converged", "test inputs converged", int(converged.sum()), "d")
    if not converged.all():
        report.warnings.append(
            f"{int((~converged).sum())} of {len(converged)} test inputs did not reach a steady "
            "state; their CRN outputs are not answers"
        )
    rates = network.stoichiometry.rates
    arch = "-".join(str(n) for n in sizes)
    if not opts.hidden:
        arch += " (no hidden layer: a linear model)"
    report.rows.append(("architecture", arch))
    report.rows.append(("scheme", opts.scheme))
    report.add("species", "species", network.n_species, "d")
    report.add("reactions", "reactions", network.n_reactions, "d")
    report.add("distinct_rates", "distinct rate constants", len(np.unique(rates)), "d")
    if opts.koopman is not None:
        jumps = float_model.koopman_jumps
        report.add("koopman_jumps", f"Koopman jumps kept (of {len(jumps)}, "
                   f"{opts.koopman.horizon} steps each)", sum(j.accepted for j in jumps), "d")  # fmt: skip
    if disc is not None and network.n_reactions:
        report.rows.append(("discretized weights", disc.describe()))
        report.add("dynamic_range", "rate dynamic range k_max / k_min", rates.max() / rates.min(), ".4g")
    report.add("t99", "chemical time: 99% of inputs within 1% of steady state",
               float(np.quantile(settle, 0.99)), ".6g")  # fmt: skip
    where = "training rows (--test-size 0)" if opts.test_size == 0 else "held-out test inputs"
    report.add("test_inputs", f"{where} simulated (batches of <= {SIM_CHUNK})", len(Xte), "d")
    if clipped:
        report.add("clipped", "test feature values clipped to input_range", clipped, "d")

    net_path, model_path, png_path, x_path, y_path = (out / name for name in OUTPUT_FILES)
    meta = {
        "eps": opts.eps, "classes": ds.classes, "feature_names": ds.feature_names,
        "input_range": input_range, "input_scale": scaling.input_scale.tolist(),
        "scheme": opts.scheme,
        "discretization": None if disc is None else disc.describe(),
    }  # fmt: skip
    save_model(model_path, model, meta)
    onnx_path = out / "model.onnx"
    # ONNX has no SmoothReLU operator: only ReLU models (the dual-rail path) are written
    wrote_onnx = _onnx_available() and save_onnx(onnx_path, model, meta)
    network.save(net_path)
    # one test input of each of the first four classes, so the plot shows different winners
    shown = [int(np.flatnonzero(yte == c)[0]) for c in np.unique(yte)[:4]]
    plot_trajectories(network, Xte[shown], yte[shown], conc[shown], ds.classes,
                      report.values["t99"], png_path)  # fmt: skip
    # the held-out split, ready for `nncrn simulate`, `nncrn noise` and `nncrn robustness`
    write_csv(x_path, ds.feature_names, Xte)
    write_csv(y_path, ["label"], [[ds.classes[int(c)]] for c in yte])
    report.files = [net_path, model_path, *([onnx_path] if wrote_onnx else []), png_path,
                    x_path, y_path]  # fmt: skip
    return report

def _onnx_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnx") is not None


def plot_trajectories(network: Any, X: np.ndarray, y: np.ndarray, steady: np.ndarray,
                      classes: list[str], t99: float, path: Path) -> None:  # fmt: skip
    """PNG of the readout values (logits) against chemical time for a few inputs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nncrn.cli._io import write_atomic
    from nncrn.plot import plot_trajectory
    from nncrn.simulate import integrate

    t_end = max(3 * t99, 10.0)
    t = np.concatenate([[0.0], np.geomspace(1e-3, t_end, 300)])
    traj = integrate(network, X, t)
    ss = network.read_outputs(steady)
    labels = classes if len(classes) == len(network.outputs) else None
    fig, axes = plt.subplots(1, len(X), figsize=(4.2 * len(X), 3.6), sharey=True, squeeze=False)
    for b, ax in enumerate(axes[0]):
        plot_trajectory(traj, ax, items=b, steady=ss, labels=labels, logx=True, legend=False)
        ax.axvline(t99, color="0.4", ls="--", lw=0.8)
        pred = classes[int(ss[b].argmax())]
        ax.set_title(f"test input: true {classes[int(y[b])]}, CRN says {pred}", fontsize=9)
        ax.label_outer()
    axes[0][0].set_ylabel("output (logit) = [Y+] - [Y-]")
    if len(network.outputs) <= 12:
        axes[0][-1].legend(fontsize=7, loc="lower right", ncol=2)
    fig.suptitle("Compiled network outputs; dotted: steady state; dashed: 99% settled", fontsize=10)
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)


class _FileOptionForDirectory(argparse.Action):
    """``-o`` given to a command that writes a directory: say to use ``--out``."""

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error(f"{option_string} names a file in every nncrn command; this command writes "
                     f"several files into a directory: use --out {values}")  # fmt: skip


def add_output_directory(p: argparse.ArgumentParser, what: str) -> None:
    """``--out DIR`` (as in ``demo``, ``train`` and ``compare``; ``--output-dir`` too), and an
    ``-o`` that explains the convention: ``-o`` is a file, ``--out`` a directory."""
    p.add_argument("--out", "--output-dir", dest="output_dir", type=Path, metavar="DIR",
                   help=f"directory to write {what} into (created if missing)")  # fmt: skip
    p.add_argument("-o", action=_FileOptionForDirectory, help=argparse.SUPPRESS)
