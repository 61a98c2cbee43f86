"""One D step and one G step of a GAN in float64 NumPy, derived by hand: the tests' reference.

Nothing here calls JAX, Flax or optax: the forward passes, the backward passes (chain rule written
out layer by layer), the losses' derivatives and the optimizers' update rules are all spelled out,
so that the library's steps are compared with an independent computation.

Networks are sequences of layers, each ``(kind, name)``:

* ``("dense", name)``: ``y = x W + b`` with Flax's ``{"kernel": W (in, out), "bias": b}`` (the bias
  may be absent);
* ``("relu", None)``: ``y = max(x, 0)``;
* ``("batchnorm", name)``: Flax's ``BatchNorm`` in training mode over the batch axis,
  ``y = (x - mean) / sqrt(var + eps) * scale + bias`` with the batch's mean and (biased) variance;
  its running statistics ``{"mean", "var"}`` in ``stats["batch_stats"][name]`` become
  ``momentum * old + (1 - momentum) * batch value``.

Parameters, statistics and optimizer states are nested dicts of float64 arrays. A player is a dict
``{"params", "stats", "opt"}``; the steps add ``"grads"``, the gradient of the step that made it.
"""

from __future__ import annotations

import numpy as np

# --------------------------------------------------------------------------------------------------
# Nested dicts
# --------------------------------------------------------------------------------------------------


def tree_map(fn, *trees):
    """``fn`` applied leaf by leaf to nested dicts of the same structure."""
    first = trees[0]
    if isinstance(first, dict):
        return {k: tree_map(fn, *(t[k] for t in trees)) for k in first}
    return fn(*trees)


def tree_add(a, b):
    return tree_map(lambda x, y: x + y, a, b)


# --------------------------------------------------------------------------------------------------
# Elementary functions
# --------------------------------------------------------------------------------------------------


def softplus(x):
    """``log(1 + e^x)``, finite for any ``x``."""
    return np.logaddexp(0.0, x)


def sigmoid(x):
    """``1 / (1 + e^-x)``, the derivative of :func:`softplus`."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


# --------------------------------------------------------------------------------------------------
# Layers: forward keeps what the backward pass needs
# --------------------------------------------------------------------------------------------------


def batchnorm_forward(x, scale, bias, eps):
    """Training-mode batch normalisation over axis 0; returns ``(y, cache, mean, var)``."""
    mean = x.mean(axis=0)
    var = ((x - mean) ** 2).mean(axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return x_hat * scale + bias, (x_hat, inv_std, scale), mean, var


def batchnorm_backward(cache, dy):
    """``(dx, dscale, dbias)`` of :func:`batchnorm_forward`, the batch statistics differentiated.

    With ``x_hat = (x - mean) * inv_std`` and ``g = dy * scale`` (the gradient at ``x_hat``):
    ``dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat))``.
    """
    x_hat, inv_std, scale = cache
    g = dy * scale
    dx = inv_std * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))
    return dx, (dy * x_hat).sum(axis=0), dy.sum(axis=0)


def forward(spec, params, stats, x, *, momentum=0.99, eps=1e-5):
    """The network in training mode: ``(y, caches, new_stats)``."""
    caches = []
    new_stats = tree_map(lambda s: s.copy(), stats)
    for kind, name in spec:
        if kind == "dense":
            caches.append(x)
            p = params[name]
            x = x @ p["kernel"] + (p["bias"] if "bias" in p else 0.0)
        elif kind == "relu":
            caches.append(x > 0)
            x = np.maximum(x, 0.0)
        elif kind == "batchnorm":
            p = params[name]
            x, cache, mean, var = batchnorm_forward(x, p["scale"], p["bias"], eps)
            caches.append(cache)
            running = new_stats["batch_stats"][name]
            running["mean"] = momentum * running["mean"] + (1.0 - momentum) * mean
            running["var"] = momentum * running["var"] + (1.0 - momentum) * var
        else:
            raise ValueError(f"unknown layer {kind!r}")
    return x, caches, new_stats


def backward(spec, params, caches, dy):
    """Reverse pass of :func:`forward`: ``(parameter gradients, input gradient)`` from ``dL/dy``."""
    grads = {}
    for (kind, name), cache in reversed(list(zip(spec, caches))):
        if kind == "dense":
            p = params[name]
            grads[name] = {"kernel": cache.T @ dy}
            if "bias" in p:
                grads[name]["bias"] = dy.sum(axis=0)
            dy = dy @ p["kernel"].T
        elif kind == "relu":
            dy = dy * cache
        elif kind == "batchnorm":
            dy, dscale, dbias = batchnorm_backward(cache, dy)
            grads[name] = {"scale": dscale, "bias": dbias}
    return grads, dy


# --------------------------------------------------------------------------------------------------
# Objectives: losses and their derivatives with respect to the logits
# --------------------------------------------------------------------------------------------------


def prob_real(logits):
    """Mean P(real): ``sigmoid(l_1 - l_0)`` for two logits per example, else ``sigmoid(l)``."""
    if logits.ndim == 2 and logits.shape[1] == 2:
        return float(sigmoid(logits[:, 1] - logits[:, 0]).mean())
    return float(sigmoid(logits).mean())


class Softmax:
    """The lecture's 2-class loss (class 1 = real); each term a mean over its own batch.

    ``L_D = mean softplus(l0 - l1)|real + mean softplus(l1 - l0)|fake``,
    ``L_G = mean softplus(l0 - l1)|fake``.
    """

    @staticmethod
    def _nll(logits, label):
        """``-log softmax(l)_label`` per example and its derivative ``(B, 2)``, before the mean."""
        t = logits[:, 1 - label] - logits[:, label]
        d = np.zeros_like(logits)
        d[:, 1 - label] = sigmoid(t)
        d[:, label] = -sigmoid(t)
        return softplus(t), d

    def d_loss(self, real_logits, fake_logits):
        lr, dr = self._nll(real_logits, 1)
        lf, df = self._nll(fake_logits, 0)
        return lr.mean() + lf.mean(), dr / len(real_logits), df / len(fake_logits)

    def g_loss(self, fake_logits):
        lf, df = self._nll(fake_logits, 1)
        return lf.mean(), df / len(fake_logits)


class NonSaturating:
    """One logit per example: ``L_D = mean softplus(-r) + mean softplus(f)``,
    ``L_G = mean softplus(-f)`` (``-log D(G(z))``)."""

    def d_loss(self, real_logits, fake_logits):
        loss = softplus(-real_logits).mean() + softplus(fake_logits).mean()
        d_real = -sigmoid(-real_logits) / real_logits.size
        return loss, d_real, sigmoid(fake_logits) / fake_logits.size

    def g_loss(self, fake_logits):
        return softplus(-fake_logits).mean(), -sigmoid(-fake_logits) / fake_logits.size


# --------------------------------------------------------------------------------------------------
# Optimizers, from their update formulas
# --------------------------------------------------------------------------------------------------


class Adam:
    """Adam (Kingma & Ba) with bias correction, as optax writes it (``eps`` outside the root):

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``, ``t <- t + 1``,
    ``theta <- theta - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)``.
    """

    def __init__(self, lr, b1=0.9, b2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps

    def init(self, params):
        return {
            "count": 0,
            "mu": tree_map(np.zeros_like, params),
            "nu": tree_map(np.zeros_like, params),
        }

    def update(self, params, grads, state):
        t = state["count"] + 1
        mu = tree_map(lambda m, g: self.b1 * m + (1 - self.b1) * g, state["mu"], grads)
        nu = tree_map(lambda v, g: self.b2 * v + (1 - self.b2) * g * g, state["nu"], grads)
        c1, c2 = 1 - self.b1**t, 1 - self.b2**t

        def step(p, m, v):
            return p - self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)

        return tree_map(step, params, mu, nu), {"count": t, "mu": mu, "nu": nu}

    def update_bound(self, state, grads, grad_error):
        """How far this step's update can move if every gradient so far is off by ``grad_error``.

        ``m_hat`` is an average of the gradients (weights summing to 1) and ``sqrt(v_hat)`` a
        weighted norm of them, so each moves by at most ``e = grad_error``; then
        ``m_hat / (sqrt(v_hat) + eps)`` moves by at most
        ``e (1 + |m_hat| / (sqrt(v_hat) + eps)) / (sqrt(v_hat) + eps)``. Small gradient elements
        (small ``v_hat``) thus carry a larger error: Adam's step is a ratio.
        """
        del grads
        t = state["count"]
        c1, c2 = 1 - self.b1**t, 1 - self.b2**t

        def bound(m, v):
            denom = np.sqrt(v / c2) + self.eps
            return self.lr * grad_error * (1.0 + np.abs(m / c1) / denom) / denom

        return tree_map(bound, state["mu"], state["nu"])


class Sgd:
    """Plain gradient descent: ``theta <- theta - lr * g``."""

    def __init__(self, lr):
        self.lr = lr

    def init(self, params):
        return {}

    def update(self, params, grads, state):
        return tree_map(lambda p, g: p - self.lr * g, params, grads), state

    def update_bound(self, state, grads, grad_error):
        """How far this step's update can move if the gradient is off by ``grad_error``."""
        return tree_map(lambda g: np.full_like(g, self.lr * grad_error), grads)


# --------------------------------------------------------------------------------------------------
# The steps
# --------------------------------------------------------------------------------------------------


class Net:
    """A network's layer spec and its BatchNorm settings."""

    def __init__(self, spec, momentum=0.99, eps=1e-5):
        self.spec, self.momentum, self.eps = tuple(spec), momentum, eps

    def forward(self, params, stats, x):
        return forward(self.spec, params, stats, x, momentum=self.momentum, eps=self.eps)

    def backward(self, params, caches, dy):
        return backward(self.spec, params, caches, dy)


def d_step(g_net, d_net, objective, d_opt, g, d, real, z):
    """One D update with G fixed: returns ``(new d player, metrics)``.

    ``fake = G(z)`` in training mode (G's new statistics are not kept). D is called on ``real`` and
    then on ``fake``, each call normalising with its own batch and updating D's running statistics
    in that order; ``grad = dL/d(theta_D)`` through both calls.
    """
    fake, _, _ = g_net.forward(g["params"], g["stats"], z)
    real_logits, real_caches, stats = d_net.forward(d["params"], d["stats"], real)
    fake_logits, fake_caches, stats = d_net.forward(d["params"], stats, fake)
    loss, d_real, d_fake = objective.d_loss(real_logits, fake_logits)
    grads_real, _ = d_net.backward(d["params"], real_caches, d_real)
    grads_fake, _ = d_net.backward(d["params"], fake_caches, d_fake)
    grads = tree_add(grads_real, grads_fake)
    params, opt = d_opt.update(d["params"], grads, d["opt"])
    metrics = {"d_loss": loss, "d_real": prob_real(real_logits), "d_fake": prob_real(fake_logits)}
    return {"params": params, "stats": stats, "opt": opt, "grads": grads}, metrics


def g_step(g_net, d_net, objective, g_opt, g, d, z):
    """One G update with D fixed: returns ``(new g player, metrics)``.

    ``L = g_loss(D(G(z)))``, both in training mode; the gradient is pulled back through D (its
    parameters constant) into G. G keeps its forward pass's running statistics; D's are not kept.
    """
    fake, g_caches, g_stats = g_net.forward(g["params"], g["stats"], z)
    fake_logits, d_caches, _ = d_net.forward(d["params"], d["stats"], fake)
    loss, d_logits = objective.g_loss(fake_logits)
    _, d_fake = d_net.backward(d["params"], d_caches, d_logits)
    grads, _ = g_net.backward(g["params"], g_caches, d_fake)
    params, opt = g_opt.update(g["params"], grads, g["opt"])
    metrics = {"g_loss": loss, "d_fake_after": prob_real(fake_logits)}
    return {"params": params, "stats": g_stats, "opt": opt, "grads": grads}, metrics


def max_abs(tree):
    """Largest magnitude of any element of any leaf."""
    sizes = []
    tree_map(lambda x: sizes.append(float(np.max(np.abs(x)))), tree)
    return max(sizes)
