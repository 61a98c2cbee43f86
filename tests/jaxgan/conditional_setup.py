"""A tiny class-conditional GAN for the core's tests, as pure functions (compiles in moments).

G: ``x = [z, onehot(y)] W`` (2-D samples), returned as ``(x, y)``. D, a projection discriminator:
``phi = tanh(x V)``, ``logit = phi . psi + phi . E[y]``. :func:`np_logits` is D in float64 NumPy.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax

import jaxgan

NUM_CLASSES = 3
LATENT = 2
HIDDEN = 5


def _g_init(key, noise):
    del noise
    return {"w": 0.5 * jax.random.normal(key, (LATENT + NUM_CLASSES, 2))}, {}


def _g_apply(params, stats, noise, train=True):
    z, y = noise
    x = jnp.concatenate([z, jax.nn.one_hot(y, NUM_CLASSES)], axis=-1) @ params["w"]
    return (x, y), stats


def _d_init(key, sample):
    del sample
    kv, kp, ke = jax.random.split(key, 3)
    return {"v": jax.random.normal(kv, (2, HIDDEN)), "psi": jax.random.normal(kp, (HIDDEN,)),
            "embed": jax.random.normal(ke, (NUM_CLASSES, HIDDEN))}, {}


def _d_apply(params, stats, sample, train=True):
    x, y = sample
    phi = jnp.tanh(x @ params["v"])
    return phi @ params["psi"] + jnp.sum(phi * params["embed"][y], axis=-1), stats


GENERATOR = jaxgan.Network(_g_init, _g_apply)
PROJECTION_D = jaxgan.Network(_d_init, _d_apply)
CLASS_PROBS = (0.5, 0.3, 0.2)


def make_gan(optimizer=None, **kw):
    optimizer = optimizer or optax.adam(0.01)
    kw.setdefault("objective", "nonsaturating")
    return jaxgan.GAN(GENERATOR, PROJECTION_D, optimizer, optimizer, LATENT, class_probs=CLASS_PROBS, **kw)


def make_data(n=48, seed=1):
    """``(x, y)``: class ``c``'s points around ``(c, -c)``."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % NUM_CLASSES
    x = rng.normal(size=(n, 2)) * 0.3 + np.stack([y, -y], axis=1)
    return jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.int32)


def np_logits(params, x, y):
    """D in float64 NumPy."""
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    phi = np.tanh(np.asarray(x, np.float64) @ p["v"])
    return phi @ p["psi"] + np.einsum("nh,nh->n", phi, p["embed"][np.asarray(y)])
