"""The speed forms that touch JAX's private API turn themselves off, with one warning, where it
is not as they expect; the run then stays correct in JAX's own form."""

import os
import warnings

import jax
import pytest

from jaxgan.speedups import cpu_loops, jax_internals, rng_lowering
from jaxgan.speedups.jax_internals import PrivateAPIWarning


@pytest.fixture(autouse=True)
def fresh_lookups():
    jax_internals.lookup.cache_clear()
    yield
    jax_internals.lookup.cache_clear()


def test_lookup_returns_the_attributes_it_finds():
    (primitive,) = jax_internals.lookup("random.threefry2x32", "threefry2x32_p")
    assert primitive.name == "threefry2x32"


def test_a_missing_private_attribute_gives_one_warning_and_none():
    with pytest.warns(PrivateAPIWarning, match="no jax._src.random.threefry2x32.not_there"):
        assert jax_internals.lookup("random.threefry2x32", "not_there") is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert jax_internals.lookup("random.threefry2x32", "not_there") is None  # once only


def test_a_missing_private_module_gives_one_warning_and_none():
    with pytest.warns(PrivateAPIWarning, match="no jax._src.no_such_module"):
        assert jax_internals.lookup("no_such_module", "anything") is None


def test_threefry_lowering_turns_itself_off_where_the_rule_is_missing(monkeypatch):
    from jax._src.random import threefry2x32 as threefry

    monkeypatch.delattr(threefry, "_threefry2x32_lowering_rule")
    registered = []
    monkeypatch.setattr(jax._src.interpreters.mlir, "register_lowering", lambda *a, **k: registered.append(a))
    with pytest.warns(PrivateAPIWarning, match="_threefry2x32_lowering_rule"):
        assert rng_lowering.unroll_threefry_on_cpu() is False
    assert registered == []  # JAX's own lowering stays


def test_single_kernel_loops_turn_themselves_off_where_jax_cannot_say_if_backends_started(monkeypatch):
    from jax._src import xla_bridge

    monkeypatch.delattr(xla_bridge, "backends_are_initialized")
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_use_thunk_runtime=true")
    with pytest.warns(PrivateAPIWarning, match="backends_are_initialized"):
        assert cpu_loops.allow_single_kernel_loops() is False
    assert os.environ["XLA_FLAGS"] == "--xla_cpu_use_thunk_runtime=true"  # left as it was
