"""``jaxgan.GAN``: a GAN's loss names are checked when it is built."""

import optax
import pytest

import jaxgan
from jaxgan.models.mlp import MLP, LinearGenerator
from tests.jaxgan.core_setup import make_gan


def test_unknown_objective_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown loss 'nope'.*softmax"):
        make_gan(objective="nope")


def test_unknown_loss_name_is_refused_when_the_gan_is_built():
    with pytest.raises(ValueError, match=r"unknown loss 'hinj'; known losses: .*hinge"):
        jaxgan.GAN(jaxgan.from_linen(LinearGenerator(2)), jaxgan.from_linen(MLP((8,), 2)), optax.adam(1e-3),
                   optax.adam(1e-3), (2,), "hinj")
