"""Small result values with known arrays, built directly (no solver run): fast and exact."""

from __future__ import annotations

import numpy as np

from nncrn.simulate import NoiseStudy, SSAResult, SteadyState, Trajectory
from nncrn.train import EarlyReadout, NoiseRobustness

SPECIES = ("X", "H", "Y0", "Y1")
OUTPUTS = ("Y0", "Y1")


def steady(batch: int = 5) -> SteadyState:
    rng = np.random.default_rng(0)
    conc = rng.random((batch, len(SPECIES)))
    return SteadyState(
        species=SPECIES, output_names=OUTPUTS, concentrations=conc, outputs=conc[:, 2:],
        converged=np.arange(batch) != 1, residual=rng.random(batch) * 1e-9,
        time=np.full(batch, 50.0), n_steps=np.full(batch, 30), n_rhs=99, solver="TestSolver()",
    )  # fmt: skip


def trajectory(batch: int = 3, n_times: int = 7) -> Trajectory:
    rng = np.random.default_rng(1)
    conc = rng.random((batch, n_times, len(SPECIES)))
    return Trajectory(
        species=SPECIES, output_names=OUTPUTS, t=np.linspace(0.0, 6.0, n_times),
        concentrations=conc, outputs=conc[..., 2:], converged=np.ones(batch, dtype=bool),
        n_steps=np.full(batch, 12), n_rhs=40, solver="TestSolver()",
    )  # fmt: skip


def ssa(batch: int = 2, runs: int = 3, n_times: int = 5) -> SSAResult:
    rng = np.random.default_rng(2)
    counts = rng.integers(0, 50, (batch, runs, n_times, len(SPECIES))).astype(np.float64)
    avg = rng.random((batch, runs, len(SPECIES)))
    return SSAResult(
        species=SPECIES, output_names=OUTPUTS, volume=10.0, t=np.linspace(0.0, 4.0, n_times),
        counts=counts, burn_in=2.0, n_windows=4, time_average=avg,
        time_average_se=avg / 10, outputs=avg[..., 2:], outputs_se=avg[..., 2:] / 10,
        completed=np.ones((batch, runs), dtype=bool),
        n_events=rng.integers(1, 100, (batch, runs)), n_steps=rng.integers(1, 100, (batch, runs)),
        solver="DirectMethod()",
    )  # fmt: skip


def noise_study(labels: bool = True, readings: int = 1) -> NoiseStudy:
    vols = np.array([10.0, 100.0, 1000.0])
    return NoiseStudy(
        volumes=vols, agreement=np.array([0.5, 0.8, 0.95]), agreement_se=np.full(3, 0.02),
        accuracy=np.array([0.4, 0.7, 0.9]) if labels else None,
        accuracy_se=np.full(3, 0.03) if labels else None,
        item_agreement=np.full((3, 4), 0.5), deterministic_accuracy=0.92 if labels else None,
        mean_events=np.array([10.0, 100.0, 1000.0]), runs=8, t_end=40.0, burn_in=20.0,
        solver="TauLeaping(epsilon=0.03)", readings=readings,
    )  # fmt: skip


def rate_noise(labels: bool = True) -> NoiseRobustness:
    rng = np.random.default_rng(3)
    agree = rng.random((3, 4))
    return NoiseRobustness(np.array([0.1, 0.3, 1.0]), agree, agree / 2 if labels else None,
                           0.9 if labels else None, 4, "layered")  # fmt: skip


def early_readout(labels: bool = True) -> EarlyReadout:
    times = np.geomspace(0.1, 100.0, 4)
    return EarlyReadout(times, np.array([0.1, 0.5, 0.9, 1.0]),
                        np.array([0.1, 0.4, 0.8, 0.9]) if labels else None,
                        0.9 if labels else None)  # fmt: skip
