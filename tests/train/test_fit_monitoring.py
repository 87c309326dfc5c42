"""Full-batch fit reads each epoch's monitored loss and accuracy off the next step's evaluation.

The explicit ``batch_size=n`` run takes the same steps (one batch of all rows, shuffled:
the mean loss does not depend on the order, up to rounding) but evaluates the monitored
loss and the accuracy in a pass of their own; the two histories must agree.
"""

from __future__ import annotations

import numpy as np

from nncrn.train import fit


def test_deferred_epoch_evaluation_equals_the_explicit_pass(compiled, data):
    _, net = compiled
    X, y = data
    _, shared = fit(net, X, y, epochs=6, lr=0.05, rng=0)
    _, explicit = fit(net, X, y, epochs=6, lr=0.05, batch_size=len(X), rng=0)
    assert shared.monitored is not None and explicit.monitored is not None
    assert len(shared.monitored) == 7 and len(shared.accuracy) == 6
    np.testing.assert_allclose(shared.monitored, explicit.monitored, rtol=1e-10)
    np.testing.assert_array_equal(shared.accuracy, explicit.accuracy)
    np.testing.assert_allclose(shared.loss, explicit.loss, rtol=1e-10)
    assert shared.best_epoch == explicit.best_epoch
    assert abs(shared.final_loss - explicit.final_loss) <= 1e-10 * abs(explicit.final_loss)
    # the monitored loss after epoch k is the loss of epoch k + 1's (only) step
    np.testing.assert_allclose(shared.monitored[1:-1], shared.step_loss[1:], rtol=1e-14)
