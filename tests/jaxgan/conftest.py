"""Fixtures of the core's tests: the toy GAN of ``core_setup`` and 320 points of its 2-D Gaussian."""

import jax
import pytest

from jaxgan.data import affine_gaussian
from tests.jaxgan.core_setup import make_gan


@pytest.fixture(scope="module")
def gan():
    return make_gan()


@pytest.fixture(scope="module")
def data():
    return affine_gaussian(jax.random.PRNGKey(1), 320)
