"""Multi-device checks for ``test_sharding.py``, run in subprocesses of their own.

    XLA_FLAGS=--xla_force_host_platform_device_count=8 python tests/jaxgan/parallel/sharding_checks.py mesh OUT.json
    python tests/jaxgan/parallel/sharding_checks.py worker OUT.npz COORDINATOR NUM_PROCESSES PROCESS_ID
    XLA_FLAGS=--xla_force_host_platform_device_count=8 python tests/jaxgan/parallel/sharding_checks.py bench OUT.json

``mesh`` trains on 8 (virtual CPU) devices and on one, with the same global batches and keys, and
writes the largest differences and the layouts it saw; ``worker`` is one process of a
``jax.distributed`` job that trains the toy GAN data-parallel and saves its final state. The test
asserts on what they write, so that a failure names the quantity that differed.
"""

from __future__ import annotations

import json
import sys

import jax

jax.config.update("jax_default_matmul_precision", "highest")

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import jaxgan  # noqa: E402
from jaxgan.parallel import sharding  # noqa: E402
from jaxgan.data import affine_gaussian, contiguous_batches, random_batches  # noqa: E402
from jaxgan.models.mlp import MLP, LinearGenerator  # noqa: E402


def toy_gan() -> jaxgan.GAN:
    return jaxgan.GAN(
        generator=jaxgan.from_linen(LinearGenerator(2)),
        discriminator=jaxgan.from_linen(MLP((20, 10), 2)),
        g_optimizer=optax.adam(0.01),
        d_optimizer=optax.adam(0.01),
        latent_shape=(2,),
    )


def _bce_objective():
    """Sigmoid cross-entropy D loss and non-saturating G loss on one logit per example."""

    def d_loss(real_logits, fake_logits):
        return jnp.mean(optax.sigmoid_binary_cross_entropy(real_logits, jnp.ones_like(real_logits))) + jnp.mean(
            optax.sigmoid_binary_cross_entropy(fake_logits, jnp.zeros_like(fake_logits))
        )

    def g_loss(fake_logits, real_logits=None):
        return jnp.mean(optax.sigmoid_binary_cross_entropy(fake_logits, jnp.ones_like(fake_logits)))

    return jaxgan.losses.Objective(d_loss, g_loss)


def small_dcgan() -> jaxgan.GAN:
    """DCGAN at 16x16, one channel, widths 8 (BatchNorm in both G and D)."""
    from jaxgan.models.dcgan import dcgan_networks

    g, d = dcgan_networks(16, 1, g_features=8, d_features=8)
    return jaxgan.GAN(
        generator=g,
        discriminator=d,
        g_optimizer=optax.adam(2e-4, b1=0.5),
        d_optimizer=optax.adam(2e-4, b1=0.5),
        latent_shape=(16,),
        objective=_bce_objective(),
    )


def quick_state(gan: jaxgan.GAN, seed: int, weight_std=None):
    """A state with ``init_state``'s structure, made on the host without compiling initialisers.

    Weights ~ N(0, weight_std^2) (default: LeCun's ``1 / fan_in``, Flax's default), BatchNorm scales 1 + N(0, 0.02^2), offsets and running means 0,
    running variances 1; optimizer states from the optimizers' own ``init``. (XLA's CPU compile of
    the random initialisers of a DCGAN costs seconds, and which start is used does not matter
    for comparing one device with eight.) Returned as NumPy leaves: every placement is a copy.
    """
    rng = np.random.default_rng(seed)
    template = jax.eval_shape(lambda key: jaxgan.init_state(gan, key), jax.random.PRNGKey(0))

    def fill(path, leaf):
        names = "/".join(str(getattr(k, "key", getattr(k, "name", k))) for k in path)
        if "var" in names.rsplit("/", 1)[-1]:
            return np.ones(leaf.shape, leaf.dtype)
        if "scale" in names.rsplit("/", 1)[-1]:
            return (1 + 0.02 * rng.standard_normal(leaf.shape)).astype(leaf.dtype)
        if "bias" in names.rsplit("/", 1)[-1] or "mean" in names.rsplit("/", 1)[-1]:
            return np.zeros(leaf.shape, leaf.dtype)
        std = weight_std if weight_std is not None else 1 / np.sqrt(np.prod(leaf.shape[:-1]))
        return (std * rng.standard_normal(leaf.shape)).astype(leaf.dtype)

    def player(p, optimizer):
        params = jax.tree_util.tree_map_with_path(fill, p.params)
        stats = jax.tree_util.tree_map_with_path(fill, p.stats)
        return jaxgan.PlayerState(params, stats, jax.device_get(optimizer.init(params)))

    return jaxgan.GANState(
        g=player(template.g, gan.g_optimizer),
        d=player(template.d, gan.d_optimizer),
        step=np.zeros((), np.int32),
        key=np.asarray(jax.random.PRNGKey(seed)),
    )


def max_abs_diff(a, b) -> float:
    diffs = jax.tree.map(lambda x, y: float(np.max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64)))), a, b)
    return max(jax.tree.leaves(diffs))


def fit_one_and_many(gan, batch_fn, data, steps, mesh, start):
    """``fit`` on one device and data-parallel on the mesh, from the same state, data and keys."""
    one = jaxgan.fit(jaxgan.build_train_step(gan, batch_fn), jax.device_put(start), data, steps)
    train_step = jaxgan.build_train_step(sharding.data_parallel(gan, mesh), sharding.sharded_batch_fn(batch_fn, mesh))
    many = jaxgan.fit(train_step, sharding.replicate(start, mesh), sharding.replicate(data, mesh), steps)
    return one, many


def worker_setup():
    """What each process of the two-process job trains (and its one-device reference)."""
    gan = toy_gan()
    data = np.asarray(affine_gaussian(jax.random.PRNGKey(1), 512))
    return gan, data, random_batches(64), quick_state(gan, 0)


WORKER_STEPS, WORKER_CHUNK = 8, 4


def check_mesh(out_path: str) -> None:
    results: dict = {"devices": jax.device_count()}
    mesh = sharding.make_mesh()
    results["mesh_size"] = sharding.mesh_size(mesh)
    results["axis_types"] = str(getattr(mesh, "axis_types", ""))

    # 1. The toy GAN: fit (lax.scan chunks), 8 devices vs 1, global batch 64.
    gan = toy_gan()
    data = affine_gaussian(jax.random.PRNGKey(1), 512)
    one, many = fit_one_and_many(gan, contiguous_batches(64), data, 12, mesh, quick_state(gan, 0))
    results["toy_fit"] = {
        "max_state_diff": max_abs_diff(one.state, many.state),
        "max_metric_diff": max_abs_diff(one.metrics, many.metrics),
        "state_replicated": sharding.is_replicated(many.state),
        "state_on_mesh": all(len(x.sharding.device_set) == 8 for x in jax.tree.leaves(many.state)),
        "step": int(many.state.step),
    }

    # 2. The primitives: make_d_step / make_g_step on a replicated state and sharded batches.
    start = quick_state(gan, 2)
    state1, state8 = jax.device_put(start), sharding.replicate(start, mesh)
    real = data[:64]
    z = jax.random.normal(jax.random.PRNGKey(3), (64, 2))
    dp_gan = sharding.data_parallel(gan, mesh)
    d_step1, g_step1 = jaxgan.make_d_step(gan), jaxgan.make_g_step(gan)
    d_step8, g_step8 = jaxgan.make_d_step(dp_gan), jaxgan.make_g_step(dp_gan)
    real8, z8 = sharding.shard_batch((real, z), mesh)
    for _ in range(3):
        state1, m1 = d_step1(state1, real, z)
        state1, _ = g_step1(state1, z)
        state8, m8 = d_step8(state8, real8, z8)
        state8, _ = g_step8(state8, z8)
    hlo = d_step8.lower(state8, real8, z8).compile().as_text()  # cached: compiled by the calls above
    pair = jax.jit(lambda t: sharding.constrain_batch(t, mesh))((real, z[:3]))  # a pytree; 3 rows stay whole
    results["toy_steps"] = {
        "max_state_diff": max_abs_diff(state1, state8),
        "max_metric_diff": max_abs_diff(m1, m8),
        "state_replicated": sharding.is_replicated(state8),
        "batch_split": real8.sharding.spec == jax.sharding.PartitionSpec("data") and not real8.sharding.is_fully_replicated,
        "all_reduce_in_hlo": "all-reduce" in hlo,
        "tree_batch_split": not pair[0].sharding.is_fully_replicated and pair[1].sharding.is_fully_replicated,
    }

    # 3. A small DCGAN with BatchNorm: global batch 16 = 2 examples per device, random batches.
    gan = small_dcgan()
    offsets = jnp.linspace(-1, 1, 64)[:, None, None, None]
    images = jnp.tanh(jax.random.normal(jax.random.PRNGKey(4), (64, 16, 16, 1)) + offsets)
    start = quick_state(gan, 5, weight_std=0.02)  # DCGAN's initialisation
    one, many = fit_one_and_many(gan, random_batches(16), images, 4, mesh, start)
    results["dcgan_fit"] = {
        "max_state_diff": max_abs_diff(one.state, many.state),
        "max_params_diff": max_abs_diff((one.state.g.params, one.state.d.params), (many.state.g.params, many.state.d.params)),
        "max_batch_stats_diff": max_abs_diff((one.state.g.stats, one.state.d.stats), (many.state.g.stats, many.state.d.stats)),
        "has_batch_stats": bool(jax.tree.leaves(many.state.d.stats)) and bool(jax.tree.leaves(many.state.g.stats)),
        "state_replicated": sharding.is_replicated(many.state),
        "params_changed": max_abs_diff(start.g.params, many.state.g.params) > 1e-4,
        "batch_stats_changed": max_abs_diff(start.d.stats, many.state.d.stats) > 1e-4,
    }

    # 4. BatchNorm statistics over the global batch: shards with very different contents.
    d = gan.discriminator
    params, stats = quick_state(gan, 6).d[:2]  # LeCun-scaled weights: features of order one
    batch = images[:16]  # rows ordered by their offset: every device's pair has its own mean
    apply = jax.jit(lambda p, s, x: d.apply(p, s, x, True))
    dp_apply = jax.jit(lambda p, s, x: sharding.data_parallel_network(d, mesh).apply(p, s, x, True))
    _, stats_one = apply(params, stats, batch)
    logits8, stats_many = dp_apply(*sharding.replicate((params, stats), mesh), sharding.shard_batch(batch, mesh))
    _, stats_first_shard = apply(params, stats, batch[:2])  # what per-device statistics would give
    results["batchnorm"] = {
        "global_vs_sharded": max_abs_diff(stats_one, stats_many),
        "global_vs_first_shard": max_abs_diff(stats_one, stats_first_shard),
        "stats_replicated": sharding.is_replicated(stats_many),
        "logits_split": not logits8.sharding.is_fully_replicated,
    }

    # 5. Seed-parallel: 16 toy GANs (2 per device), each with its own data set; vs the plain vmap.
    gan = toy_gan()
    keys = jax.vmap(lambda r: jax.random.fold_in(jax.random.PRNGKey(7), r))(jnp.arange(16))
    run_data = jax.vmap(lambda k: affine_gaussian(k, 256))(keys)
    starts = jax.tree.map(lambda *xs: np.stack(xs), *[quick_state(gan, 100 + r) for r in range(16)])
    train_step = jaxgan.build_train_step(gan, contiguous_batches(32))
    plain = jaxgan.fit(train_step, jax.device_put(starts), run_data, 12, vmapped=True, vmap_data=True)
    spread = jaxgan.fit(
        train_step, sharding.shard_runs(starts, mesh), sharding.shard_runs(run_data, mesh), 12, vmapped=True, vmap_data=True
    )
    leaves = jax.tree.leaves(spread.state)
    results["seed_parallel"] = {
        "max_state_diff": max_abs_diff(plain.state, spread.state),
        "max_metric_diff": max_abs_diff(plain.metrics, spread.metrics),
        "runs_split": all(
            x.sharding.spec[:1] == ("data",) and len(x.addressable_shards) == 8 and x.addressable_shards[0].data.shape[0] == 2
            for x in leaves
        ),
        "runs_differ": max_abs_diff(spread.state.g.params, jax.tree.map(lambda x: x[:1], spread.state.g.params)) > 1e-3,
    }

    # 6. A tiny CycleGAN (instance norm, image pools, unpaired batches): global batch 8, 8 devices vs 1.
    with jax.threefry_partitionable(False):  # the same random values; compiles faster on XLA:CPU
        results["cyclegan_fit"] = check_cyclegan(mesh)

    # 7. The one-device reference for the two-process job.
    gan, data, batch_fn, start = worker_setup()
    ref = jaxgan.fit(jaxgan.build_train_step(gan, batch_fn), jax.device_put(start), data, WORKER_STEPS, chunk_size=WORKER_CHUNK)
    np.savez(out_path + ".worker_reference.npz", *jax.tree.leaves(jax.device_get(ref.state)))

    with open(out_path, "w") as f:
        json.dump(results, f, indent=2)


def check_cyclegan(mesh) -> dict:
    from jaxgan import cyclegan
    from jaxgan.data.unpaired import unpaired_batches
    from jaxgan.models.resnet_patchgan import PatchDiscriminator, ResnetGenerator, reference_network

    opt = cyclegan.make_optimizer(2e-4, 2, 2)
    cpu_forms = jax.default_backend() == "cpu"  # as the CycleGAN experiment chooses its convolutions
    gen = reference_network(ResnetGenerator(1, 2, 1, cpu_forms=cpu_forms))
    disc = reference_network(PatchDiscriminator(2, 1, cpu_forms=cpu_forms))
    model = cyclegan.CycleGAN(gen, gen, disc, disc, opt, opt, pool_size=3)
    images_a = jnp.tanh(jax.random.normal(jax.random.PRNGKey(8), (24, 8, 8, 1)))
    images_b = jnp.tanh(jax.random.normal(jax.random.PRNGKey(9), (20, 8, 8, 1)) + 0.5)
    start = jax.device_get(cyclegan.init_cyclegan(model, jax.random.PRNGKey(10), (8, 8, 1), (8, 8, 1)))  # host copy
    batch_fn = unpaired_batches(8, seed=3)
    one = jaxgan.fit(cyclegan.build_train_step(model, batch_fn), jax.device_put(start), (images_a, images_b), 4)
    train_step = cyclegan.build_train_step(cyclegan.data_parallel(model, mesh), sharding.sharded_batch_fn(batch_fn, mesh))
    data = tuple(sharding.place_dataset(x, mesh) for x in (images_a, images_b))
    many = jaxgan.fit(train_step, sharding.replicate(start, mesh), data, 4)
    # A conv bias followed by instance normalisation has no effect on the output, so its true gradient
    # is 0 and what XLA computes is rounding noise, which differs with the reduction order across
    # devices; Adam normalises that noise into steps of size up to c * lr, with c = |m_hat| / sqrt(v_hat)
    # <= sqrt(sum_i a_i^2 / b_i) <= 1.23 for t <= 4 steps at beta1 0.5, beta2 0.999 (Cauchy-Schwarz
    # on the bias-corrected weights a_i of m and b_i of v), in either direction in each run. Those
    # biases are compared against 2 runs x 4 steps x lr x 1.25; every other parameter (and every
    # output) against the tolerance.
    from tests.jaxgan.instance_norm_biases import is_cancelled_bias
    from jaxgan.reliability.divergence import path_name

    diffs = {"pre_norm_bias": 0.0, "other": 0.0}
    params = lambda s: (s.g_ab.params, s.g_ba.params, s.d_a.params, s.d_b.params)
    for (path, x), y in zip(jax.tree_util.tree_leaves_with_path(params(one.state)), jax.tree.leaves(params(many.state))):
        name = path_name(path)
        kind = "pre_norm_bias" if is_cancelled_bias(name) else "other"
        diffs[kind] = max(diffs[kind], float(np.max(np.abs(np.asarray(x) - np.asarray(y)))))
    translate = lambda s: (cyclegan.translate(model.generator_ab, s.g_ab, images_a), cyclegan.translate(model.generator_ba, s.g_ba, images_b))
    return {
        "max_param_diff": diffs["other"],
        "max_pre_norm_bias_diff": diffs["pre_norm_bias"],
        "adam_step_bound": 2 * 4 * 2e-4 * 1.25,
        "max_translation_diff": max_abs_diff(translate(one.state), translate(many.state)),
        "max_metric_diff": max_abs_diff(one.metrics, many.metrics),
        "max_pool_diff": max_abs_diff((one.state.pool_a, one.state.pool_b), (many.state.pool_a, many.state.pool_b)),
        "state_replicated": sharding.is_replicated(many.state),
        "params_changed": max_abs_diff(start.g_ab.params, many.state.g_ab.params) > 1e-5,
        "pool_filled": int(np.asarray(many.state.pool_a.count)) == 3,
    }


def run_worker(out_path: str, coordinator: str, num_processes: int, process_id: int) -> None:
    """One process of a ``jax.distributed`` job: toy GAN, data-parallel over every process's devices."""
    from jaxgan.parallel import hosts as distributed

    assert distributed.initialize(coordinator, num_processes, process_id)
    mesh = sharding.make_mesh()
    gan, full, batch_fn, start = worker_setup()  # every process could make the whole data set ...
    data = sharding.place_dataset(full, mesh)  # ... but supplies only its own rows
    train_step = jaxgan.build_train_step(sharding.data_parallel(gan, mesh), sharding.sharded_batch_fn(batch_fn, mesh))
    result = jaxgan.fit(train_step, sharding.replicate(start, mesh), data, WORKER_STEPS, chunk_size=WORKER_CHUNK)
    final = sharding.gather(result.state)
    np.savez(
        out_path,
        *jax.tree.leaves(final),
        process_index=jax.process_index(),
        process_count=jax.process_count(),
        global_devices=jax.device_count(),
        replicated=sharding.is_replicated(result.state),
        data_rows_here=sum(s.data.shape[0] for s in data.addressable_shards),
        main=distributed.is_main_process(),
    )
    jax.distributed.shutdown()


def bench(out_path: str, repeats: int = 5) -> None:
    """Throughput on a 1-device mesh and on all devices, same process, alternating.

    Seed-parallel: 64 toy GANs (lecture setting), chunks of 500 iterations. Data-parallel: DCGAN
    16x16x1, widths 16, global batch 64, chunks of 5 iterations. Each (workload, mesh) chunk runner
    is compiled once; the medians of ``repeats`` timed chunks are reported, in wall-clock time and
    in this process's CPU time (on a shared CPU the wall clock mostly measures the other processes).
    """
    import os
    import time

    from jaxgan.models.dcgan import dcgan_networks

    meshes = {n: sharding.make_mesh(n) for n in sorted({1, jax.device_count()})}
    gan = toy_gan()
    keys = jax.vmap(lambda r: jax.random.fold_in(jax.random.PRNGKey(0), r))(jnp.arange(64))
    run_data = np.asarray(jax.vmap(lambda k: affine_gaussian(k, 3200))(keys))
    starts = jax.tree.map(lambda *xs: np.stack(xs), *[quick_state(gan, r) for r in range(64)])
    g, d = dcgan_networks(16, 1, g_features=16, d_features=16)
    dc = jaxgan.GAN(g, d, optax.adam(2e-4, b1=0.5), optax.adam(2e-4, b1=0.5), (64,), objective=_bce_objective())
    images = np.tanh(np.random.default_rng(0).standard_normal((1024, 16, 16, 1))).astype(np.float32)
    dc_start = quick_state(dc, 0, weight_std=0.02)

    workloads = {}
    for n, mesh in meshes.items():
        toy = jaxgan.make_chunk_runner(jaxgan.build_train_step(gan, contiguous_batches(32)), 500, vmapped=True, vmap_data=True)
        toy_args = sharding.shard_runs((jax.tree.map(np.copy, starts), run_data), mesh)
        workloads[("toy GAN, 64 seeds seed-parallel", n)] = (toy, toy_args, 64 * 500, "run-iterations/s")
        step = jaxgan.build_train_step(sharding.data_parallel(dc, mesh), sharding.sharded_batch_fn(random_batches(64), mesh))
        dc_args = (sharding.replicate(jax.tree.map(np.copy, dc_start), mesh), sharding.replicate(images, mesh))
        workloads[("DCGAN 16x16, batch 64 data-parallel", n)] = (jaxgan.make_chunk_runner(step, 5), dc_args, 64 * 5, "images/s")
    compile_s, times, cpu = {}, {k: [] for k in workloads}, {k: [] for k in workloads}
    for k, (runner, args, _, _) in workloads.items():
        t = time.perf_counter()
        workloads[k] = (runner.lower(*args).compile(),) + workloads[k][1:]
        compile_s[k] = time.perf_counter() - t
    for _ in range(repeats):
        for k, (compiled, args, work, _) in workloads.items():
            state, data = args
            t, c = time.perf_counter(), time.process_time()
            state, metrics = compiled(state, data)
            jax.block_until_ready((state, metrics))
            times[k].append(time.perf_counter() - t)
            cpu[k].append(time.process_time() - c)  # all threads of this process: the work done
            workloads[k] = (compiled, (state, data)) + workloads[k][2:]
    rows = []
    for (name, n), (_, _, work, unit) in workloads.items():
        median, median_cpu = float(np.median(times[(name, n)])), float(np.median(cpu[(name, n)]))
        rows.append({"workload": name, "devices": n, "compile_s": compile_s[(name, n)], "chunk_s": times[(name, n)],
                     "chunk_cpu_s": cpu[(name, n)], "rate": work / median, "rate_per_cpu_second": work / median_cpu,
                     "unit": unit})
        print(f"{name:40s} {n} device(s): {work / median:10.1f} {unit} wall, {work / median_cpu:10.1f} per CPU-second "
              f"(medians of {repeats}; compile {compile_s[(name, n)]:.1f} s)")
    info = {"platform": jax.devices()[0].platform, "device_kind": jax.devices()[0].device_kind,
            "cpu_count": os.cpu_count(), "loadavg": os.getloadavg(), "time": time.strftime("%Y-%m-%d %H:%M")}
    with open(out_path, "w") as f:
        json.dump({"info": info, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "mesh":
        check_mesh(sys.argv[2])
    elif mode == "bench":
        bench(sys.argv[2])
    elif mode == "worker":
        run_worker(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
