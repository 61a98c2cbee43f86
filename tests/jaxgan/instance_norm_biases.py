"""Which parameters of the reference CycleGAN networks have a true gradient of exactly zero.

A convolution's bias followed by instance normalisation shifts every pixel of its channel by the
same amount, which the normalisation subtracts again: the output does not depend on it, so its true
gradient is 0 and what autodiff computes is rounding noise (a sum of terms that cancel). That noise
depends on the order of the sums, which differs between backends (CPU / GPU), between batched and
single products, and across devices; tests compare it against a bound, never against another run's
noise.
"""

UNNORMALISED = ("head", "conv0", "logits")  # G's last conv (tanh), D's first and last (no norm)


def is_cancelled_bias(name: str) -> bool:
    """Whether the parameter ``name`` (dotted, :func:`jaxgan.reliability.divergence.path_name`) is a conv bias that
    instance normalisation cancels, in :mod:`jaxgan.models.resnet_patchgan`'s reference networks (with
    D's ``normalize=True``, the reference)."""
    parts = name.split(".")
    return len(parts) >= 2 and parts[-1] == "bias" and parts[-2] not in UNNORMALISED
