"""``nncrn info``: what a network file contains and, given data, what its chemistry costs."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nncrn._errors import InputError
from nncrn.network import ReactionNetwork, Role

SOLVERS = {"torch": "TorchODE", "scipy": "ScipyODE"}  # the CLI's name -> solver class table
_DECADES, _PER_DECADE = 7, 20  # settling-time grid: t_max * [1e-7, 1], 12% steps (as settling_time)


def reaction_kind(reaction: Any) -> str:
    """Classify a reaction by what it does to the species it changes."""
    net = reaction.net()
    catalysts = [s for s in reaction.reactants if s in reaction.products and s not in net]
    cat = " (catalysed)" if catalysts else ""
    if not reaction.reactants:
        return "production 0 -> Y"
    if all(v < 0 for v in net.values()) and not [s for s in reaction.products if s in net]:
        return f"degradation{cat}"
    if all(v > 0 for v in net.values()) and all(s in reaction.reactants for s in net):
        return f"autocatalytic growth{cat}"
    if catalysts and all(v > 0 for v in net.values()):
        return "catalytic production"
    if len(net) == 1 and next(iter(net.values())) < 0:
        return f"annihilation/dimerisation{cat}"
    return "conversion"


def summary(network: ReactionNetwork) -> dict[str, Any]:
    rates = network.stoichiometry.rates
    return {
        "species": network.n_species,
        "species_by_role": {r.value: len(network.species_with_role(r)) for r in Role},
        "reactions": network.n_reactions,
        "by_molecularity": dict(sorted(Counter(network.stoichiometry.order.tolist()).items())),
        "by_kind": dict(Counter(reaction_kind(r) for r in network.reactions).most_common()),
        "distinct_rates": len(np.unique(rates)),
        "rate_min": float(rates.min()) if len(rates) else float("nan"),
        "rate_max": float(rates.max()) if len(rates) else float("nan"),
    }


def _scheme(network: ReactionNetwork) -> dict[str, Any]:
    """The scheme metadata as a mapping (a foreign file may store just a name string)."""
    scheme = network.metadata.get("scheme")
    if isinstance(scheme, str):
        return {"name": scheme}
    return dict(scheme) if isinstance(scheme, Mapping) else {}


def _dual_inputs(network: ReactionNetwork) -> bool:
    return bool(_scheme(network).get("dual_inputs"))


def clip_features(network: ReactionNetwork, X: np.ndarray) -> tuple[np.ndarray, int]:
    """Features (what the model reads), clipped from below to the ``input_range`` lows.

    Returns the features and how many values were clipped. For a dual-rail network built
    with ``dual_inputs``, ``X`` may also hold its ``[x+, x-]`` input columns.
    """
    X = np.asarray(X, dtype=np.float64)
    if _dual_inputs(network):
        if X.ndim == 2 and X.shape[1] == len(network.inputs):
            X = X[:, 0::2] - X[:, 1::2]
        return X, 0
    if X.ndim != 2 or X.shape[1] != len(network.inputs):
        raise InputError(
            f"the data have {X.shape[-1]} features but the network has {len(network.inputs)} "
            "inputs; use the dataset the model was trained on"
        )
    lows = np.array([
        (network.species[network.index(n)].input_range or (0.0, np.inf))[0] for n in network.inputs
    ])  # fmt: skip
    return np.maximum(X, lows), int((X < lows).sum())


def model_features(network: ReactionNetwork, X: np.ndarray) -> np.ndarray:
    """What the compiled model reads: features clipped (:func:`clip_features`) times each input
    species' ``input_scale`` (1 unless the network keeps a feature scaling, e.g. min-max)."""
    X = clip_features(network, X)[0]
    if _dual_inputs(network):
        return X
    scale = np.array([network.species[network.index(n)].input_scale for n in network.inputs])
    return X * scale


def subsample(n: int, limit: int) -> np.ndarray:
    """Indices of at most ``limit`` of ``n`` rows, evenly spaced (all rows if ``n <= limit``)."""
    if n <= limit:
        return np.arange(n)
    return np.linspace(0, n - 1, limit).round().astype(int)


def network_inputs(network: ReactionNetwork, X: np.ndarray) -> tuple[np.ndarray, int]:
    """Features -> the network's input columns (see :func:`clip_features`), clipped count."""
    X, clipped = clip_features(network, X)
    if _dual_inputs(network):
        from nncrn.compile import dual_rail_inputs

        return dual_rail_inputs(X), clipped
    return X, clipped


def chemistry_report(network: ReactionNetwork, X: np.ndarray, reference: np.ndarray | None = None,
                     *, t_max: float = 1e4, solver: Any = None, times: bool = True,
                     labels: np.ndarray | None = None) -> dict[str, Any]:  # fmt: skip
    """Resource and speed figures of ``network`` on features ``X`` (rows of a dataset).

    ``max_concentration`` is the largest concentration of any species at any sampled time
    or at steady state; ``t90``/``t99`` are :func:`nncrn.simulate.settling_time` with bands
    of 10% and 1% (every readout species within 10% or 1% of its steady state; median and
    worst over the rows that converged) from one trajectory on a log grid up to ``t_max``; ``agreement`` compares the
    argmax of the steady-state outputs with that of ``reference`` (the model's outputs) and
    ``accuracy`` with ``labels`` (class indices), each over the converged rows' answers
    (a row that did not converge counts as wrong). ``times=False`` skips the trajectories
    (the settling times and the transient part of ``max_concentration``), which cost far
    more than the steady states.
    """
    from nncrn.simulate import integrate, settling_time, steady_state

    x, clipped = network_inputs(network, X)
    ss = steady_state(network, x, throw=False, solver=solver)
    out: dict[str, Any] = {"rows": len(x), "clipped": clipped, "t_max": t_max,
                           "converged": int(ss.converged.sum())}  # fmt: skip
    predicted = np.where(ss.converged, ss.outputs.argmax(1), -1)
    if labels is not None:
        out["accuracy"] = float(np.mean(predicted == np.asarray(labels)))
    if not times:
        out["max_concentration"] = float(np.nanmax(ss.concentrations))
        if reference is not None:
            out["agreement"] = float(np.mean(predicted == np.asarray(reference).argmax(1)))
        return out
    grid = np.concatenate(([0.0], t_max * np.logspace(-_DECADES, 0, _DECADES * _PER_DECADE + 1)))
    traj = integrate(network, x, grid, throw=False, solver=solver)
    out["max_concentration"] = float(max(np.nanmax(traj.concentrations), np.nanmax(ss.concentrations)))
    ok = ss.converged
    for key, band in (("t90", 0.1), ("t99", 0.01)):
        settle = settling_time(network, x, rtol=band, steady=ss, trajectory=traj)[ok]
        out[f"{key}_median"] = float(np.median(settle)) if settle.size else float("nan")
        out[f"{key}_worst"] = float(settle.max()) if settle.size else float("nan")
    if reference is not None:
        out["agreement"] = float(np.mean(predicted == np.asarray(reference).argmax(1)))
    return out


def report_rows(network: ReactionNetwork, chem: dict[str, Any] | None) -> list[tuple[str, str]]:
    """``(quantity, value)`` rows shared by ``info`` and ``compare``."""
    s = summary(network)
    rows = [("species", str(s["species"]))]
    rows += [(f"species ({role})", str(n)) for role, n in s["species_by_role"].items() if n]
    rows.append(("reactions", str(s["reactions"])))
    rows += [(f"reactions of molecularity {k}", str(n)) for k, n in s["by_molecularity"].items()]
    rows.append(("distinct rate constants", str(s["distinct_rates"])))
    if network.n_reactions:
        rows.append(("rate constants min / max", f"{s['rate_min']:.4g} / {s['rate_max']:.4g}"))
        rows.append(("rate dynamic range (max/min)", f"{s['rate_max'] / s['rate_min']:.4g}"))
    if chem is not None:
        rows.append(("rows simulated (converged)", f"{chem['rows']} ({chem['converged']})"))
        if chem["clipped"]:
            rows.append(("feature values clipped to input_range", str(chem["clipped"])))
        where = "" if "t90_median" in chem else " (at steady state)"
        rows.append((f"max concentration reached{where}", f"{chem['max_concentration']:.4g}"))
        def when(t: float) -> str:  # inf: not done by the last sampled time
            return f"{t:.4g}" if np.isfinite(t) else f"> t-max {chem.get('t_max', np.inf):g}"

        for q, band in (("90", "10%"), ("99", "1%")) if "t90_median" in chem else ():
            rows.append((f"time to within {band} of steady state, median / worst",
                         f"{when(chem[f't{q}_median'])} / {when(chem[f't{q}_worst'])}"))  # fmt: skip
        if "accuracy" in chem:
            rows.append(("accuracy (labels)", f"{chem['accuracy']:.4f}"))
        if "agreement" in chem:
            rows.append(("NN agreement (argmax)", f"{chem['agreement']:.4f}"))
    return rows


def solver_rows(network: ReactionNetwork) -> list[tuple[str, str]]:
    """How TorchODE solves ``network`` (its ``steady_path`` and ``linear_algebra``), in words,
    and the conservation laws whose totals its steady states keep."""
    from nncrn.simulate import TorchODE, conservation_laws

    solver = TorchODE()
    steady = {"completion": "reactions fired to completion", "sweep": "level sweep",
              "newton": "Newton (graph has a cycle)"}
    linear = {"triangular": "forward substitution", "dense": "dense LU, O(n^3) per item"}
    laws = conservation_laws(network)
    shown = "" if len(laws) == 0 or len(laws) > 3 else ": " + "; ".join(
        _law_text(network.species_names, row) for row in _echelon(laws)
    )
    return [("TorchODE steady states", steady[solver.steady_path(network)]),
            ("TorchODE linear algebra", linear[solver.linear_algebra(network)]),
            ("conservation laws", f"{len(laws)}{shown}")]  # fmt: skip


def _echelon(rows: np.ndarray) -> np.ndarray:
    """Reduced row echelon form (pivots 1): a readable basis of the same laws."""
    a = rows.copy()
    r = 0
    for c in range(a.shape[1]):
        if r == len(a):
            break
        p = r + int(np.abs(a[r:, c]).argmax())
        if abs(a[p, c]) < 1e-9:
            continue
        a[[r, p]] = a[[p, r]]
        a[r] /= a[r, c]
        others = np.arange(len(a)) != r
        a[others] -= np.outer(a[others, c], a[r])
        r += 1
    a[np.abs(a) < 1e-9] = 0.0
    for row in a:  # integer coefficients where a small multiple gives them (stoichiometry)
        m = next((m for m in range(1, 61) if np.allclose(row * m, np.round(row * m), atol=1e-6)), 1)
        row *= m
    return a


def _law_text(names: Sequence[str], row: np.ndarray) -> str:
    """``A + B - 3 C`` for the row ``(1, 1, -3)``."""
    parts: list[str] = []
    for name, c in zip(names, row, strict=True):
        if c != 0:
            term = name if abs(abs(c) - 1) < 1e-9 else f"{abs(c):.4g} {name}"
            parts.append(("- " if c < 0 else "+ ") + term if parts else ("-" if c < 0 else "") + term)
    return " ".join(parts)


def add_data_arguments(p: Any) -> None:
    p.add_argument("--dataset", help="built-in dataset whose features to simulate (iris, digits, ...)")
    p.add_argument("--inputs", type=Path, help="CSV of features, as for `nncrn simulate`")
    p.add_argument("--limit", type=int, default=200,
                   help="simulate at most this many rows (default 200, evenly spaced)")  # fmt: skip
    p.add_argument("--t-max", type=float, default=1e4,
                   help="longest chemical time for settling times (default 1e4)")  # fmt: skip
    p.add_argument("--solver", choices=tuple(SOLVERS), default="torch",
                   help="ODE solver: torch (batched TorchODE, default) or scipy (ScipyODE, "
                   "often faster for a few rows of a small network)")  # fmt: skip


def make_solver(args: argparse.Namespace) -> Any:
    """The solver object named by ``--solver``."""
    import nncrn.simulate

    return getattr(nncrn.simulate, SOLVERS[args.solver])()


def load_features(args: argparse.Namespace, network: ReactionNetwork) -> np.ndarray | None:
    """Rows from ``--dataset`` or ``--inputs`` (None if neither), at most ``--limit``."""
    if args.dataset and args.inputs:
        raise InputError("give --dataset or --inputs, not both")
    if args.limit < 1:
        raise InputError(f"--limit must be >= 1, got {args.limit}")
    if not np.isfinite(args.t_max) or args.t_max <= 0:
        raise InputError(f"--t-max must be a finite time > 0, got {args.t_max}")
    if args.dataset:
        from nncrn.cli._pipeline import builtin_dataset

        X = builtin_dataset(args.dataset).X
    elif args.inputs:
        from nncrn.cli._io import input_matrix

        X = input_matrix(network, args.inputs)
    else:
        return None
    return X[subsample(len(X), args.limit)]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "info", help="summarise a network file (and its cost on a dataset)",
        description="Print a network's species, reactions, rate constants, conservation laws "
        "and which solver paths it takes; given inputs (a built-in dataset or a CSV), also "
        "its steady states' convergence and settling times, and with --model its agreement "
        "with the neural network.",
    )  # fmt: skip
    p.add_argument("network", type=Path, help="network JSON")
    add_data_arguments(p)
    p.add_argument("--model", type=Path, help="model.json to measure NN agreement against")
    p.add_argument("--json", action="store_true",
                   help="print the report as one JSON object on standard output instead of a table")  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Any) -> int:
    from rich.table import Table

    if args.model is not None and not (args.dataset or args.inputs):
        raise InputError(
            "--model compares the network with the model on data: add --dataset NAME or "
            "--inputs CSV (the rows to simulate)"
        )
    network = ReactionNetwork.load(args.network)
    X = load_features(args, network)
    chem = None
    if X is not None:
        reference = None
        if args.model is not None:
            import torch

            from nncrn.cli._models import check_model_matches, load_model

            model, _ = load_model(args.model)
            check_model_matches(model, network, str(args.model), str(args.network))
            with torch.no_grad():
                reference = model(torch.tensor(model_features(network, X))).numpy()
        chem = chemistry_report(network, X, reference, t_max=args.t_max, solver=make_solver(args))
    s = summary(network)
    if args.json:
        _print_json(network, s, chem)
        return 0
    table = Table(title=f"{args.network.name}: {network.n_species} species, "
                  f"{network.n_reactions} reactions", header_style="bold")  # fmt: skip
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for label, value in report_rows(network, chem):
        table.add_row(label, value)
    for kind, n in s["by_kind"].items():
        table.add_row(f"reactions: {kind}", str(n))
    scheme = _scheme(network)
    if scheme:
        table.add_row("scheme", ", ".join(f"{k}={v}" for k, v in scheme.items()))
    if "source" in network.metadata:
        table.add_row("source", str(network.metadata["source"]))
    for label, value in solver_rows(network):
        table.add_row(label, value)
    table.add_row("outputs", ", ".join(network.outputs[:12]) + (" ..." if len(network.outputs) > 12 else ""))
    console.print(table)
    return 0


def _print_json(network: ReactionNetwork, s: dict[str, Any], chem: dict[str, Any] | None) -> None:
    """The report as one JSON object (finite numbers; ``null`` where a value is inf or NaN)."""
    import json
    import sys

    from nncrn.simulate import TorchODE, conservation_laws

    def finite(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): finite(v) for k, v in value.items()}
        if isinstance(value, float | np.floating):
            return float(value) if np.isfinite(value) else None
        if isinstance(value, np.integer):
            return int(value)
        return value

    solver = TorchODE()
    doc = {
        **s,
        "scheme": _scheme(network) or None,
        "inputs": list(network.inputs),
        "outputs": list(network.outputs),
        "torch_steady_path": solver.steady_path(network),
        "torch_linear_algebra": solver.linear_algebra(network),
        "conservation_laws": len(conservation_laws(network)),
        "chemistry": chem,
    }
    sys.stdout.write(json.dumps(finite(doc), ensure_ascii=True) + "\n")
