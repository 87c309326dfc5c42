"""``noise_study``: how a compiled classifier's answer degrades at small volumes."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from nncrn._display import html_table, require_pandas
from nncrn._errors import InputError, NetworkError, NNCRNWarning
from nncrn.network import ReactionNetwork, input_features, require_network, require_readout
from nncrn.simulate._ssa._gillespie import Progress, gillespie, seed_root
from nncrn.simulate._ssa._model import check_volume
from nncrn.simulate._ssa._solvers import SSASolver, TauLeaping

if TYPE_CHECKING:
    import pandas
    from matplotlib.axes import Axes

__all__ = ["NoiseStudy", "deterministic_outputs", "noise_study"]


@dataclass(frozen=True, eq=False)
class NoiseStudy:
    """Agreement and accuracy of a stochastic classifier versus volume.

    Attributes
    ----------
    volumes:
        ``(n_volumes,)`` the volumes studied.
    agreement, agreement_se:
        ``(n_volumes,)`` fraction of (input, run) pairs whose stochastic answer equals the
        deterministic one, and its standard error (over inputs: std of the per-input
        fractions / sqrt(batch); binomial over runs when the batch has one input).
    accuracy, accuracy_se:
        ``(n_volumes,)`` the same against the labels ``y``; None without labels.
    item_agreement:
        ``(n_volumes, batch)`` per-input fraction of runs agreeing with the deterministic answer.
    deterministic_accuracy:
        Accuracy of the deterministic answer itself (None without labels).
    mean_events:
        ``(n_volumes,)`` mean reaction firings per run.
    runs, t_end, burn_in, solver:
        Settings of the study.
    settled:
        Chemical time by which the deterministic chemistry of every input has each readout
        species within 1% of its steady state (:func:`~nncrn.simulate.settling_time`, the
        largest over the inputs); the default horizon is twice this.
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


def deterministic_outputs(network: ReactionNetwork, X: np.ndarray) -> np.ndarray:
    """``(batch, n_outputs)`` deterministic steady-state outputs (closed form when possible)."""
    from nncrn import simulate

    try:
        return simulate.fixed_point(network, X).outputs
    except NetworkError:
        return simulate.steady_state(network, X).outputs


def _settled_time(network: ReactionNetwork, X: object) -> float:
    """Largest finite settling time (1%) over the inputs; inf where none settles."""
    import warnings as _warnings

    from nncrn._errors import ConvergenceWarning
    from nncrn.simulate._settling import settling_time

    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore", ConvergenceWarning)
        times = settling_time(network, X, rtol=0.01)
    finite = times[np.isfinite(times)]
    return float(finite.max()) if finite.size else float("inf")


def _fraction_se(per_item: np.ndarray, runs: int) -> float:
    if per_item.size > 1:
        return float(per_item.std(ddof=1) / np.sqrt(per_item.size))
    p = float(per_item.mean())
    return float(np.sqrt(p * (1 - p) / runs))


def noise_study(
    network: ReactionNetwork,
    X: object,
    y: object = None,
    *,
    volumes: Sequence[float],
    runs: int,
    rng: np.random.Generator | int | None = None,
    client: object = None,
    progress: Progress | None = None,
    t_end: float | None = None,
    burn_in: float | None = None,
    solver: SSASolver | None = None,
    reference: object = None,
) -> NoiseStudy:
    """Run ``runs`` stochastic simulations per input and volume; compare answers.

    The answer of a run is the argmax of its time-averaged readout after ``burn_in``
    (default ``t_end / 2``). The deterministic answer is the argmax of ``reference``
    (``(batch, n_outputs)``), by default the closed-form steady state
    (:func:`~nncrn.simulate.fixed_point`, or :func:`~nncrn.simulate.steady_state` for
    networks it cannot solve).

    The horizon waits for the chemistry: answers read before the deterministic network
    has settled measure unfinished chemistry, not noise (the iris demo network settles by
    t = 111; with a horizon of 40 its agreement at volume 100 read 0.86, over ``[111, 223]``
    0.97). By default ``t_end`` is twice the settling time ``T`` of the inputs
    (every readout species within 1% of its steady state, the largest over the inputs, from
    :func:`~nncrn.simulate.settling_time`), so the readout window ``[T, 2T]`` starts once
    every input has settled. A ``t_end`` or ``burn_in`` that starts the window earlier
    gets an :class:`~nncrn.NNCRNWarning` saying so. The default solver is
    :class:`TauLeaping`: at large volumes exact methods cost ~volume events per unit time,
    while leaping costs ~1/epsilon leaps, and it falls back to exact steps at small counts.

    ``X`` is ``(batch, n_inputs)`` features or a mapping from input species name to a
    ``(batch,)`` array, as for :func:`~nncrn.simulate.steady_state`; ``y`` optional integer
    labels in ``[0, n_outputs)`` (readout order). ``volumes`` are processed in order;
    ``progress(done_runs, total_runs)`` counts over all.
    """
    network = require_network(network, "noise_study")
    require_readout(network, "noise_study", needs="answers (the argmax of the readout) to compare")
    n_out = len(network.outputs)
    vols = [check_volume(v) for v in np.atleast_1d(np.asarray(volumes, dtype=object))]
    if not vols:
        raise InputError("volumes is empty; pass at least one volume, e.g. [10, 100, 1000]")
    Xa = input_features(network, X)  # an array, or a mapping by input species name
    batch = Xa.shape[0]
    ref = deterministic_outputs(network, Xa) if reference is None else np.asarray(reference)
    if ref.shape != (batch, n_out):
        raise InputError(f"reference has shape {ref.shape}; expected ({batch}, {n_out})")
    det = np.argmax(ref, axis=1)
    labels = None
    if y is not None:
        labels = np.asarray(y)
        if labels.shape != (batch,) or not np.issubdtype(labels.dtype, np.integer):
            raise InputError(
                f"y must be integer class indices of shape ({batch},) (readout order "
                f"{list(network.outputs)}); got dtype {labels.dtype} and shape {labels.shape}"
            )
        bad = (labels < 0) | (labels >= n_out)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"y[{i}] = {int(labels[i])} is not a class index of this network: labels must "
                f"be in [0, {n_out}), one per readout {list(network.outputs)} "
                f"({int(bad.sum())} labels outside in all); map the labels to 0..{n_out - 1}"
            )
    settled = _settled_time(network, Xa)
    if t_end is None:
        if not np.isfinite(settled):
            raise InputError(
                "noise_study: no input's deterministic chemistry settles (no steady state "
                "within 1%), so there is no default horizon; pass t_end (and burn_in)"
            )
        t_end = 2.0 * max(settled, 1e-9)
    else:
        start = t_end / 2 if burn_in is None else burn_in
        if np.isfinite(settled) and start < settled:
            warnings.warn(
                f"noise_study: the answers are read from t = {start:g} on, but the "
                f"deterministic chemistry of these inputs settles (every readout within 1% "
                f"of its steady state) only by t = {settled:.4g}: disagreement then measures "
                f"unfinished chemistry as well as noise. Use t_end >= {2 * settled:.4g} with "
                "the default burn_in, or leave t_end out (the default waits for it)",
                NNCRNWarning, stacklevel=2,
            )  # fmt: skip
    solver = TauLeaping() if solver is None else solver
    streams = seed_root(rng).spawn(len(vols))
    total = len(vols) * batch * runs
    agree, agree_se, acc, acc_se, items, events = [], [], [], [], [], []
    for k, (vol, stream) in enumerate(zip(vols, streams, strict=True)):
        offset = k * batch * runs

        def step(done: int, _: int, offset: int = offset) -> None:
            if progress is not None:
                progress(offset + done, total)

        res = gillespie(
            network, Xa, volume=vol, t_end=t_end, solver=solver, runs=runs, rng=stream,
            client=client, n_times=0, burn_in=burn_in, progress=step,
        )  # fmt: skip
        per_item = res.agreement(det)
        items.append(per_item)
        agree.append(per_item.mean())
        agree_se.append(_fraction_se(per_item, runs))
        events.append(res.n_events.mean())
        if labels is not None:
            correct = res.agreement(labels)
            acc.append(correct.mean())
            acc_se.append(_fraction_se(correct, runs))
        burn = res.burn_in
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
        solver=repr(solver),
        settled=settled,
    )
