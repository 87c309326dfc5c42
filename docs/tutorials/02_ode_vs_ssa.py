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
# # ODE against SSA: accuracy against molecule count
#
# A compiled network's answer is a steady state of its mass-action ODE: a concentration.
# In a real volume there are whole molecules, reactions fire one at a time, and the
# readouts fluctuate. This tutorial simulates the same iris network both ways, then asks
# how many molecules it takes for the stochastic network to classify as well as the ODE.
# The stochastic propensities follow [the kinetics convention](../../concepts/kinetics/):
# as the volume Ω grows, the master equation converges to the ODE.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.model_selection import train_test_split

from nncrn import TauLeaping, compile_network, gillespie, integrate, noise_study, steady_state
from nncrn.data import MinMaxScaling, build_mlp, fold_offset, load_dataset, train_mlp

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
# ## One input, deterministic
#
# `integrate` returns the trajectory of every species at the requested times; the readouts
# (the three logits) settle at the steady state.

# %%
x = X_test[:1]
times = np.linspace(0.0, 40.0, 201)
trajectory = integrate(network, x, times)
steady = steady_state(network, x)
ax = trajectory.plot()
ax.set_title("ODE: readouts of one test input")
plt.show()
print("steady-state logits:", np.round(steady.outputs[0], 4))

# %% [markdown]
# ## The same input, stochastic
#
# `gillespie` runs the exact stochastic simulation algorithm (the next-reaction method by
# default) in a volume Ω: an input concentration *x* becomes
# round(*x* Ω) molecules. Each run's answer is its time average after a
# burn-in. Randomness is explicit: `rng` is a seed or a `numpy.random.Generator`.

# %%
ssa = gillespie(network, x, volume=100, t_end=40.0, runs=4, rng=0)
ax = ssa.plot()
ax.set_title("SSA at volume 100: four runs")
plt.show()
print("time-averaged logits per run:")
print(np.round(ssa.outputs[0], 3))
print("SSA classes:", ssa.outputs[0].argmax(-1), " ODE class:", int(steady.outputs[0].argmax()))

# %% [markdown]
# ## Accuracy against volume
#
# `noise_study` repeats this for many inputs and runs at each volume, and reports how often
# a stochastic run agrees with the deterministic answer and, given labels, its accuracy.
# Small here (20 inputs, 4 runs, tau-leaping) so that the page builds in seconds; the
# command `nncrn noise` runs the same study on a saved network.

# %%
study = noise_study(network, X_test[:20], y_test[:20], volumes=[10, 100, 1000], runs=4,
                    rng=0, solver=TauLeaping())
for v, agree, acc in zip(study.volumes, study.agreement, study.accuracy, strict=True):
    print(f"volume {v:>6g}: agreement {agree:.3f}, accuracy {acc:.3f}")
print(f"deterministic accuracy: {study.deterministic_accuracy:.4f}")
print(f"SSA accuracy at volume {study.volumes[-1]:g}: {study.accuracy[-1]:.4f}")

# %%
ax = study.plot()
ax.set_title("iris 4-8-3: stochastic runs against volume")
plt.show()

# %% [markdown]
# The warning above is the library saying that at volume 10 some inputs round to zero
# molecules, so the stochastic network does not even see them. At volume 10 a neuron holds a handful of molecules and the runs often disagree with the
# ODE; by volume 1000 the fluctuations (of relative size 1/√Ω) are small
# against the gaps between the logits, and the stochastic network classifies like the
# deterministic one.
