# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # SBML, libRoadRunner and CRN text
#
# `nncrn.export` writes a network in the formats other tools read, as pure functions that
# return text: SBML Level 3 for simulators (libRoadRunner, COPASI, Tellurium), Antimony for
# people, and plain CRN text, one reaction per line, for strand-displacement compilers.
# This tutorial compiles an iris classifier, exports it to SBML, simulates the SBML in
# libRoadRunner, an independent simulator, and compares the answers with nncrn's own.
# It needs the `interop` and `test-interop` extras (both in `dev` and `docs`).

# %%
import numpy as np
import roadrunner
import torch
from sklearn.model_selection import train_test_split

from nncrn import compile_network, steady_state
from nncrn.data import MinMaxScaling, build_mlp, fold_offset, load_dataset, train_mlp
from nncrn.export import from_sbml, to_antimony, to_crn_text, to_sbml
from nncrn.network import input_concentrations

torch.set_num_threads(1)

iris = load_dataset("iris")
X_train, X_test, y_train, y_test = train_test_split(
    iris.X, iris.y, test_size=0.25, random_state=0, stratify=iris.y
)
scaling = MinMaxScaling.fit(X_train)
model = train_mlp(build_mlp((4, 8, 3), eps=1e-3, seed=0), scaling.transform(X_train), y_train,
                  epochs=60, seed=0)
model = fold_offset(model, scaling.low, scaling.input_scale).eval()
network = compile_network(model, input_scale=scaling.input_scale)
print(repr(network))

# %% [markdown]
# ## SBML
#
# `to_sbml` returns the document as a string. Input species that only catalyse are
# constant boundary species; every rate constant is a named parameter `k_r{i}`; the
# kinetic laws are nncrn's mass action without factorials (`k * Y * Y` for `2 Y -> Y`).
# `from_sbml` reads it back into an equal network.

# %%
sbml = to_sbml(network)
print(sbml.count("<reaction "), "reactions,", len(sbml), "characters")
print("\n".join(sbml.splitlines()[:12]))
back = from_sbml(sbml)
same = all(a.rate == b.rate and a.equation() == b.equation()
           for a, b in zip(network.reactions, back.reactions, strict=True))
print("round trip keeps every reaction and rate:", same)

# %% [markdown]
# ## Re-simulate in libRoadRunner
#
# An input enters the SBML model as its species' concentration. The features are in
# centimetres, and the network reads `(feature - low) * input_scale`: `input_concentrations`
# gives exactly those concentrations. libRoadRunner integrates the model with CVODE to a
# time by which every neuron has settled (each converges at rate at least
# 2√ε ≈ 0.063, so *t* = 600 leaves e⁻³⁸). The
# readouts are differences `Y{i}p - Y{i}n`.

# %%
rr = roadrunner.RoadRunner(sbml)
rr.integrator.relative_tolerance = 1e-10
rr.integrator.absolute_tolerance = 1e-12
concentrations = input_concentrations(network, X_test)
readouts = [(r.plus, r.minus) for r in network.readout]


def roadrunner_outputs(row):
    rr.reset()  # back to the initial state; then this input's concentrations
    for name, value in zip(network.inputs, row, strict=True):
        rr[f"[{name}]"] = float(value)
    rr.simulate(0, 600, 2)
    return [rr[f"[{p}]"] - (rr[f"[{m}]"] if m else 0.0) for p, m in readouts]


theirs = np.array([roadrunner_outputs(row) for row in concentrations])
ours = steady_state(network, X_test).outputs
print(f"max |libRoadRunner - nncrn| over {len(X_test)} test inputs: {np.abs(theirs - ours).max():.2e}")
print("same classes:", bool((theirs.argmax(1) == ours.argmax(1)).all()))
print(f"libRoadRunner test accuracy: {(theirs.argmax(1) == y_test).mean():.4f}")

# %% [markdown]
# libRoadRunner's `steadyState()` polishes the state with Newton's method. Call it after
# `simulate`, from a state already near the answer: started from the initial state, the
# Newton solve can land on another root of the polynomial equations (a negative one is a
# root too, just not a reachable one).

# %%
roadrunner_outputs(concentrations[0])
rr.steadyState()
polished = [rr[f"[{p}]"] - (rr[f"[{m}]"] if m else 0.0) for p, m in readouts]
print(f"after steadyState(): max |libRoadRunner - nncrn| = {np.abs(np.array(polished) - ours[0]).max():.2e}")

# %% [markdown]
# For stochastic simulation elsewhere, `to_sbml(network, stochastic_volume=100)` writes
# molecule counts with kinetic laws equal to nncrn's SSA propensities, so libRoadRunner's
# Gillespie simulator samples the same master equation as `nncrn.gillespie`.
#
# ## Antimony and CRN text
#
# Antimony is the human-readable form of the same model; nncrn's roles, readout and
# metadata travel as `//@nncrn` pragma comments.

# %%
print("\n".join(to_antimony(network).splitlines()[:14]))

# %% [markdown]
# CRN text is one reaction per line with its rate constant, the input of DNA
# strand-displacement compilers and of most CRN tools; nncrn's own information travels in
# `#@nncrn` pragma lines, which other tools read as comments.

# %%
text = to_crn_text(network)
reaction_lines = [line for line in text.splitlines() if "->" in line and not line.startswith("#")]
print(len(reaction_lines), "reaction lines; the first eight:")
print("\n".join(reaction_lines[:8]))
