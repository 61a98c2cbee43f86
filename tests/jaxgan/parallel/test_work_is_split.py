"""``data_parallel`` splits the work: each device computes on ``B / n`` examples, and the gradients
are all-reduced.

"8 devices give the numbers of 1" (the sharding tests) holds whether or not anything is split.
Here the toy GAN's train step is compiled for 8 virtual CPU devices with a replicated state and a
replicated data set, so that only ``data_parallel``'s constraints can split the batch. The
networks are wrapped (inside ``data_parallel``'s wrappers) by probes calling
``jax.debug.inspect_array_sharding``, which report at compile time the layout XLA chose for every
input G and D receive; and the compiled, partitioned program is read for per-device shapes and for
the all-reduce of the gradients.

This pytest process keeps its one device: the 8-device part runs this file as a script in a
subprocess (``python -m tests.jaxgan.parallel.test_work_is_split OUT.json`` with
``XLA_FLAGS=--xla_force_host_platform_device_count=8``) and the tests assert on what it writes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxgan
from jaxgan.data import contiguous_batches
from jaxgan.models.mlp import MLP, LinearGenerator
from jaxgan.parallel import sharding
from jaxgan.parallel.mesh import make_mesh

ROOT = Path(__file__).resolve().parents[3]
DEVICES = 8
BATCH = 32  # 4 examples per device
TIMEOUT = 300  # seconds; the subprocess takes a few on an idle core


def toy_gan() -> jaxgan.GAN:
    return jaxgan.GAN(
        generator=jaxgan.from_linen(LinearGenerator(2)),
        discriminator=jaxgan.from_linen(MLP((20, 10), 2)),
        g_optimizer=optax.adam(1e-3),
        d_optimizer=optax.adam(2e-3, b1=0.5),
        latent_shape=(2,),
    )


def probed(network: jaxgan.Network, name: str, records: list) -> jaxgan.Network:
    """``network`` whose ``apply`` records, when compiled, the layout of the input it receives."""

    def apply(params, stats, x, train=True):
        def record(layout):
            shard = list(layout.shard_shape(x.shape))
            records.append({"network": name, "shape": list(x.shape), "shard": shard})

        jax.debug.inspect_array_sharding(x, callback=record)
        return network.apply(params, stats, x, train)

    return jaxgan.Network(network.init, apply)


def all_reduced_shapes(hlo: str) -> list[str]:
    """The operand types of every all-reduce in an HLO module's text."""
    shapes = []
    for line in hlo.splitlines():
        # "%name = (f32[20,10]{1,0}, f32[10]{0}, ...) all-reduce(%operand, ...), ..."
        match = re.search(r"=\s*(.*?)\s+all-reduce(-start)?\(", line)
        if match:
            shapes.extend(re.findall(r"f32\[[0-9,]*\]", match.group(1)))
    return shapes


def has_matrix(hlo: str, rows: int, cols: int) -> bool:
    """Whether the HLO holds a float32 ``rows x cols`` array, in either orientation."""
    return f"f32[{rows},{cols}]" in hlo or f"f32[{cols},{rows}]" in hlo


def report(out: str) -> None:
    """The 8-device part: compiles the data-parallel train step and writes what it saw as JSON."""
    gan = toy_gan()
    mesh = make_mesh(DEVICES)
    records: list = []
    probe = dataclasses.replace(
        gan,
        generator=probed(gan.generator, "G", records),
        discriminator=probed(gan.discriminator, "D", records),
    )
    parallel = sharding.data_parallel(probe, mesh)  # its constraints wrap the probes
    state = jax.jit(lambda k: jaxgan.init_state(gan, k))(jax.random.PRNGKey(0))
    state = sharding.replicate(state, mesh)
    data = np.random.default_rng(0).normal(size=(2 * BATCH, 2)).astype(np.float32)
    data = sharding.place_dataset(data, mesh)
    step = jax.jit(jaxgan.build_train_step(parallel, contiguous_batches(BATCH)))
    hlo = step.lower(state, data).compile().as_text()
    result = {
        "devices": len(jax.devices()),
        "records": records,
        "all_reduced": all_reduced_shapes(hlo),
        "d_hidden_per_device": has_matrix(hlo, BATCH // DEVICES, 20),
        "d_hidden_whole_batch": has_matrix(hlo, BATCH, 20),
    }
    Path(out).write_text(json.dumps(result))


def subprocess_env() -> dict:
    """This environment with ``DEVICES`` virtual CPU devices, the repository importable, and no
    ``JAX_*`` variables that would start a multi-process job."""
    env = dict(os.environ)
    flag = f"--xla_force_host_platform_device_count={DEVICES}"
    env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {flag}".strip()
    env["JAX_PLATFORMS"] = "cpu"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    for name in ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def seen(tmp_path_factory):
    out = tmp_path_factory.mktemp("work_is_split") / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "tests.jaxgan.parallel.test_work_is_split", str(out)],
        cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=TIMEOUT,
    )  # fmt: skip
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    result = json.loads(out.read_text())
    assert result["devices"] == DEVICES
    return result


def test_g_and_d_get_a_shard_of_the_batch_on_each_device(seen):
    by_network = {"G": [], "D": []}
    for record in seen["records"]:
        by_network[record["network"]].append(record)
    # G on the noise once (its forward pass is shared by the D and G updates); D on the real
    # batch, on the fake one for its own update, and on the fake one for G's loss.
    assert len(by_network["G"]) >= 1 and len(by_network["D"]) >= 3, seen["records"]
    for record in seen["records"]:
        assert record["shape"] == [BATCH, 2]
        assert record["shard"] == [BATCH // DEVICES, 2], record


def test_the_compiled_program_computes_per_device_activations(seen):
    """After partitioning, D's first hidden layer is ``B / n x 20`` per device, never ``B x 20``."""
    assert seen["d_hidden_per_device"]
    assert not seen["d_hidden_whole_batch"]


def test_the_gradients_are_all_reduced(seen):
    """D's ``Dense_1`` kernel gradient (``20 x 10``, in either orientation) and G's kernel gradient
    (``2 x 2``) are each a sum over the devices' examples."""
    all_reduced = seen["all_reduced"]
    assert "f32[20,10]" in all_reduced or "f32[10,20]" in all_reduced, all_reduced
    assert "f32[2,2]" in all_reduced, all_reduced


def test_data_parallel_wraps_both_networks_on_one_device():
    """On one device the constraint is a no-op, but ``data_parallel`` must still return the GAN
    with both networks wrapped and everything else (and the numbers) unchanged."""
    gan = toy_gan()
    parallel = sharding.data_parallel(gan, make_mesh(1))
    assert parallel is not gan and parallel != gan
    assert parallel.generator.apply is not gan.generator.apply
    assert parallel.discriminator.apply is not gan.discriminator.apply
    assert parallel.generator.init is gan.generator.init
    assert parallel.discriminator.init is gan.discriminator.init
    networks = ("generator", "discriminator")
    others = [f.name for f in dataclasses.fields(gan) if f.name not in networks]
    assert all(getattr(parallel, name) == getattr(gan, name) for name in others)

    params, stats = gan.generator.init(jax.random.PRNGKey(0), jnp.zeros((1, 2)))
    z = jnp.asarray(np.random.default_rng(0).normal(size=(4, 2)), jnp.float32)
    expected = gan.generator.apply(params, stats, z, True)[0]
    np.testing.assert_array_equal(parallel.generator.apply(params, stats, z, True)[0], expected)


if __name__ == "__main__":
    report(sys.argv[1])
