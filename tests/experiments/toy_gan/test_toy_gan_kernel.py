"""The toy GAN's one-kernel loop in the experiment (``--loop kernel``, the choice of ``--loop auto``) and
in the benchmark's variants (``jaxgan.speedups.toy_gan_kernel``'s own tests are in ``tests/jaxgan/speedups``)."""

import dataclasses

import jax
import numpy as np
import pytest

from experiments.toy_gan import ToyConfig, build_gan

ON_GPU = jax.default_backend() == "gpu"
BATCH = 32


def test_benchmark_kernel_variants():
    """The benchmark lists the kernel variants on GPUs only; by name they run anywhere."""
    from experiments.bench import workloads

    toy = workloads.toy(dict(batch_size=BATCH, seeds=2))
    assert ("kernel" in toy.variant_names()) == ON_GPU
    assert workloads.toy(dict(batch_size=BATCH, seeds=2), precision="bfloat16").loop_kernel is None
    variant = toy.compile_variant("vmap2_kernel", 3)
    assert (variant.runs, variant.granule) == (2, 3)
    variant.run(6)


def test_toy_experiment_trains_through_the_kernel_as_through_scan(tmp_path):
    """``python -m experiments.toy_gan --loop kernel`` (interpreted off a GPU) gives the ``scan``
    loop's results: 6 iterations in chunks of 4 and 2, two runs on their own data."""
    from experiments.toy_gan import train_and_evaluate

    common = dict(steps=6, chunk_size=4, seeds=2, plot=False, progress=False)
    scan = train_and_evaluate(ToyConfig(loop="scan", out=str(tmp_path / "scan"), **common))
    kernel = train_and_evaluate(ToyConfig(loop="kernel", out=str(tmp_path / "kernel"), **common))
    untrained = train_and_evaluate(ToyConfig(loop="scan", out=str(tmp_path / "one"), **{**common, "steps": 1}))
    assert scan["loop"] == "scan" and kernel["loop"] == ("kernel" if ON_GPU else "kernel (interpreted)")
    for name in ("cov_rel_err_per_seed", "mean_err_per_seed"):
        np.testing.assert_allclose(kernel[name], scan[name], rtol=0, atol=1e-5)
        assert np.abs(np.subtract(scan[name], untrained[name])).max() > 1e-3  # the 5 more steps moved G


def test_toy_experiment_takes_the_kernel_only_where_it_applies(tmp_path):
    from experiments.runner import UserError
    from experiments.toy_gan import make_data, make_states, run_keys
    from experiments.toy_gan import choose_loop

    keys = run_keys(0, 2)
    data = make_data(keys, 3200)
    lecture = make_states(build_gan(ToyConfig()), keys)
    assert choose_loop(ToyConfig(loop="auto"), lecture, data, 1)[0] == ("kernel" if ON_GPU else "scan")
    assert choose_loop(ToyConfig(loop="scan"), lecture, data, 1) == ("scan", None)
    stable = make_states(build_gan(ToyConfig(recipe="stable")), keys)
    for config, states, devices, reason in [
        (ToyConfig(recipe="stable"), stable, 1, "lecture recipe"),
        (ToyConfig(modular=True), lecture, 1, "GANLoss"),
        (ToyConfig(), lecture, 2, "one device"),
        (ToyConfig(batch_size=24), lecture, 1, "not a power of two"),
    ]:
        assert choose_loop(dataclasses.replace(config, loop="auto"), states, data, devices) == ("scan", None)
        with pytest.raises(UserError, match=reason):
            choose_loop(dataclasses.replace(config, loop="kernel"), states, data, devices)
