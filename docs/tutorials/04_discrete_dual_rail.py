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
# # Discretize, train for the levels, compile dual-rail
#
# A [dual-rail](../../concepts/dual-rail/) network computes by stoichiometry: every reaction
# runs to completion and the answer does not depend on the rate constants. The price is
# that weights must be integers (one unit per layer). This tutorial trains a float MLP on
# scikit-learn's wine table, [discretizes](../../concepts/discretization/) it to ternary
# weights, once after training and once with quantization-aware training (QAT), compiles
# the QAT model with `DualRail`, and compares the accuracies.

# %%
import numpy as np
import torch
from sklearn.model_selection import train_test_split

from nncrn import DualRail, compile_network, steady_state
from nncrn.data import (
    Discretization,
    MinMaxScaling,
    build_mlp,
    discretize_mlp,
    fold_offset,
    load_dataset,
    train_mlp,
)

torch.set_num_threads(1)

wine = load_dataset("wine")
X_train, X_test, y_train, y_test = train_test_split(
    wine.X, wine.y, test_size=0.25, random_state=0, stratify=wine.y
)
scaling = MinMaxScaling.fit(X_train)
S_train, S_test = scaling.transform(X_train), scaling.transform(X_test)
print(wine.name, X_train.shape, "classes:", wine.classes)


def accuracy(model, S, y):
    with torch.no_grad():
        return float((model(torch.tensor(S)).numpy().argmax(1) == y).mean())


# %% [markdown]
# ## The float network
#
# Dual-rail computes an exact ReLU, so the model uses plain `ReLU` activations.

# %%
float_model = train_mlp(build_mlp((13, 8, 3), activation="relu", seed=0), S_train, y_train,
                        epochs=60, seed=0)
print(f"float test accuracy: {accuracy(float_model, S_test, y_test):.4f}")

# %% [markdown]
# ## Ternary weights: rounded, or trained for
#
# `Discretization("ternary")` snaps each layer's weights to α·{-1, 0, 1}.
# Rounding a trained model once is cheap; with `qat=True` the weights are trained for
# their levels (straight-through estimator). Biases stay real.

# %%
rounded = discretize_mlp(float_model, S_train, y_train, Discretization("ternary"))
qat = discretize_mlp(float_model, S_train, y_train,
                     Discretization("ternary", qat=True, qat_epochs=150), seed=0)
print(f"ternary, rounded after training: {accuracy(rounded, S_test, y_test):.4f}")
print(f"ternary, QAT:                    {accuracy(qat, S_test, y_test):.4f}")
levels = sorted({round(abs(float(w)), 6) for w in qat[0].weight.detach().numpy().ravel()})
print("first layer's weight magnitudes after QAT:", levels)

# %% [markdown]
# ## Compile dual-rail
#
# `DualRail(rescale=True)` divides each layer by its unit α (ReLU is positively
# homogeneous), so every weight becomes a stoichiometric coefficient in {-1, 0, 1};
# the product of the units is stored as `output_scale`. As in the command line, the
# min-max scaling stays out of the weights: `fold_offset` moves its offset into the biases
# and its factors become the input species' `input_scale`, so the network reads features
# in their own units.

# %%
model = fold_offset(qat, scaling.low, scaling.input_scale).eval()
network = compile_network(model, scheme=DualRail(rescale=True), input_scale=scaling.input_scale)
rates = network.stoichiometry.rates
print(repr(network))
print("distinct rate constants:", len(np.unique(rates)),
      " output_scale:", network.metadata["output_scale"])
for reaction in network.reactions[:5]:
    print("  ", reaction.equation())

# %%
ss = steady_state(network, X_test)
crn_prediction = ss.outputs.argmax(1)
print("all converged:", bool(ss.converged.all()))
print(f"dual-rail CRN test accuracy: {(crn_prediction == y_test).mean():.4f}")
with torch.no_grad():
    nn_prediction = model(torch.tensor(X_test * scaling.input_scale)).numpy().argmax(1)
print(f"agreement with the ternary network: {(crn_prediction == nn_prediction).mean():.4f}")

# %% [markdown]
# ## The rates do not matter
#
# Give every reaction a random rate constant spread over three decades: the completion
# state, and so every answer, stays the same. Only how long it takes changes.

# %%
rng = np.random.default_rng(0)
shuffled = network.with_rates(10.0 ** rng.uniform(-1.5, 1.5, size=network.n_reactions))
ss_random = steady_state(shuffled, X_test)
print(f"max |outputs(random rates) - outputs(unit rates)|: "
      f"{np.abs(ss_random.outputs - ss.outputs).max():.2e}")
print("same classes:", bool((ss_random.outputs.argmax(1) == crn_prediction).all()))

# %% [markdown]
# The command line runs the same pipeline:
# `nncrn demo --dataset wine --hidden 8 --scheme dual-rail --discretize ternary --qat`.
