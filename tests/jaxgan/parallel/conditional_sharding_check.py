"""A conditional GAN trained data-parallel on 2 virtual CPU devices and on 1: run by
``test_conditional_sharding.py`` with ``--xla_force_host_platform_device_count=2``; prints JSON."""

import json

import jax
import numpy as np

import jaxgan
from jaxgan.data import epoch_batches
from jaxgan.parallel import sharding
from tests.jaxgan.conditional_setup import make_data, make_gan


def run(devices: int):
    mesh = sharding.make_mesh(devices)
    gan = sharding.data_parallel(make_gan(), mesh)
    batch_fn = sharding.sharded_batch_fn(epoch_batches(12, jax.random.PRNGKey(5)), mesh)
    state = sharding.replicate(jaxgan.init_state(make_gan(), 0), mesh)
    data = sharding.place_dataset(make_data(), mesh)
    result = jaxgan.fit(jaxgan.build_train_step(gan, batch_fn), state, data, 6, chunk_size=6)
    return result.state


if __name__ == "__main__":
    one, two = run(1), run(2)
    diff = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
               for a, b in zip(jax.tree.leaves((one.g.params, one.d.params)), jax.tree.leaves((two.g.params, two.d.params))))
    moved = float(np.max(np.abs(np.asarray(two.g.params["w"]) - np.asarray(jaxgan.init_state(make_gan(), 0).g.params["w"]))))
    print(json.dumps({"devices": jax.device_count(), "max_diff": diff, "g_moved": moved,
                      "replicated": sharding.is_replicated(two)}))
