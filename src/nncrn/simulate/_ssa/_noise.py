"""``noise_study``: how a compiled classifier's answer degrades at small volumes."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from nncrn._display import html_table, require_pandas
from nncrn._errors import InputError, NetworkError, NNCRNWarning
from nncrn.network import ReactionNetwork, input_features, require_network, require_readout
from nncrn.simulate._results import report_convergence
from nncrn.simulate._solver import check_setting_int
from nncrn.simulate._ssa._ensemble import check_jobs
from nncrn.simulate._ssa._gillespie import NOT_REACHED, Progress, _gillespie, seed_root
from nncrn.simulate._ssa._model import build_model, check_volume, to_counts
from nncrn.simulate._ssa._relax import relaxation_time
from nncrn.simulate._ssa._solvers import SSASolver, default_solver

if TYPE_CHECKING:
    import pandas
    from matplotlib.axes import Axes

    from nncrn.simulate._results import SteadyState

__all__ = ["NoiseStudy", "noise_study"]

# Default horizon, in relaxation times tau of the steady state (see _relax): the covariance
# of a run started at the steady state reaches exp(-6) = 0.25% of its stationary deficit
# after 3 tau; the window then holds about 5 / 2 independent fluctuations per run.
BURN_IN_TAUS = 3.0
WINDOW_TAUS = 5.0
DEFAULT_VOLUMES = (10.0, 100.0)
DEFAULT_RUNS = 2
DEFAULT_READINGS = 40


@dataclass(frozen=True, eq=False)
class NoiseStudy:
    """Agreement and accuracy of a stochastic classifier versus volume.

    Attributes
    ----------
    volumes:
        ``(n_volumes,)`` the volumes studied.
    agreement, agreement_se:
        ``(n_volumes,)`` fraction of readings (instantaneous readouts of a run, ``readings``
        per run over ``[burn_in, t_end]``) that give the deterministic answer, and its
        standard error: std of the per-input fractions / sqrt(batch); over runs when the
        batch has one input (NaN with one run).
    accuracy, accuracy_se:
        ``(n_volumes,)`` the same against the labels ``y``; None without labels.
    item_agreement:
        ``(n_volumes, batch)`` per-input fraction of readings agreeing with the
        deterministic answer.
    deterministic_accuracy:
        Accuracy of the deterministic answer itself (None without labels).
    mean_events:
        ``(n_volumes,)`` mean reaction firings per run.
    runs, t_end, burn_in, solver:
        Settings of the study (``solver`` names the solver of each volume).
    readings:
        Readings per run (equally spaced sample times in ``[burn_in, t_end]``).
    settled:
        For runs started at the initial state: chemical time by which the deterministic
        chemistry of every input has each readout species within 1% of its steady state
        (:func:`~nncrn.simulate.settling_time`, the largest over the inputs). NaN otherwise.
    relaxation_time:
        For runs started at the steady state: the slowest relaxation time of the chemistry
        linearised there (the largest over the inputs), the unit of the default horizon.
        NaN otherwise.
    from_steady_state:
        Whether runs started at the deterministic steady state.
    """

    volumes: np.ndarray
    agreement: np.ndarray
    agreement_se: np.ndarray
    accuracy: np.ndarray | None
    accuracy_se: np.ndarray | None
    item_agreement: np.ndarray
    deterministic_accuracy: float | None
    mean_events: np.ndarray
    runs: int
    t_end: float
    burn_in: float
    solver: str
    settled: float = float("nan")
    readings: int = 1
    relaxation_time: float = float("nan")
    from_steady_state: bool = False

    def _columns(self) -> list[tuple[str, np.ndarray]]:
        cols = [("agreement", self.agreement), ("agreement_se", self.agreement_se)]
        if self.accuracy is not None and self.accuracy_se is not None:
            cols += [("accuracy", self.accuracy), ("accuracy_se", self.accuracy_se)]
        return [*cols, ("mean_events", self.mean_events)]

    def to_dataframe(self) -> pandas.DataFrame:
        """One row per volume (index ``volume``): ``agreement``, ``agreement_se``, with labels
        ``accuracy`` and ``accuracy_se``, and ``mean_events`` per run.

        The per-input fractions are ``item_agreement``. Needs pandas (``pip install pandas``).
        """
        pd = require_pandas("NoiseStudy.to_dataframe")
        index = pd.Index(self.volumes, name="volume")
        return pd.DataFrame(dict(self._columns()), index=index)

    def plot(self, ax: Axes | None = None) -> Axes:
        """Agreement (and accuracy) against volume; see :func:`nncrn.plot.plot_noise_study`."""
        from nncrn.plot import plot_noise_study

        return plot_noise_study(self, ax)

    def _repr_html_(self) -> str:
        cols = self._columns()
        rows = [[v, *(c[k] for _, c in cols)] for k, v in enumerate(self.volumes)]
        return html_table(repr(self), ["volume", *(n for n, _ in cols)], rows, noun="volumes")

    def __repr__(self) -> str:
        pairs = ", ".join(
            f"{v:g}: {a:.3f}" for v, a in zip(self.volumes, self.agreement, strict=True)
        )
        return f"NoiseStudy(runs={self.runs}, agreement={{{pairs}}}, solver={self.solver})"


def _steady(network: ReactionNetwork, X: np.ndarray) -> SteadyState:
    """Deterministic steady state of every input (closed form when possible)."""
    from nncrn import simulate

    try:
        return simulate.fixed_point(network, X)
    except NetworkError:
        return simulate.steady_state(network, X)


def _settled_time(network: ReactionNetwork, X: object) -> float:
    """Largest finite settling time (1%) over the inputs; inf where none settles."""
    from nncrn._errors import ConvergenceWarning
    from nncrn.simulate._settling import settling_time

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        times = settling_time(network, X, rtol=0.01)
    finite = times[np.isfinite(times)]
    return float(finite.max()) if finite.size else float("inf")


def _fraction_se(per_item: np.ndarray, per_run: np.ndarray) -> float:
    """Standard error of a mean fraction: over inputs, or over runs for a single input."""
    if per_item.size > 1:
        return float(per_item.std(ddof=1) / np.sqrt(per_item.size))
    runs = per_run.reshape(-1)
    return float(runs.std(ddof=1) / np.sqrt(runs.size)) if runs.size > 1 else float("nan")


def _hits(readout: np.ndarray, answer: np.ndarray) -> np.ndarray:
    """``(batch, runs, readings)`` whether ``answer[b]``'s readout is strictly the largest.

    A tie (frequent with a few molecules) names no class, so it agrees with no answer; a
    reading of a run that stopped early is NaN and agrees with none either.
    """
    mine = np.take_along_axis(readout, answer[:, None, None, None], axis=-1)[..., 0]
    others = readout.copy()
    np.put_along_axis(others, answer[:, None, None, None], -np.inf, axis=-1)
    return mine > others.max(axis=-1)


def _horizon(network, Xa, steady, from_steady_state, t_end, burn_in):
    """(t_end, burn_in, settled, tau) of the study; warns when the window starts early."""
    settled, tau = float("nan"), float("nan")
    if from_steady_state:
        taus = relaxation_time(network, steady.concentrations)
        tau = float(taus[np.isfinite(taus)].max()) if np.isfinite(taus).any() else 0.0
        if t_end is None:
            if tau == 0:
                raise InputError(
                    "noise_study: no species relaxes (nothing changes at the steady state), "
                    "so there is no default horizon; pass t_end (and burn_in)"
                )
            burn_in = BURN_IN_TAUS * tau if burn_in is None else burn_in
            return burn_in + WINDOW_TAUS * tau, burn_in, settled, tau
        start = t_end / 2 if burn_in is None else burn_in
        if start < tau:
            warnings.warn(
                f"noise_study: the answers are read from t = {start:g} on, within one "
                f"relaxation time ({tau:.4g}) of the steady-state start: the fluctuations have "
                f"not reached their stationary size yet. Use burn_in >= {BURN_IN_TAUS * tau:.4g}"
                ", or leave t_end out (the default waits for it)",
                NNCRNWarning, stacklevel=3,
            )  # fmt: skip
        return t_end, burn_in, settled, tau
    settled = _settled_time(network, Xa)
    if t_end is None:
        if not np.isfinite(settled):
            raise InputError(
                "noise_study: no input's deterministic chemistry settles (no steady state "
                "within 1%), so there is no default horizon; pass t_end (and burn_in)"
            )
        return 2.0 * max(settled, 1e-9), burn_in, settled, tau
    start = t_end / 2 if burn_in is None else burn_in
    if np.isfinite(settled) and start < settled:
        warnings.warn(
            f"noise_study: the answers are read from t = {start:g} on, but the "
            f"deterministic chemistry of these inputs settles (every readout within 1% "
            f"of its steady state) only by t = {settled:.4g}: disagreement then measures "
            f"unfinished chemistry as well as noise. Use t_end >= {2 * settled:.4g} with "
            "the default burn_in, or leave t_end out (the default waits for it)",
            NNCRNWarning, stacklevel=3,
        )  # fmt: skip
    return t_end, burn_in, settled, tau


def _check_labels(y: object, batch: int, outputs: tuple[str, ...]) -> np.ndarray:
    n_out = len(outputs)
    labels = np.asarray(y)
    if labels.shape != (batch,) or not np.issubdtype(labels.dtype, np.integer):
        raise InputError(
            f"y must be integer class indices of shape ({batch},) (readout order "
            f"{list(outputs)}); got dtype {labels.dtype} and shape {labels.shape}"
        )
    bad = (labels < 0) | (labels >= n_out)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"y[{i}] = {int(labels[i])} is not a class index of this network: labels must "
            f"be in [0, {n_out}), one per readout {list(outputs)} "
            f"({int(bad.sum())} labels outside in all); map the labels to 0..{n_out - 1}"
        )
    return labels


def noise_study(
    network: ReactionNetwork,
    X: object,
    y: object = None,
    *,
    volumes: Sequence[float] = DEFAULT_VOLUMES,
    runs: int = DEFAULT_RUNS,
    rng: np.random.Generator | int | None = None,
    client: object = None,
    n_jobs: int | None = None,
    progress: Progress | None = None,
    t_end: float | None = None,
    burn_in: float | None = None,
    solver: SSASolver | None = None,
    reference: object = None,
    from_steady_state: bool = True,
    readings: int = DEFAULT_READINGS,
) -> NoiseStudy:
    """How often a stochastic classifier gives its deterministic answer, per volume.

    Each input is simulated ``runs`` times per volume; each run is read ``readings`` times,
    equally spaced over ``[burn_in, t_end]``. A reading's answer is the class whose
    instantaneous readout (counts / volume) is strictly the largest; ``agreement`` is the
    fraction of readings whose answer is the deterministic one (the argmax of
    ``reference``, by default the closed-form steady state of
    :func:`~nncrn.simulate.fixed_point`, or :func:`~nncrn.simulate.steady_state` for
    networks it cannot solve). Instantaneous readings sample the stationary distribution,
    so the agreement does not depend on the horizon once the runs are stationary (a time
    average would instead grow more certain the longer it runs).

    Start and horizon. By default (``from_steady_state=True``) every run starts at its
    deterministic steady state (rounded to counts): the mean needs no time to settle, only
    the fluctuations must grow to their stationary size, which takes a few relaxation
    times ``tau`` of the chemistry linearised there (the slowest mode, the largest over the
    inputs; in the linear noise approximation the covariance relaxes as ``exp(-2 t / tau)``).
    The default ``burn_in`` is ``3 tau`` and ``t_end`` is ``burn_in + 5 tau``. For the iris
    demo network (``nncrn demo``) tau = 15.8, a horizon of 126 against the 223 of twice
    its settling time from the initial state. With ``from_steady_state=False`` runs start
    at the species' initial values; the default ``t_end`` is then twice the settling time
    ``T`` of the deterministic chemistry (every readout within 1%, from
    :func:`~nncrn.simulate.settling_time`) and ``burn_in`` is ``T``. A window that starts
    earlier than that (or within one ``tau`` of a steady-state start) warns.

    Defaults. Volumes 10 and 100: from a few molecules per species, where answers start to
    fail, to about a hundred, where compiled classifiers mostly agree; 2 runs per input
    and volume, 40 readings each: the agreement averages over inputs, and its standard
    error, from the spread of the per-input fractions, includes the sampling noise of
    the runs. On the iris demo network (38 inputs) these defaults cost 76 s of CPU time
    and gave agreement 0.84 +- 0.05 at volume 10, 0.96 +- 0.02 at 100. The solver is
    chosen per volume: :class:`TauLeaping` when a leap at the steady-state counts would cover at
    least 10 events and more than its cost in exact events (``n_reactions`` / the mean
    number of dependent reactions), :class:`NextReactionMethod` (exact) otherwise.

    Parameters
    ----------
    X, y:
        ``(batch, n_inputs)`` features or a mapping from input species name to a
        ``(batch,)`` array, as for :func:`~nncrn.simulate.steady_state`; optional integer
        labels in ``[0, n_outputs)`` (readout order).
    volumes, runs, readings:
        Volumes (processed in order), runs per input and volume, readings per run.
    rng, client, n_jobs:
        Seed; optional ``dask.distributed.Client``; local threads (default None: every
        local core; results do not depend on it).
    progress:
        ``progress(done, total)`` after each block of runs, in units of expected reaction
        events (propensity sum at the steady state x ``t_end`` per run), so that the time
        left can be estimated from the fraction done: a run at volume 100 costs about ten
        times one at volume 10.
    t_end, burn_in, from_steady_state:
        Horizon and start, see above (``burn_in`` defaults to ``t_end / 2`` when only
        ``t_end`` is given).
    solver:
        One solver for every volume instead of the default choice.
    reference:
        ``(batch, n_outputs)`` deterministic outputs, if already computed.
    """
    network = require_network(network, "noise_study")
    require_readout(network, "noise_study", needs="answers (the argmax of the readout) to compare")
    n_out = len(network.outputs)
    vols = [check_volume(v) for v in np.atleast_1d(np.asarray(volumes, dtype=object))]
    if not vols:
        raise InputError("volumes is empty; pass at least one volume, e.g. [10, 100, 1000]")
    runs = check_setting_int("noise_study", "runs", runs)
    readings = check_setting_int("noise_study", "readings", readings, hint=" (readings per run)")
    jobs = 1 if client is not None else check_jobs("noise_study", n_jobs)
    Xa = input_features(network, X)  # an array, or a mapping by input species name
    batch = Xa.shape[0]
    steady = _steady(network, Xa)
    ref = steady.outputs if reference is None else np.asarray(reference)
    if ref.shape != (batch, n_out):
        raise InputError(f"reference has shape {ref.shape}; expected ({batch}, {n_out})")
    det = np.argmax(ref, axis=1)
    labels = None if y is None else _check_labels(y, batch, network.outputs)
    t_end, burn_in, settled, tau = _horizon(network, Xa, steady, from_steady_state, t_end,
                                            burn_in)  # fmt: skip
    burn = t_end / 2 if burn_in is None else float(burn_in)
    if not 0 <= burn < t_end:
        raise InputError(
            f"noise_study: burn_in must be in [0, t_end) = [0, {t_end:g}); got {burn:g}"
        )
    # sample times linspace(0, t_end, n_times): about `readings` of them fall after burn_in
    n_times = math.ceil(readings * t_end / (t_end - burn)) + 1
    solvers, costs = [], []
    for vol in vols:
        start = to_counts(steady.concentrations, vol, "steady-state concentration")
        model = build_model(network, vol)
        a0 = model.propensities(start).sum(axis=-1)
        costs.append(np.maximum(1, np.rint(np.nan_to_num(a0 * t_end, posinf=1e15))))
        solvers.append(default_solver(model, start) if solver is None else solver)
    total = int(sum(c.sum() for c in costs)) * runs
    streams = seed_root(rng).spawn(len(vols))
    agree, agree_se, acc, acc_se, items, events = [], [], [], [], [], []
    offset = 0
    for vol, stream, cost, sol in zip(vols, streams, costs, solvers, strict=True):

        def step(done: int, _: int, offset: int = offset) -> None:
            if progress is not None:
                progress(offset + done, total)

        res, problems = _gillespie(
            network, Xa, cost, volume=vol, t_end=t_end, solver=sol, runs=runs, rng=stream,
            client=client, n_jobs=jobs, y0=steady.concentrations if from_steady_state else None,
            n_times=n_times, burn_in=burn, progress=step,
        )  # fmt: skip
        report_convergence(res.completed.ravel(), throw=True, what=NOT_REACHED, fix=problems)
        offset += int(cost.sum()) * runs
        window = res.t > burn
        readout = network.read_outputs(res.counts[:, :, window] / vol)
        per_run = _hits(readout, det).mean(axis=2)
        items.append(per_run.mean(axis=1))
        agree.append(items[-1].mean())
        agree_se.append(_fraction_se(items[-1], per_run))
        events.append(res.n_events.mean())
        if labels is not None:
            right = _hits(readout, labels).mean(axis=2)
            acc.append(right.mean())
            acc_se.append(_fraction_se(right.mean(axis=1), right))
    names = sorted({repr(s) for s in solvers}, key=[repr(s) for s in solvers].index)
    return NoiseStudy(
        volumes=np.array(vols),
        agreement=np.array(agree),
        agreement_se=np.array(agree_se),
        accuracy=None if labels is None else np.array(acc),
        accuracy_se=None if labels is None else np.array(acc_se),
        item_agreement=np.array(items),
        deterministic_accuracy=None if labels is None else float(np.mean(det == labels)),
        mean_events=np.array(events),
        runs=runs,
        t_end=float(t_end),
        burn_in=burn,
        solver=", ".join(names),
        settled=settled,
        readings=int(window.sum()),
        relaxation_time=tau,
        from_steady_state=bool(from_steady_state),
    )
