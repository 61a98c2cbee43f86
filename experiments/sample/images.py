"""Images of a DCGAN run: ``samples.npz`` (any number, in batches), ``samples.png`` and ``interpolation.png``.

The generator is the one the run sampled and was judged with (:func:`experiments.dcgan.make_sampling_generator`):
with ``--g-ema``, the average of G's weights with BatchNorm statistics recomputed for them; else G's
last iterate. G runs in evaluation mode, so an image depends on its own noise only. Image ``j``
draws its noise from ``fold_in(fold_in(PRNGKey(seed), 0), j)`` (:func:`jaxgan.gan.draw_noise` for a
batch of one): the images are a function of the seed and their index, whatever the batch size, and
the first 64 of ``samples.npz`` are those of ``samples.png``. Each batch is generated, turned into
8-bit pixels and written to the ``.npz`` before the next
(:class:`~experiments.sample.npz_stream.NpzRowWriter`), so drawing 50,000 images holds one batch in
memory.

``interpolation.png``: each row is a straight line ``(1 - t) z_a + t z_b``, ``t`` from 0 to 1,
between two noise vectors drawn from ``fold_in(PRNGKey(seed), 1)`` (the figure of the DCGAN paper).

**Class-conditional runs** (``experiments.dcgan --conditional``): G's input is ``(z, y)``. Image
``j``'s class is drawn from the run's class frequencies (the training images', which the run drew
G's labels from) with image ``j``'s key, as :func:`jaxgan.gan.draw_noise` draws it; with ``--class``
(classes ``C``) it is ``C[j mod len(C)]``, and its ``z`` is the same as without. The labels
(4 bytes an image) are drawn first and written whole as ``labels`` (int32 ``[num]``) in
``samples.npz``, before the images, which stream as above. ``samples.png`` has one row per class
(every class of the run, or those of ``--class``) and 8 columns, as the run's own grid: column ``c``
is image ``c``'s noise drawn as each row's class (:func:`experiments.dcgan.class_rows`). Each row of
``interpolation.png`` keeps one class, ``C[r mod len(C)]`` for row ``r``: by default one row per
class. The class frequencies are those the run recorded in its checkpoints; a run trained before
they were recorded has them counted again from its data (:func:`run_class_probs`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from experiments.runner import UserError
from experiments.sample.npz_stream import NpzRowWriter

__all__ = [
    "GRID",
    "GRID_COLUMNS",
    "dcgan_sampler",
    "drawn_classes",
    "image_labels",
    "image_noise",
    "interpolation_noise",
    "run_class_probs",
    "sample_images",
    "write_images",
]

GRID = 64  # images in samples.png (an 8x8 grid)
GRID_COLUMNS = 8  # a conditional run's samples.png: 8 noise vectors, a row per class


def run_class_probs(run, config) -> tuple[float, ...]:
    """The class frequencies a conditional DCGAN run drew G's labels from.

    Args:
      run: the run (:class:`~experiments.sample.run_dir.Run`).
      config: its :class:`~experiments.dcgan.DCGANConfig`.

    Returns:
      The frequencies its checkpoint recorded (``class_probs``); for a run trained before they were
      recorded, those of its training images counted again as the run counted them
      (:func:`experiments.dcgan.load_data`: its data set, split and held-out images, read from the
      default location).

    Raises:
      UserError: they were not recorded and the data cannot be read.
    """
    recorded = (run.extra or {}).get("class_probs")
    if recorded is not None:
        return tuple(float(p) for p in recorded)
    from experiments.dcgan.train import load_data
    from jaxgan.conditional import class_frequencies

    try:
        train_ds, _ = load_data(config)
    except UserError as err:
        raise UserError(f"the run in {run.path} did not record its class frequencies, and its data cannot be "
                        f"read again to count them: {err}") from None  # fmt: skip
    return class_frequencies(train_ds.labels, train_ds.num_classes)


def _restore_dcgan(run):
    """``(config, gan, state)`` of a DCGAN run: its networks for the channel count whose shapes the
    checkpoint holds (recorded in ``results.json``; for a run without one, grayscale or colour)."""
    import jax

    import jaxgan
    from experiments.dcgan.config import DCGANConfig
    from experiments.dcgan.model import build_gan
    from jaxgan.reliability.checkpoint import CheckpointMismatchError

    config = run.settings(DCGANConfig)
    class_probs = None if config.conditional is None else run_class_probs(run, config)
    recorded = (run.results or {}).get("channels")
    candidates = [recorded] if recorded else sorted({1, 3}, key=lambda c: c != config.channels)
    for i, channels in enumerate(candidates):
        gan = build_gan(config, channels, class_probs)
        try:
            state = run.restore(jax.eval_shape(lambda: jaxgan.init_state(gan, jax.random.PRNGKey(0))))
        except CheckpointMismatchError:
            if i + 1 == len(candidates):
                raise
            continue
        return config, gan, state
    raise AssertionError("unreachable")


def dcgan_sampler(run, generator):
    """``(gan, (params, stats))`` of a DCGAN run: its GAN and the weights of G that sample.

    Args:
      run: the run (:class:`~experiments.sample.run_dir.Run`).
      generator: "ema", "last" or ``None`` (the average of G's weights where the run kept one).

    Returns:
      The :class:`jaxgan.GAN` (conditional for a ``--conditional`` run) and G's parameters and
      BatchNorm statistics, for :func:`experiments.dcgan.make_generate`.
    """
    from experiments.dcgan.model import make_sampling_generator

    config, gan, state = _restore_dcgan(run)
    if generator == "ema" and config.g_ema == 0:
        raise UserError(f"--generator ema: the run in {run.path} trained without --g-ema, so it kept no average "
                        "of G's weights; leave --generator out (G's last iterate)")  # fmt: skip
    if generator == "last":
        return gan, (state.g.params, state.g.stats)
    return gan, make_sampling_generator(config, gan)(state)


def drawn_classes(gan, classes: Optional[tuple[int, ...]], run_path) -> tuple[int, ...]:
    """The classes a run's images are drawn as: those of ``--class``, else every class of a
    conditional run; ``()`` for an unconditional run.

    Raises:
      UserError: ``--class`` for an unconditional run, or a class the run does not have.
    """
    if gan.class_probs is None:
        if classes:
            raise UserError(f"--class: the run in {run_path} is an unconditional DCGAN (trained without "
                            "--conditional): it draws no classes; leave --class out")  # fmt: skip
        return ()
    k = gan.num_classes
    if classes is None:
        return tuple(range(k))
    outside = [c for c in classes if not 0 <= c < k]
    if outside:
        raise UserError(f"--class {outside[0]}: the run in {run_path} has {k} classes, 0 to {k - 1}")
    return tuple(classes)


def image_noise(gan, key, batch_size: int):
    """``noise(start)``: G's input for images ``start .. start + batch_size - 1``, one compiled draw.

    Image ``j``'s is :func:`jaxgan.gan.draw_noise` for a batch of one with the key ``fold_in(key, j)``:
    a function of ``key`` and ``j`` alone, whatever the batch. A conditional GAN's is ``(z, y)``
    with ``y`` drawn from its class frequencies; ``draw_noise`` given other labels ``y'`` from the
    same key draws ``(z, y')``, the same ``z``.

    Args:
      gan: the GAN.
      key: the images' key.
      batch_size: images per call.

    Returns:
      ``noise(start) -> z [batch_size, *latent_shape]``, or ``(z, y)`` for a conditional GAN.
    """
    import jax
    import jax.numpy as jnp

    from jaxgan.gan import draw_noise

    def rows(start):
        drawn = jax.vmap(lambda j: draw_noise(gan, jax.random.fold_in(key, j), 1))(start + jnp.arange(batch_size))
        return jax.tree.map(lambda a: a.reshape(batch_size, *a.shape[2:]), drawn)  # one row per image

    return jax.jit(rows)


def image_labels(noise, num: int, batch_size: int, classes: Optional[tuple[int, ...]] = None) -> np.ndarray:
    """The classes of a conditional GAN's images ``0 .. num - 1``, int32 ``[num]``.

    Args:
      noise: :func:`image_noise` of the GAN, ``batch_size`` images a call.
      num: how many images.
      batch_size: its images per call.
      classes: ``--class``: image ``j`` is of ``classes[j % len(classes)]``; ``None``: drawn as
        ``noise`` draws them (from the GAN's class frequencies, image ``j``'s with its own key).

    Returns:
      The labels.
    """
    if classes is not None:
        return np.asarray(classes, np.int32)[np.arange(num) % len(classes)]
    drawn = [np.asarray(noise(start)[1]) for start in range(0, num, batch_size)]
    return np.concatenate(drawn)[:num].astype(np.int32)


def interpolation_noise(key, rows: int, steps: int, latent_dim: int):
    """``[rows * steps, latent_dim]``: row ``r`` runs in ``steps`` equal steps from ``z_a[r]`` to
    ``z_b[r]``, both ends included (``z_a``, ``z_b`` drawn from ``fold_in(key, 0)``, ``fold_in(key, 1)``)."""
    import jax
    import jax.numpy as jnp

    z_a = jax.random.normal(jax.random.fold_in(key, 0), (rows, latent_dim))
    z_b = jax.random.normal(jax.random.fold_in(key, 1), (rows, latent_dim))
    t = jnp.linspace(0.0, 1.0, steps)[None, :, None]
    return ((1.0 - t) * z_a[:, None] + t * z_b[:, None]).reshape(rows * steps, latent_dim)


def write_images(path: Path, generate, weights, noise, num: int, batch_size: int, labels=None) -> np.ndarray:
    """Generates ``num`` images batch by batch into ``path``; returns the first :data:`GRID` of them
    as generated (in ``[-1, 1]``).

    Args:
      path: the ``.npz``: array ``images``, uint8 ``[num, H, W, C]``, and for a conditional G
        ``labels``, int32 ``[num]`` (written whole, first).
      generate: :func:`experiments.dcgan.make_generate` of the GAN.
      weights: G's ``(params, stats)``.
      noise: :func:`image_noise` of the GAN, ``batch_size`` images a call.
      num: how many images.
      batch_size: images per call.
      labels: a conditional G's labels of the images (:func:`image_labels`); ``None`` otherwise.

    Returns:
      The first :data:`GRID` images.
    """
    import jax

    from jaxgan.data.unpaired import to_uint8

    def inputs(start):
        z = noise(start)
        if labels is not None:  # draw_noise with the labels given: the same z, those labels
            z = (z[0], labels[start : start + batch_size])
        return jax.tree.map(lambda a: a[: min(num - start, batch_size)], z)

    batches = (generate(*weights, inputs(start)) for start in range(0, num, batch_size))
    first = next(batches)
    grid = [first[:GRID]]
    whole = None if labels is None else {"labels": np.asarray(labels, np.int32)}
    with NpzRowWriter(path, "images", (num, *first.shape[1:]), np.uint8, whole=whole) as npz:
        npz.write(to_uint8(first))
        for images in batches:
            npz.write(to_uint8(images))
            if sum(map(len, grid)) < GRID:
                grid.append(images[: GRID - sum(map(len, grid))])
    return np.concatenate(grid)


def sample_images(run, options) -> list[Path]:
    """Draws ``options.num`` images of a DCGAN run and its interpolation grid; returns the files written."""
    import jax
    import jax.numpy as jnp

    from experiments.dcgan.model import class_rows, make_generate
    from experiments.dcgan.report import save_grid

    gan, weights = dcgan_sampler(run, options.generator)
    classes = drawn_classes(gan, options.classes, run.path)
    rows = options.interpolations if options.interpolations is not None else (len(classes) or 8)
    steps = options.interpolation_steps
    batch = min(options.batch_size, max(options.num, rows * steps, len(classes) * GRID_COLUMNS))
    generate = make_generate(gan, batch)
    out = Path(options.out)
    key = jax.random.PRNGKey(options.seed)
    images_key = jax.random.fold_in(key, 0)
    noise = image_noise(gan, images_key, batch)
    labels = image_labels(noise, options.num, batch, options.classes) if classes else None
    first = write_images(out / "samples.npz", generate, weights, noise, options.num, batch, labels)
    if classes:  # a row per class: column c is image c's noise, drawn as each class
        z = np.concatenate([noise(start)[0] for start in range(0, GRID_COLUMNS, batch)])[:GRID_COLUMNS]
        save_grid(out / "samples.png", generate(*weights, class_rows(z, classes)), GRID_COLUMNS)
    else:
        save_grid(out / "samples.png", first)
    files = [out / "samples.npz", out / "samples.png"]
    if rows:
        z = interpolation_noise(jax.random.fold_in(key, 1), rows, steps, gan.latent_shape[0])
        if classes:  # row r keeps the class classes[r mod len(classes)] from end to end
            z = (z, jnp.repeat(jnp.asarray(classes, jnp.int32)[jnp.arange(rows) % len(classes)], steps))
        save_grid(out / "interpolation.png", generate(*weights, z), ncol=steps)
        files.append(out / "interpolation.png")
    return files
