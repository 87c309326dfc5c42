"""The main job end to end: data -> trained MLP -> compiled CRN -> chemistry vs network report.

Shared by ``nncrn demo`` (built-in datasets) and ``nncrn train`` (the user's CSV).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nncrn._errors import InputError
from nncrn.cli._io import numeric_columns, read_table, save_model, write_csv

DATASETS = ("iris", "digits", "wine", "breast_cancer")
SIM_CHUNK = 256  # rows per steady-state call: the progress bar's granularity


@dataclass
class Dataset:
    name: str
    X: np.ndarray
    y: np.ndarray
    classes: list[str]
    feature_names: list[str]


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
    """One of scikit-learn's bundled datasets (no download)."""
    from sklearn import datasets

    if name not in DATASETS:
        raise InputError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    bunch = getattr(datasets, f"load_{name}")()
    names = [str(n) for n in getattr(bunch, "target_names", np.unique(bunch.target))]
    return Dataset(name, bunch.data.astype(np.float64), bunch.target.astype(np.int64), names,
                   [str(f) for f in bunch.feature_names])  # fmt: skip


def csv_dataset(path: str | Path, target: str) -> Dataset:
    """A table with a categorical ``target`` column and numeric feature columns."""
    header, rows = read_table(path)
    if target not in header:
        raise InputError(f"{Path(path).name}: no column named {target!r}; columns are {header}")
    features = [h for h in header if h != target]
    if not features:
        raise InputError(f"{Path(path).name}: no feature columns besides the target {target!r}")
    X = numeric_columns(path, header, rows, features)
    k = header.index(target)
    labels = [r[k].strip() for r in rows]
    for i, lab in enumerate(labels):
        if lab == "":
            raise InputError(
                f"{Path(path).name}: target column {target!r} is empty in data row {i + 1} "
                f"(line {i + 2}); every row needs a class label"
            )
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise InputError(
            f"{Path(path).name}: target column {target!r} has a single class {classes}; "
            "classification needs at least two"
        )
    index = {c: i for i, c in enumerate(classes)}
    return Dataset(Path(path).stem, X, np.array([index[v] for v in labels]), classes, features)


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


def train_mlp(X: np.ndarray, y: np.ndarray, n_classes: int, hidden: tuple[int, ...], eps: float,
              epochs: int, seed: int, progress: Any = None,
              quantize: tuple[int, str, bool] | None = None) -> Any:  # fmt: skip
    """Train an MLP with ``nncrn.nn.SmoothReLU`` activations on min-max scaled features.

    The scaling is folded into the first layer afterwards, so the returned model takes raw
    features: the chemistry then needs no preprocessing step outside the network.
    ``quantize = (bits, method, qat)`` discretizes the returned (folded) weights and biases
    per layer with :func:`nncrn.train.quantize_model`, after ``epochs`` more epochs of
    quantization-aware fine-tuning of the folded model (:func:`nncrn.train.qat_fit`) when
    ``qat`` is true.
    """
    import torch

    from nncrn.nn import SmoothReLU

    if epochs < 1:
        raise InputError(f"--epochs must be >= 1, got {epochs}")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    low = X.min(axis=0)
    span = X.max(axis=0) - low
    span[span == 0] = 1.0  # constant feature: any scale works, its weight only shifts the bias
    Xs = torch.tensor((X - low) / span)
    yt = torch.tensor(y)
    sizes = (X.shape[1], *hidden, n_classes)
    modules: list[torch.nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        modules.append(torch.nn.Linear(a, b, dtype=torch.float64))
        if i < len(sizes) - 2:
            modules.append(SmoothReLU(eps))
    model = torch.nn.Sequential(*modules)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    loss_fn = torch.nn.CrossEntropyLoss()
    batch = 32
    task = progress.add_task("training", total=epochs) if progress is not None else None
    for _ in range(epochs):
        perm = torch.randperm(len(yt), generator=gen)
        for start in range(0, len(yt), batch):
            idx = perm[start : start + batch]
            opt.zero_grad()
            loss = loss_fn(model(Xs[idx]), yt[idx])
            loss.backward()
            opt.step()
        if task is not None:
            progress.update(task, advance=1, description=f"training (loss {loss.item():.3f})")
    first = model[0]
    with torch.no_grad():
        w = first.weight / torch.tensor(span)
        first.bias.sub_(w @ torch.tensor(low))
        first.weight.copy_(w)
    if quantize is not None:  # the folded weights are the rate constants: discretize those
        from nncrn.train import qat_fit, quantize_model

        if quantize[2]:  # straight-through fine-tuning of the folded model on raw features
            model, _ = qat_fit(model, X, y, bits=quantize[0], method=quantize[1], epochs=epochs,
                               rng=seed)  # fmt: skip
        model = quantize_model(model, quantize[0], quantize[1])
    return model.eval()


def infer_input_range(X: np.ndarray) -> list[tuple[float, float]] | None:
    """Input range from training features: concentrations as-is when all are >= 0.

    A feature with negative training values gets ``low = min - 10% of its span`` so slightly
    lower values at prediction time still map to non-negative concentrations; ``high`` is
    unbounded because large concentrations are chemically harmless.
    """
    low = X.min(axis=0)
    if (low >= 0).all():
        return None
    span = np.maximum(X.max(axis=0) - low, 1e-12)
    lows = np.where(low >= 0, 0.0, low - 0.1 * span)
    return [(float(v), float("inf")) for v in lows]


@dataclass
class Report:
    rows: list[tuple[str, str]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    values: dict[str, float] = field(default_factory=dict)

    def add(self, key: str, label: str, value: float, fmt: str) -> None:
        self.values[key] = value
        self.rows.append((label, format(value, fmt)))


def run(ds: Dataset, *, hidden: tuple[int, ...], eps: float, epochs: int, seed: int,
        out: Path, console: Any, test_size: float = 0.25,
        quantize: tuple[int, str, bool] | None = None) -> Report:  # fmt: skip
    """Train, compile, simulate every test input in batches, and write the artefacts."""
    import torch
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from sklearn.model_selection import train_test_split

    from nncrn.compile import SmoothReLU, compile_network
    from nncrn.simulate import settling_time, steady_state

    if not 0 < eps < np.inf:
        raise InputError(f"--eps must be > 0 and finite, got {eps}")
    if epochs < 1:
        raise InputError(f"--epochs must be >= 1, got {epochs}")
    check_seed(seed)
    check_output_directory(out)
    check_split(ds, test_size)
    Xtr, Xte, ytr, yte = train_test_split(
        ds.X, ds.y, test_size=test_size, random_state=seed, stratify=ds.y
    )
    out.mkdir(parents=True, exist_ok=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        model = train_mlp(Xtr, ytr, len(ds.classes), hidden, eps, epochs, seed, progress,
                          quantize)  # fmt: skip
        input_range = infer_input_range(Xtr)
        network = compile_network(model, scheme=SmoothReLU(eps=eps), input_range=input_range)
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
            parts.append(steady_state(network, chunk))
            progress.update(steady_task, advance=len(chunk))
            settle_parts.append(settling_time(network, chunk, rtol=0.01, steady=parts[-1]))
            progress.update(settle_task, advance=len(chunk))
        crn = np.concatenate([p.outputs for p in parts])
        conc = np.concatenate([p.concentrations for p in parts])
        settle = np.concatenate(settle_parts)
    with torch.no_grad():
        nn_out = model(torch.tensor(Xte)).numpy()
    nn_pred, crn_pred = nn_out.argmax(1), crn.argmax(1)
    report = Report()
    report.add("nn_accuracy", "NN test accuracy", float((nn_pred == yte).mean()), ".4f")
    report.add("crn_accuracy", "CRN test accuracy", float((crn_pred == yte).mean()), ".4f")
    report.add("agreement", "NN/CRN agreement", float((nn_pred == crn_pred).mean()), ".4f")
    report.add("max_abs_diff", "max |CRN - NN| (all outputs)", float(np.abs(crn - nn_out).max()), ".3e")
    rates = network.stoichiometry.rates
    report.add("species", "species", network.n_species, "d")
    report.add("reactions", "reactions", network.n_reactions, "d")
    report.add("distinct_rates", "distinct rate constants", len(np.unique(rates)), "d")
    if quantize is not None:
        bits, method, qat = quantize
        kind = method if method in ("binary", "ternary") else f"{method}, {bits} bits"
        report.rows.append(("discretized weights", kind + (", QAT" if qat else "")))
        report.add("dynamic_range", "rate dynamic range k_max / k_min", rates.max() / rates.min(), ".4g")
    report.add("t99", "chemical time: 99% of inputs within 1% of steady state",
               float(np.quantile(settle, 0.99)), ".4g")  # fmt: skip
    report.add("test_inputs", f"test inputs simulated (batches of <= {SIM_CHUNK})", len(Xte), "d")
    if clipped:
        report.add("clipped", "test feature values clipped to input_range", clipped, "d")

    model_path, net_path, png_path = out / "model.json", out / "network.json", out / "trajectories.png"
    save_model(model_path, model, {"eps": eps, "classes": ds.classes,
                                   "feature_names": ds.feature_names, "input_range": input_range})  # fmt: skip
    network.save(net_path)
    # one test input of each of the first four classes, so the plot shows different winners
    shown = [int(np.flatnonzero(yte == c)[0]) for c in np.unique(yte)[:4]]
    plot_trajectories(network, Xte[shown], yte[shown], conc[shown], ds.classes,
                      report.values["t99"], png_path)  # fmt: skip
    # the held-out split, ready for `nncrn simulate`, `nncrn noise` and `nncrn robustness`
    x_path, y_path = out / "test_inputs.csv", out / "test_labels.csv"
    write_csv(x_path, ds.feature_names, Xte)
    write_csv(y_path, ["label"], [[ds.classes[int(c)]] for c in yte])
    report.files = [net_path, model_path, png_path, x_path, y_path]
    return report


def plot_trajectories(network: Any, X: np.ndarray, y: np.ndarray, steady: np.ndarray,
                      classes: list[str], t99: float, path: Path) -> None:  # fmt: skip
    """PNG of the readout values (logits) against chemical time for a few inputs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nncrn.cli._io import write_atomic
    from nncrn.simulate import integrate

    t_end = max(3 * t99, 10.0)
    t = np.concatenate([[0.0], np.geomspace(1e-3, t_end, 300)])
    traj = integrate(network, X, t)
    ss = network.read_outputs(steady)
    fig, axes = plt.subplots(1, len(X), figsize=(4.2 * len(X), 3.6), sharey=True, squeeze=False)
    colors = plt.get_cmap("tab10")
    for b, ax in enumerate(axes[0]):
        for j, name in enumerate(network.outputs):
            c = colors(j % 10)
            label = classes[j] if len(classes) == len(network.outputs) else name
            ax.plot(t[1:], traj.outputs[b, 1:, j], color=c, lw=1.6, label=label)
            ax.axhline(ss[b, j], color=c, ls=":", lw=0.8)
        ax.axvline(t99, color="0.4", ls="--", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("chemical time")
        pred = classes[int(ss[b].argmax())]
        ax.set_title(f"test input: true {classes[int(y[b])]}, CRN says {pred}", fontsize=9)
    axes[0][0].set_ylabel("output (logit) = [Y+] - [Y-]")
    if len(network.outputs) <= 12:
        axes[0][-1].legend(fontsize=7, loc="lower right", ncol=2)
    fig.suptitle("Compiled network outputs; dotted: steady state; dashed: 99% settled", fontsize=10)
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
