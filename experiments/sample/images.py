"""Images of a DCGAN run: ``samples.npz`` (any number, in batches), ``samples.png`` and ``interpolation.png``.

The generator is the one the run sampled and was judged with (:func:`experiments.dcgan.make_sampling_generator`):
with ``--g-ema``, the average of G's weights with BatchNorm statistics recomputed for them; else G's
last iterate. G runs in evaluation mode, so an image depends on its own noise only. Image ``j``
draws its noise from ``fold_in(fold_in(PRNGKey(seed), 0), j)``: the images are a function of the
seed and their index, whatever the batch size, and the first 64 of ``samples.npz`` are those of
``samples.png``. Each batch is generated, turned into 8-bit pixels and written to the ``.npz``
before the next (:class:`~experiments.sample.npz_stream.NpzRowWriter`), so drawing 50,000 images
holds one batch in memory.

``interpolation.png``: each row is a straight line ``(1 - t) z_a + t z_b``, ``t`` from 0 to 1,
between two noise vectors drawn from ``fold_in(PRNGKey(seed), 1)`` (the figure of the DCGAN paper).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from experiments.runner import UserError
from experiments.sample.npz_stream import NpzRowWriter

__all__ = ["GRID", "dcgan_sampler", "interpolation_noise", "sample_images", "write_images"]

GRID = 64  # images in samples.png (an 8x8 grid)


def _restore_dcgan(run):
    """``(config, gan, state)`` of a DCGAN run: its networks for the channel count whose shapes the
    checkpoint holds (recorded in ``results.json``; for a run without one, grayscale or colour)."""
    import jax

    import jaxgan
    from experiments.dcgan.config import DCGANConfig
    from experiments.dcgan.model import build_gan
    from jaxgan.reliability.checkpoint import CheckpointMismatchError

    config = run.settings(DCGANConfig)
    if config.conditional is not None:
        raise UserError(f"the run in {run.path} is a class-conditional DCGAN (--conditional {config.conditional}); "
                        "sampling one from its directory is not supported: its samples.png has one row per class")  # fmt: skip
    recorded = (run.results or {}).get("channels")
    candidates = [recorded] if recorded else sorted({1, 3}, key=lambda c: c != config.channels)
    for i, channels in enumerate(candidates):
        gan = build_gan(config, channels)
        try:
            state = run.restore(jax.eval_shape(lambda: jaxgan.init_state(gan, jax.random.PRNGKey(0))))
        except CheckpointMismatchError:
            if i + 1 == len(candidates):
                raise
            continue
        return config, gan, state
    raise AssertionError("unreachable")


def dcgan_sampler(run, generator, batch_size: int):
    """``(generate, (params, stats), latent_dim)`` of a DCGAN run: ``generate(params, stats, z)`` is
    G in evaluation mode, ``batch_size`` images a call; ``generator`` "ema", "last" or ``None``
    (the average where the run kept one)."""
    from experiments.dcgan.model import make_generate, make_sampling_generator

    config, gan, state = _restore_dcgan(run)
    if generator == "ema" and config.g_ema == 0:
        raise UserError(f"--generator ema: the run in {run.path} trained without --g-ema, so it kept no average "
                        "of G's weights; leave --generator out (G's last iterate)")  # fmt: skip
    if generator == "last":
        weights = (state.g.params, state.g.stats)
    else:
        weights = make_sampling_generator(config, gan)(state)
    return make_generate(gan, batch_size), weights, config.latent_dim


def interpolation_noise(key, rows: int, steps: int, latent_dim: int):
    """``[rows * steps, latent_dim]``: row ``r`` runs in ``steps`` equal steps from ``z_a[r]`` to
    ``z_b[r]``, both ends included (``z_a``, ``z_b`` drawn from ``fold_in(key, 0)``, ``fold_in(key, 1)``)."""
    import jax
    import jax.numpy as jnp

    z_a = jax.random.normal(jax.random.fold_in(key, 0), (rows, latent_dim))
    z_b = jax.random.normal(jax.random.fold_in(key, 1), (rows, latent_dim))
    t = jnp.linspace(0.0, 1.0, steps)[None, :, None]
    return ((1.0 - t) * z_a[:, None] + t * z_b[:, None]).reshape(rows * steps, latent_dim)


def write_images(path: Path, generate, weights, key, num: int, batch_size: int, latent_dim: int) -> np.ndarray:
    """Generates ``num`` images batch by batch into ``path`` (``.npz``, array ``images``, uint8
    ``[num, H, W, C]``); returns the first :data:`GRID` of them as generated (in ``[-1, 1]``)."""
    import jax

    from jaxgan.data.unpaired import to_uint8

    draw = jax.vmap(lambda j: jax.random.normal(jax.random.fold_in(key, j), (latent_dim,)))
    noise = jax.jit(lambda start: draw(start + np.arange(batch_size)))  # one compiled draw for every batch
    batches = (generate(*weights, noise(start)[: min(num - start, batch_size)]) for start in range(0, num, batch_size))
    first = next(batches)
    grid = [first[:GRID]]
    with NpzRowWriter(path, "images", (num, *first.shape[1:]), np.uint8) as npz:
        npz.write(to_uint8(first))
        for images in batches:
            npz.write(to_uint8(images))
            if sum(map(len, grid)) < GRID:
                grid.append(images[: GRID - sum(map(len, grid))])
    return np.concatenate(grid)


def sample_images(run, options) -> list[Path]:
    """Draws ``options.num`` images of a DCGAN run and its interpolation grid; returns the files written."""
    import jax

    from experiments.dcgan.report import save_grid

    batch = min(options.batch_size, max(options.num, options.interpolations * options.interpolation_steps))
    generate, weights, latent_dim = dcgan_sampler(run, options.generator, batch)
    out = Path(options.out)
    key = jax.random.PRNGKey(options.seed)
    grid = write_images(out / "samples.npz", generate, weights, jax.random.fold_in(key, 0), options.num, batch,
                        latent_dim)  # fmt: skip
    save_grid(out / "samples.png", grid)
    files = [out / "samples.npz", out / "samples.png"]
    if options.interpolations:
        z = interpolation_noise(jax.random.fold_in(key, 1), options.interpolations, options.interpolation_steps,
                                latent_dim)  # fmt: skip
        save_grid(out / "interpolation.png", generate(*weights, z), ncol=options.interpolation_steps)
        files.append(out / "interpolation.png")
    return files
