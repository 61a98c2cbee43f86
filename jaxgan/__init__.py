"""jaxgan: generative adversarial networks in JAX, written as pure functions.

The pieces, from the bottom up:

* :mod:`jaxgan.networks` - networks as ``init``/``apply`` pure-function pairs.
* :mod:`jaxgan.losses` - adversarial losses on logits and the objective registry.
* :mod:`jaxgan.state` - the training state pytree (``GANState``).
* :mod:`jaxgan.gan` - the static GAN description and ``init_state``.
* :mod:`jaxgan.steps` - the D step, the G step and the fused train step.
* :mod:`jaxgan.gan_loss` - the discriminator as a loss module (``GANLoss``).
* :mod:`jaxgan.train` - ``fit``: ``lax.scan`` training in chunks and ``vmap`` over runs.
* :mod:`jaxgan.sampling` - samples from a trained G (evaluation mode, in batches).
* :mod:`jaxgan.metric_writers` - logging: JSON lines and TensorBoard writers, and
  :func:`~jaxgan.metric_writers.log_metrics`, a ``fit`` callback that feeds them.

Around the core: :mod:`jaxgan.models`, :mod:`jaxgan.data`, :mod:`jaxgan.metrics`,
:mod:`jaxgan.parallel` (several devices and hosts), :mod:`jaxgan.reliability` (checkpoints, the
divergence guard, input checks) and :mod:`jaxgan.speedups` (faster exact forms, opt-in).
"""

from jaxgan import losses, metric_writers
from jaxgan.gan import GAN, d_schedule, init_state, sample_noise
from jaxgan.gan_loss import GANLoss, build_modular_train_step
from jaxgan.metric_writers import log_metrics
from jaxgan.networks import Network, as_network, from_linen, from_nnx
from jaxgan.sampling import generate, generate_from
from jaxgan.state import GANState, PlayerState, take_key
from jaxgan.steps import (
    build_d_step,
    build_g_step,
    build_d_then_g_step,
    build_train_step,
    discriminator_update,
    make_d_step,
    make_g_step,
    make_train_step,
)
from jaxgan.train import FitResult, compile_ahead, fit, init_states, make_chunk_runner

__version__ = "0.1.0"

__all__ = [
    "GAN",
    "GANLoss",
    "GANState",
    "FitResult",
    "Network",
    "PlayerState",
    "build_d_step",
    "build_g_step",
    "build_d_then_g_step",
    "build_modular_train_step",
    "build_train_step",
    "as_network",
    "compile_ahead",
    "d_schedule",
    "from_nnx",
    "generate",
    "generate_from",
    "discriminator_update",
    "fit",
    "from_linen",
    "init_state",
    "init_states",
    "log_metrics",
    "losses",
    "make_chunk_runner",
    "make_d_step",
    "make_g_step",
    "make_train_step",
    "metric_writers",
    "sample_noise",
    "take_key",
]
