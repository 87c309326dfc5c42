"""Stochastic meaning of the SBML export: ``to_sbml(network, stochastic_volume=Omega)``.

For ``0 -> Y`` (k1) + ``2 Y -> Y`` (k2) the stationary distribution of the chemical master
equation is known numerically to any precision (a birth-death chain), so both nncrn's SSA
and libRoadRunner's Gillespie run on the stochastic export are checked against the exact
stationary mean, within a batch-means standard error. The default (deterministic) export
run through the same Gillespie gives the mean of propensity ``k n^2`` instead, which is why
the stochastic export exists. Everything is seeded.
"""

from __future__ import annotations

import numpy as np
import pytest

import nncrn
from nncrn._errors import InputError, UnsupportedModelError
from nncrn.export import from_sbml, to_sbml
from nncrn.network import Reaction, ReactionNetwork, Role, Species
from nncrn.simulate._ssa._model import build_model

libsbml = pytest.importorskip("libsbml")

K1, K2 = 1.0, 1.0
BURN_IN, T_AVG, DT, BATCHES = 100.0, 20_000.0, 0.05, 20
TOL = 1e-3  # truncation and time-grid slack, far below the standard errors (~0.01)


def _birth_death() -> ReactionNetwork:
    return ReactionNetwork(
        (Species("Y", Role.OUTPUT, 1.0),),
        (Reaction({}, {"Y": 1}, K1, "birth"), Reaction({"Y": 2}, {"Y": 1}, K2, "death")),
    )


def _stationary_mean(birth, death, n_max: int = 100) -> float:
    """Mean of the stationary law of the chain n -> n+1 at birth(n), n -> n-1 at death(n).

    Solves pi Q = 0, sum(pi) = 1 on {0..n_max} (the truncated tail is below 1e-20 here).
    """
    n = np.arange(n_max + 1)
    q = np.zeros((n_max + 1, n_max + 1))
    q[n[:-1], n[1:]] = birth(n[:-1])
    q[n[1:], n[:-1]] = death(n[1:])
    q[n, n] = -q.sum(axis=1)
    a = q.T.copy()
    a[-1] = 1.0
    rhs = np.zeros(n_max + 1)
    rhs[-1] = 1.0
    pi = np.linalg.solve(a, rhs)
    assert pi[-5:].sum() < 1e-12
    return float(pi @ n)


def _nncrn_exact(volume: float) -> float:
    """nncrn's propensities: birth k1 Omega, death k2 n (n - 1) / Omega."""
    return _stationary_mean(lambda n: K1 * volume + 0.0 * n, lambda n: K2 * n * (n - 1) / volume)


def _roadrunner_gillespie(text: str, seed: int) -> tuple[float, float]:
    """Time-averaged count of Y after the burn-in and its batch-means standard error."""
    roadrunner = pytest.importorskip("roadrunner")
    rr = roadrunner.RoadRunner(text)
    rr.setIntegrator("gillespie")
    rr.integrator.seed = seed
    rr.integrator.variable_step_size = False
    t_end = BURN_IN + T_AVG
    res = np.asarray(rr.simulate(0.0, t_end, round(t_end / DT) + 1, ["time", "Y"]))
    y = res[res[:, 0] > BURN_IN, 1]
    means = y[: y.size // BATCHES * BATCHES].reshape(BATCHES, -1).mean(axis=1)
    return float(means.mean()), float(means.std(ddof=1) / np.sqrt(BATCHES))


@pytest.mark.parametrize("volume", [1.0, 4.0])
def test_stochastic_export_and_nncrn_ssa_agree_with_the_exact_cme_mean(volume):
    net = _birth_death()
    exact = _nncrn_exact(volume)

    mean_rr, se_rr = _roadrunner_gillespie(to_sbml(net, stochastic_volume=volume), seed=11)
    assert abs(mean_rr - exact) < 4 * se_rr + TOL, (mean_rr, se_rr, exact)

    ssa = nncrn.gillespie(net, volume=volume, t_end=BURN_IN + T_AVG, burn_in=BURN_IN,
                          n_windows=BATCHES, n_times=0, rng=5)  # fmt: skip
    mean_ssa = float(ssa.time_average[0, 0, 0]) * volume  # concentration -> count
    se_ssa = float(ssa.time_average_se[0, 0, 0]) * volume
    assert abs(mean_ssa - exact) < 4 * se_ssa + TOL, (mean_ssa, se_ssa, exact)


def test_default_export_under_gillespie_means_propensity_k_n_squared():
    # Volume 1, concentration = count: libRoadRunner fires 0 -> Y at k1 and 2 Y -> Y at
    # k2 n^2 (it can even empty Y), whereas nncrn's SSA at volume 1 uses k2 n (n - 1).
    net = _birth_death()
    k_n_squared = _stationary_mean(lambda n: K1 + 0.0 * n, lambda n: K2 * n * n)
    ours = _nncrn_exact(1.0)
    assert abs(k_n_squared - ours) > 0.5  # 0.698 vs 1.433

    mean, se = _roadrunner_gillespie(to_sbml(net), seed=11)
    assert abs(mean - k_n_squared) < 4 * se + TOL, (mean, se, k_n_squared)
    assert abs(mean - ours) > 20 * se, (mean, se, ours)


def _catalysed() -> ReactionNetwork:
    return ReactionNetwork(
        (Species("X", Role.INPUT, 0.5), Species("Y", Role.OUTPUT, 1.0),
         Species("Z", Role.AUXILIARY, 0.3)),
        (Reaction({}, {"Y": 1}, 1.0, "birth"), Reaction({"Y": 2}, {"Y": 1}, 0.7, "death"),
         Reaction({"Y": 3, "X": 1}, {"Y": 1, "X": 1}, 0.1 + 0.2),
         Reaction({"X": 1, "Z": 1}, {"X": 1, "Z": 2}, 1 / 3), Reaction({"Z": 1}, {}, 2.5)),
    )  # fmt: skip


@pytest.mark.parametrize("volume", [1.0, 4.0, 7.3])
def test_kinetic_laws_are_nncrn_propensities(volume):
    roadrunner = pytest.importorskip("roadrunner")
    net = _catalysed()
    rr = roadrunner.RoadRunner(to_sbml(net, stochastic_volume=volume))
    model = build_model(net, volume)
    x = round(0.5 * volume)
    for y in range(6):
        for z in (0, 1, 4):
            rr["Y"], rr["Z"] = y, z
            expected = model.propensities(np.array([x, y, z]))
            np.testing.assert_allclose(rr.getReactionRates(), expected, rtol=1e-14, atol=0)


def test_stochastic_document_consistency_and_structure(small_ajd):
    volume = 12.5
    text = to_sbml(small_ajd, stochastic_volume=volume)
    doc = libsbml.readSBMLFromString(text)
    doc.checkConsistency()
    problems = [doc.getError(i) for i in range(doc.getNumErrors())]
    errors = [p.getMessage() for p in problems if p.getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    warnings = [p.getMessage() for p in problems if p.getSeverity() < libsbml.LIBSBML_SEV_ERROR]
    assert errors == []
    assert warnings == []  # the literals in (n - j) carry unit item

    model = doc.getModel()
    assert model.getSubstanceUnits() == "item" and model.getExtentUnits() == "item"
    assert model.getCompartment("cell").getSize() == volume
    for s in small_ajd.species:
        sp = model.getSpecies(s.name)
        assert sp.getHasOnlySubstanceUnits() and sp.isSetInitialAmount()
        assert sp.getInitialAmount() == round(s.initial * volume)
        held = s.role is Role.INPUT
        assert sp.getBoundaryCondition() == held and sp.getConstant() == held
    for i, r in enumerate(small_ajd.reactions):
        assert model.getParameter(f"k_r{i}").getValue() == r.rate
        law = libsbml.formulaToL3String(model.getReaction(f"r{i}").getKineticLaw().getMath())
        assert law.startswith(f"cell * k_r{i}")
    assert "stochasticVolume" in text and "propensity" in model.getNotesString()


def test_default_export_is_unchanged_by_the_option(small_ajd):
    assert to_sbml(small_ajd, stochastic_volume=None) == to_sbml(small_ajd)
    assert "stochasticVolume" not in to_sbml(small_ajd)


def test_from_sbml_refuses_the_stochastic_export():
    text = to_sbml(_birth_death(), stochastic_volume=4.0)
    with pytest.raises(UnsupportedModelError, match=r"stochastic_volume=4\.0.*to_sbml\(network\)"):
        from_sbml(text)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("inf"), float("nan"), "big"])
def test_bad_stochastic_volume_is_refused(bad):
    with pytest.raises(InputError, match="stochastic_volume"):
        to_sbml(_birth_death(), stochastic_volume=bad)
