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
# # Compile an MLP and draw it
#
# This tutorial trains a small multilayer perceptron on scikit-learn's iris table,
# compiles it into a mass-action reaction network with the
# [smoothed-ReLU construction](../../concepts/construction/), draws the network, and checks
# that the network's steady states answer the test inputs exactly as the trained model does.
#
# The pieces are the ones `nncrn demo` runs, from `nncrn.data`.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.model_selection import train_test_split

from nncrn import SmoothReLUScheme, compile_network, fixed_point, steady_state
from nncrn.data import MinMaxScaling, build_mlp, fold_offset, load_dataset, train_mlp
from nncrn.plot import draw_network

torch.set_num_threads(1)  # small models: threads cost more than they give

iris = load_dataset("iris")
X_train, X_test, y_train, y_test = train_test_split(
    iris.X, iris.y, test_size=0.25, random_state=0, stratify=iris.y
)
print(iris.name, X_train.shape, X_test.shape, iris.classes)

# %% [markdown]
# ## Train
#
# The model uses `nncrn.nn.SmoothReLU(eps)` as its activation (`build_mlp`'s default), so
# the chemistry will compute exactly the function trained here, not an approximation of a
# ReLU network. Training runs on min-max scaled features.

# %%
scaling = MinMaxScaling.fit(X_train)
model = build_mlp((4, 8, 3), eps=1e-3, seed=0)
model = train_mlp(model, scaling.transform(X_train), y_train, epochs=60, seed=0)
print(model)

# %% [markdown]
# ## Compile
#
# The scaling's offset goes into the first layer's biases (`fold_offset`) and its
# per-feature factor to the input species (`input_scale`), so the network reads features in
# their own units (centimetres here).

# %%
model = fold_offset(model, scaling.low, scaling.input_scale).eval()
network = compile_network(model, scheme=SmoothReLUScheme(eps=1e-3), input_scale=scaling.input_scale)
print(repr(network))
print("species:", network.n_species, " reactions:", network.n_reactions)

# %% [markdown]
# The printed form is one reaction per line. The first few, with their rate constants:

# %%
for reaction in network.reactions[:6]:
    print(f"{reaction.equation():28s} k = {reaction.rate:.4g}")

# %% [markdown]
# ## Draw
#
# `draw_network` lays a compiled network out by layers: inputs, neurons, readouts; blue
# edges for positive weights, red for negative ones, width and opacity by magnitude.

# %%
fig, ax = plt.subplots(figsize=(7, 4.5))
draw_network(network, ax=ax)
plt.show()

# %% [markdown]
# ## The chemistry answers
#
# `steady_state` solves every test input at once and reports, per input, whether it
# converged. The readouts are the logits, so the predicted class is their argmax.

# %%
ss = steady_state(network, X_test)
with torch.no_grad():
    logits = model(torch.tensor(X_test * scaling.input_scale)).numpy()

print("all converged:", bool(ss.converged.all()))
print(f"max |CRN - NN|: {np.abs(ss.outputs - logits).max():.2e}")
nn_accuracy = float((logits.argmax(1) == y_test).mean())
crn_accuracy = float((ss.outputs.argmax(1) == y_test).mean())
print(f"NN test accuracy: {nn_accuracy:.4f}")
print(f"CRN test accuracy: {crn_accuracy:.4f}")

# %% [markdown]
# The network is feed-forward, so its steady state also has a closed form, computed layer
# by layer (`fixed_point`); it agrees with the solver to rounding:

# %%
closed = fixed_point(network, X_test)
print(f"max |fixed_point - steady_state|: {np.abs(closed.outputs - ss.outputs).max():.2e}")

# %% [markdown]
# `network.save("net.json")` writes it for the command line (`nncrn simulate`,
# `nncrn draw`, `nncrn export`).
