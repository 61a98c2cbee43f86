"""``python -m experiments.bench.dcgan_parts``: the layers it times are the model's, and it reports each part."""

import json

import jax
import jax.numpy as jnp
import pytest

from experiments.bench import dcgan_parts
from jaxgan.models.dcgan import DCGANDiscriminator, DCGANGenerator


@pytest.mark.parametrize("size, width, channels", [(64, 64, 3), (32, 32, 1), (16, 8, 1)])
def test_layer_specs_are_the_models_convolutions(size, width, channels):
    """Each spec's kernel ``[4, 4, in, out]`` is the kernel of the model's layer, in order."""
    g = DCGANGenerator(size, channels, width)
    d = DCGANDiscriminator(size, width)
    g_params = jax.eval_shape(lambda: g.init(jax.random.PRNGKey(0), jnp.zeros((2, 100))))["params"]
    d_params = jax.eval_shape(lambda: d.init(jax.random.PRNGKey(0), jnp.zeros((2, size, size, channels))))["params"]
    model = [p["kernel"].shape for p in g_params.values() if "kernel" in p]
    model += [p["kernel"].shape for p in d_params.values() if isinstance(p, dict) and "kernel" in p]
    model.append(d_params["logit"].shape)
    specs = dcgan_parts.layer_specs(size, width, channels, 100)
    expected = [(4, 4, shape[-1], out) for _, _, shape, out in specs]
    assert [s[1] for s in specs].count("logit") == 1
    assert sorted(model) == sorted(expected)


@pytest.mark.slow  # a benchmark tool's smoke run: it compiles many programs
def test_smoke_run_reports_every_part(tmp_path):
    rows = dcgan_parts.main(["--batch-size", "4", "--image-size", "16", "--width", "4", "--calls", "1",
                             "--repeats", "1", "--out", str(tmp_path)])
    names = [r["part"] for r in rows]
    assert names[: len(dcgan_parts.layer_specs(16, 4, 3, 100))] == [s[0] for s in dcgan_parts.layer_specs(16, 4, 3, 100)]
    assert "fused iteration (D step, then G step on the same G(z))" in names
    for row in rows:
        assert row["ms"] > 0 and row["gflop"] > 0 and row["fraction_of_peak"] is None  # no peak on CPUs
    saved = json.loads((tmp_path / "dcgan_parts.json").read_text())
    assert [r["part"] for r in saved["rows"]] == names and saved["settings"]["layers"]


@pytest.mark.slow  # a benchmark tool's smoke run: it compiles many programs
def test_paired_discriminator_call_is_the_two_calls():
    """D under vmap over (real, fake) computes what two calls compute, BatchNorm per batch included
    (one call on the concatenation would normalise both by shared statistics, and differ)."""
    d_model = DCGANDiscriminator(16, 8)
    real = jax.random.normal(jax.random.PRNGKey(1), (6, 16, 16, 3))
    fake = 0.3 * jax.random.normal(jax.random.PRNGKey(2), (6, 16, 16, 3)) + 0.5
    variables = d_model.init(jax.random.PRNGKey(0), real)
    d = lambda p, x: d_model.apply({**variables, "params": p}, x, mutable=["batch_stats"])[0]  # noqa: E731
    two = dcgan_parts.d_on_real_and_fake(d, variables["params"], real, fake, paired=False)
    paired = dcgan_parts.d_on_real_and_fake(d, variables["params"], real, fake, paired=True)
    for a, b in zip(two, paired):
        assert jnp.allclose(a, b, atol=1e-5, rtol=1e-5)
    shared = d(variables["params"], jnp.concatenate([real, fake]))
    assert not jnp.allclose(shared[6:], two[1], atol=1e-3)  # the check can tell the difference
    loss = lambda paired: lambda p: jnp.sum(dcgan_parts.d_on_real_and_fake(d, p, real, fake, paired=paired)[1])  # noqa: E731
    g_two, g_paired = jax.grad(loss(False))(variables["params"]), jax.grad(loss(True))(variables["params"])
    for a, b in zip(jax.tree.leaves(g_two), jax.tree.leaves(g_paired)):
        assert jnp.allclose(a, b, atol=1e-5, rtol=1e-4)
