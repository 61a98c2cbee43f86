"""The benchmark's workloads, built from jaxgan's and the experiments' own code.

Each builder takes the workload's sizes (``experiments.bench.config.REFERENCE`` / ``QUICK`` merged with
the command line), the compute precision and a seed, and returns a workload object (see
:class:`experiments.bench.jax_workloads.GanWorkload`). A builder whose models are not in this checkout
raises :class:`WorkloadUnavailable`, which the harness reports as "workload X: not available".
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from experiments.bench.config import DCGAN_LAYERS, BenchConfig
from experiments.bench.cyclegan_workload import CycleGANWorkload
from experiments.bench.jax_workloads import (
    PRECISIONS,
    GanWorkload,
    WorkloadUnavailable,
    mixed_precision,
)

__all__ = ["build_jax_workload", "toy", "mixture", "dcgan", "cyclegan"]


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
    from jaxgan.speedups.toy_gan_kernel import AdamSettings

    batch_size = sizes["batch_size"]
    n_samples = 3200
    if batch_size > n_samples:
        raise WorkloadUnavailable(f"batch size {batch_size} is larger than the toy data ({n_samples} samples)")
    key = jax.random.PRNGKey(seed)
    config = ToyConfig(batch_size=batch_size)  # the lecture recipe: Adam(lr) for both, no penalty
    gan = _with_precision(build_gan(config), precision)
    data = affine_gaussian(jax.random.fold_in(key, 0), n_samples)
    settings = {"batch_size": batch_size, "seeds": sizes["seeds"], "n_samples": n_samples, "lr": config.lr}
    # jaxgan.speedups.toy_gan_kernel trains this recipe in float32 (told its Adam; the optimizers are opaque)
    kernel = AdamSettings(lr=config.lr) if precision == "float32" and config.recipe == "lecture" else None
    return GanWorkload("toy", gan, contiguous_batches(batch_size), data, batch_size, images=False,
                       seeds=sizes["seeds"], key=jax.random.fold_in(key, 1), settings=settings, loop_kernel=kernel)


def mixture(sizes: dict, *, precision: str = "float32", seed: int = 0) -> GanWorkload:
    """The mode-collapse experiment's default recipe on the ring (``experiments.mixture_gan``):
    4 x 128 ReLU MLP G on 2-d noise, 4 x 128 leaky-ReLU MLP D with one logit, non-saturating loss +
    R1 (weight 0.05) on D, Adam(b1 0.5, b2 0.99) with a cosine decay over 3000 steps, and a fresh
    batch of the 8-Gaussian ring drawn inside every step (``mixture_batches``). ``width`` overrides
    both MLPs' width."""
    try:
        from experiments.mixture_gan import build_gan, default_recipe
        from jaxgan.data.mixtures import get_mixture, mixture_batches
    except ImportError as err:
        raise WorkloadUnavailable(f"experiments/mixture_gan.py is not in this checkout ({err})") from None
    import dataclasses

    recipe = default_recipe("ring")
    width = sizes.get("width", recipe.g_width)
    recipe = dataclasses.replace(recipe, batch_size=sizes["batch_size"], g_width=width, d_width=width)
    mixture = get_mixture("ring")
    key = jax.random.PRNGKey(seed)
    gan = _with_precision(build_gan(recipe), precision)
    settings = {"batch_size": recipe.batch_size, "seeds": sizes["seeds"], "dataset": "ring",
                "g_width": recipe.g_width, "g_depth": recipe.g_depth, "d_width": recipe.d_width,
                "d_depth": recipe.d_depth, "latent_dim": recipe.latent_dim, "loss": recipe.loss,
                "penalty": recipe.penalty, "penalty_weight": recipe.penalty_weight, "lr": recipe.g_lr,
                "beta1": recipe.beta1, "beta2": recipe.beta2, "lr_decay": recipe.lr_decay,
                "decay_steps": recipe.steps, "std": float(mixture.std)}
    return GanWorkload("mixture", gan, mixture_batches(recipe.batch_size, mixture.std), jnp.asarray(mixture.means),
                       recipe.batch_size, images=False, seeds=sizes["seeds"], key=key, settings=settings)


def _random_images(key, n: int, size: int, channels: int = 3):
    """``n`` images ``[size, size, channels]`` uniform in ``[-1, 1]``: speed does not depend on content."""
    return jax.random.uniform(key, (n, size, size, channels), jnp.float32, -1.0, 1.0)


def dcgan(sizes: dict, *, precision: str = "float32", seed: int = 0,
          layers: tuple[str, str] = ("auto", "auto")) -> GanWorkload:
    """pytorch/examples DCGAN as ``experiments.dcgan.build_gan`` builds it (``jaxgan.models.dcgan``):
    nz 100, ngf = ndf = width, BCE on logits (``"nonsaturating"``), Adam(2e-4, (0.5, 0.999)); the
    experiment's default layers (``"auto"``: :func:`jaxgan.speedups.layers.auto_layers`, Winograd's on CPU,
    matrix products of patches elsewhere; ``settings`` names the resolved ones); bfloat16 through
    the models' own ``dtype`` (float32 parameters, BatchNorm statistics, outputs and losses).
    ``layers = (upsample, downsample)`` picks other layers of the same function.

    Data: ``4 x batch`` random images in [-1, 1] taken in contiguous batches (the work per iteration
    does not depend on the pixels; the PyTorch twin gets the same array)."""
    try:
        from experiments.dcgan import DCGANConfig, build_gan, with_resolved_layers
    except ImportError as err:
        raise WorkloadUnavailable(f"experiments/dcgan.py or jaxgan/models/dcgan.py is not in this checkout ({err})") from None
    from jaxgan.data import contiguous_batches

    batch, size, width = sizes["batch_size"], sizes["image_size"], sizes["width"]
    channels = 3
    config = with_resolved_layers(DCGANConfig(image_size=size, batch_size=batch, g_features=width, d_features=width,
                                              precision=precision, upsample=layers[0], downsample=layers[1]))
    gan = build_gan(config, channels)
    key = jax.random.PRNGKey(seed)
    data = _random_images(jax.random.fold_in(key, 0), 4 * batch, size, channels)
    seeds = sizes.get("seeds", 0)  # 0: no vmap variant (the reference); N: vmapN_scan, N runs at once
    settings = {"batch_size": batch, "image_size": size, "g_features": width, "d_features": width,
                "nz": config.latent_dim, "channels": channels, "upsample": config.upsample,
                "downsample": config.downsample, **({"seeds": seeds} if seeds else {})}
    return GanWorkload("dcgan", gan, contiguous_batches(batch), data, batch, images=True, seeds=seeds,
                       key=jax.random.fold_in(key, 1), settings=settings)


def cyclegan(sizes: dict, *, precision: str = "float32", seed: int = 0) -> CycleGANWorkload:
    """The reference CycleGAN (``jaxgan.cyclegan`` + ``jaxgan.models.resnet_patchgan``): ResNet generators,
    70x70 PatchGANs, LSGAN + 10 x cycle + 5 x identity, image pools of 50, Adam(2e-4, b1 0.5).

    Data: ``4 x batch`` random images per domain in [-1, 1], contiguous batches, no crop or flip
    (the same on the PyTorch side). ``precision="bfloat16"`` passes the modules' own compute
    ``dtype``: parameters, optimizer states, instance-norm statistics, images out of G, logits and
    losses stay float32."""
    try:
        from jaxgan import cyclegan as cg
        from jaxgan.models.resnet_patchgan import PatchDiscriminator, ResnetGenerator
    except ImportError as err:
        raise WorkloadUnavailable(f"jaxgan/cyclegan.py or jaxgan/models/resnet_patchgan.py is not in this checkout ({err})") from None
    import jaxgan

    batch, size, width, blocks = sizes["batch_size"], sizes["image_size"], sizes["width"], sizes["res_blocks"]
    if size % 4:
        raise WorkloadUnavailable(f"CycleGAN images must be a multiple of 4 pixels, got {size}")
    channels, pool_size = 3, 50
    own_dtype = all(hasattr(m, "dtype") for m in (ResnetGenerator, PatchDiscriminator))
    if precision != "float32" and not own_dtype:
        # The generic mixed_precision wrapper cannot be used: the upsampling layer casts its input to
        # float32 and then meets a bfloat16 kernel.
        raise WorkloadUnavailable(f"{precision}: jaxgan.models.resnet_patchgan's modules have no compute dtype")
    extra = {"dtype": PRECISIONS[precision]} if own_dtype else {}
    extra["cpu_forms"] = jax.default_backend() == "cpu"  # the convolution forms fastest on XLA:CPU

    def net(module):
        return jaxgan.from_linen(module)

    model = cg.CycleGAN(
        generator_ab=net(ResnetGenerator(channels, width, blocks, **extra)),
        generator_ba=net(ResnetGenerator(channels, width, blocks, **extra)),
        discriminator_a=net(PatchDiscriminator(width, **extra)),
        discriminator_b=net(PatchDiscriminator(width, **extra)),
        g_optimizer=cg.make_optimizer(2e-4), d_optimizer=cg.make_optimizer(2e-4),
        objective="least_squares", lambda_cycle=10.0, lambda_identity=0.5, pool_size=pool_size,
    )
    key = jax.random.PRNGKey(seed)
    n = 4 * batch
    data = (_random_images(jax.random.fold_in(key, 0), n, size, channels),
            _random_images(jax.random.fold_in(key, 1), n, size, channels))

    def batch_fn(data, key, index):
        del key
        begin = (batch * index) % n
        idx = (begin + jnp.arange(batch)) % n
        return jnp.take(data[0], idx, axis=0), jnp.take(data[1], idx, axis=0)

    settings = {"batch_size": batch, "image_size": size, "g_features": width, "d_features": width,
                "res_blocks": blocks, "channels": channels, "lambda_cycle": 10.0, "lambda_identity": 0.5,
                "pool_size": pool_size}
    return CycleGANWorkload("cyclegan", model, batch_fn, data, batch, (size, size, channels),
                            key=jax.random.fold_in(key, 2), settings=settings)


def build_jax_workload(name: str, config: BenchConfig):
    """The workload ``name`` at ``config``'s sizes (:meth:`BenchConfig.sizes`), precision, seed and DCGAN
    layers, from jaxgan's own pieces; raises WorkloadUnavailable when its code is missing."""
    builder = {"toy": toy, "mixture": mixture, "dcgan": dcgan, "cyclegan": cyclegan}[name]
    extra = {"layers": DCGAN_LAYERS[config.dcgan_layers]} if name == "dcgan" else {}
    return builder(config.sizes(name), precision=config.precision, seed=config.seed, **extra)
