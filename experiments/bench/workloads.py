"""The benchmark's workloads, built from jaxgan's and the experiments' own code.

Each builder takes the workload's sizes (``experiments.benchmark.REFERENCE`` / ``QUICK`` merged with
the command line), the compute precision and a seed, and returns a workload object (see
:class:`experiments.bench.jax_workloads.GanWorkload`). A builder whose models are not in this checkout
raises :class:`WorkloadUnavailable`, which the harness reports as "workload X: not available".
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from experiments.bench.jax_workloads import PRECISIONS, GanWorkload, WorkloadUnavailable, mixed_precision

__all__ = ["toy", "mixture", "dcgan", "cyclegan"]


def _with_precision(gan, precision: str):
    import dataclasses

    dtype = PRECISIONS[precision]
    return dataclasses.replace(
        gan, generator=mixed_precision(gan.generator, dtype), discriminator=mixed_precision(gan.discriminator, dtype)
    )


def toy(sizes: dict, *, precision: str = "float32", seed: int = 0) -> GanWorkload:
    """The lecture's toy GAN (``experiments.toy_gan.build_gan``): 3200 samples of ``N(0, I) A + mu``,
    contiguous batches, linear G, 2-20-10-2 D, softmax loss, Adam(0.01)."""
    from experiments.toy_gan import ToyConfig, build_gan
    from jaxgan.data import affine_gaussian, contiguous_batches

    batch_size = sizes["batch_size"]
    n_samples = 3200
    if batch_size > n_samples:
        raise WorkloadUnavailable(f"batch size {batch_size} is larger than the toy data ({n_samples} samples)")
    key = jax.random.PRNGKey(seed)
    gan = _with_precision(build_gan(ToyConfig(batch_size=batch_size)), precision)
    data = affine_gaussian(jax.random.fold_in(key, 0), n_samples)
    settings = {"batch_size": batch_size, "seeds": sizes["seeds"], "n_samples": n_samples, "lr": 0.01}
    return GanWorkload("toy", gan, contiguous_batches(batch_size), data, batch_size, images=False,
                       seeds=sizes["seeds"], key=jax.random.fold_in(key, 1), settings=settings)


def mixture(sizes: dict, *, precision: str = "float32", seed: int = 0):
    try:
        import experiments.mixture_gan  # noqa: F401
    except ImportError as err:
        raise WorkloadUnavailable(f"experiments/mixture_gan.py is not in this checkout ({err})") from None
    raise WorkloadUnavailable("the mixture workload is not wired yet")


def dcgan(sizes: dict, *, precision: str = "float32", seed: int = 0):
    try:
        from jaxgan.models import dcgan as _  # noqa: F401
    except ImportError as err:
        raise WorkloadUnavailable(f"jaxgan/models/dcgan.py is not in this checkout ({err})") from None
    raise WorkloadUnavailable("the dcgan workload is not wired yet")


def cyclegan(sizes: dict, *, precision: str = "float32", seed: int = 0):
    try:
        import jaxgan.cyclegan  # noqa: F401
        from jaxgan.models import cyclegan as _  # noqa: F401
    except ImportError as err:
        raise WorkloadUnavailable(f"jaxgan/cyclegan.py or jaxgan/models/cyclegan.py is not in this checkout ({err})") from None
    raise WorkloadUnavailable("the cyclegan workload is not wired yet")
