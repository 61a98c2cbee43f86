"""Independent float64 NumPy references for the loss and penalty tests: the formulas written
literally, shared by test_losses.py and test_penalties.py."""

import numpy as np

REDUCTIONS = ("mean", "sum", "none", "sum_by_nonzero_weights")
RTOL = 1e-5



def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_log_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def np_align(weights, shape):
    """Weights aligned with the leading (batch) axis, broadcast to ``shape``."""
    w = np.asarray(weights, np.float64)
    if 0 < w.ndim < len(shape):
        w = w.reshape(w.shape + (1,) * (len(shape) - w.ndim))
    return np.broadcast_to(w, shape)


def np_reduce(elementwise, weights, reduction):
    """Per-example mean over the non-batch axes of the weighted losses, then the reduction."""
    elementwise = np.asarray(elementwise, np.float64)
    w = np_align(weights, elementwise.shape)
    weighted = elementwise * w
    batch = elementwise.shape[0]
    if reduction == "sum_by_nonzero_weights":
        return weighted.sum() / np.count_nonzero(w)
    per_example = weighted.reshape(batch, -1).mean(axis=1)
    return {"none": per_example, "sum": per_example.sum(), "mean": per_example.sum() / batch}[
        reduction
    ]
