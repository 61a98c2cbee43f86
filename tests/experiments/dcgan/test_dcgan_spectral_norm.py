"""``python -m experiments.dcgan --spectral-norm``: SNGAN's D in the DCGAN experiment."""

import jax
import numpy as np

from experiments.dcgan import parse_args
from experiments.dcgan.model import build_gan


def d_variables(argv):
    config = parse_args(["--dataset", "digits", "--image-size", "16", "--d-features", "4", *argv])
    gan = build_gan(config, channels=1)
    return config, gan.discriminator.init(jax.random.PRNGKey(0), np.zeros((2, 16, 16, 1), np.float32))


def test_the_flag_gives_d_spectrally_normalised_kernels_and_no_batch_norm():
    config, (params, stats) = d_variables(["--spectral-norm"])
    assert config.spectral_norm
    vectors = sorted(name for layer in stats["batch_stats"].values() for name in layer if name.endswith("/u"))
    assert vectors == sorted(f"{name}/kernel/u" for name in params)  # one per kernel, nothing else
    reference_config, (reference_params, reference_stats) = d_variables([])
    assert not reference_config.spectral_norm
    assert any(name.endswith("_bn") for name in reference_params) and not any("_bn" in name for name in params)
    assert not any(name.endswith("/u") for layer in reference_stats["batch_stats"].values() for name in layer)
