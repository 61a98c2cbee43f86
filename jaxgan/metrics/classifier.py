"""Judging image GANs with a small classifier instead of Inception (TF-GAN's ``mnist_score`` idea).

A :class:`SmallCNN` is trained on the real training split (:func:`train_classifier`, cached on disk
by :func:`get_classifier`). Its softmax gives the *classifier score* and its penultimate layer the
features for the *Frechet distance*; its predicted classes give the *class-histogram KL*:

* ``classifier_score(p) = exp(E_x KL(p(y|x) || p(y)))`` with ``p(y) = E_x p(y|x)`` - the
  Inception-score formula. Between 1 (every image gets the same prediction, or predictions are
  uniform) and the number of classes (confident predictions, classes used equally).
* ``frechet_distance(a, b) = ||mu_a - mu_b||^2 + tr(C_a + C_b - 2 (C_a C_b)^{1/2})`` between
  Gaussians fitted to two feature sets (the FID formula).
* ``class_histogram_kl = KL(h_gen || h_real)`` between the predicted-class histograms (mode dropping).
* precision, recall, density and coverage of the features (:func:`fidelity_and_diversity`, by
  :mod:`jaxgan.metrics.manifolds`): fidelity and diversity apart, where the Frechet distance
  mixes them.

Numbers are comparable only with the same classifier and layer: report them beside the real-data
floor (real held-out images against real training images, :func:`evaluate_images` on real data).

This module holds the classifier (training, caching, outputs) and the evaluation; the three
formulas are in :mod:`jaxgan.metrics.scores` (re-exported here).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, NamedTuple, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import traverse_util

from jaxgan.metrics.manifolds import DEFAULT_K, precision_recall_density_coverage
from jaxgan.metrics.scores import class_histogram_kl, classifier_score, frechet_distance

__all__ = [
    "DEFAULT_STEPS",
    "Classifier",
    "SmallCNN",
    "class_histogram_kl",
    "classifier_accuracy",
    "classifier_outputs",
    "classifier_score",
    "evaluate_images",
    "fidelity_and_diversity",
    "frechet_distance",
    "get_classifier",
    "load_classifier",
    "real_data_floor",
    "save_classifier",
    "shifted_copies",
    "train_classifier",
]


#: Training steps of the default classifier: enough for an accurate MNIST classifier with
#: confident softmaxes.
DEFAULT_STEPS = 1000


class SmallCNN(nn.Module):
    """The judging classifier: a small CNN that returns ``(logits, features)``.

    ``[conv3x3(f) -> ReLU -> 2x2 avg-pool]`` for each ``f`` in ``features`` (no pooling once a side
    is below 2), flatten, ``Dense(hidden) -> ReLU`` (the *features*), ``Dense(num_classes)`` (the
    *logits*). No BatchNorm or dropout: apply is a pure function of the params.

    Attributes:
      num_classes: the logits' width.
      features: the convolutions' channels.
      hidden: the features' width.
    """

    num_classes: int
    features: Sequence[int] = (32, 64)
    hidden: int = 128

    @nn.compact
    def __call__(self, x):
        for f in self.features:
            x = nn.relu(nn.Conv(f, (3, 3), padding="SAME")(x))
            if min(x.shape[-3:-1]) >= 2:
                x = nn.avg_pool(x, (2, 2), strides=(2, 2))
        x = x.reshape(x.shape[0], -1)
        features = nn.relu(nn.Dense(self.hidden)(x))
        return nn.Dense(self.num_classes)(features), features


class Classifier(NamedTuple):
    """A trained :class:`SmallCNN`: its params and the settings that rebuild the module.

    Attributes:
      params: the module's ``"params"`` collection (NumPy arrays).
      num_classes: number of classes.
      image_shape: ``(H, W, C)`` of the images it takes.
      features: :class:`SmallCNN`'s ``features``.
      hidden: :class:`SmallCNN`'s ``hidden``.
      module: the :class:`SmallCNN` these settings describe.
    """

    params: Any
    num_classes: int
    image_shape: tuple[int, int, int]
    features: tuple[int, ...] = (32, 64)
    hidden: int = 128

    @property
    def module(self) -> SmallCNN:
        """The :class:`SmallCNN` these settings describe."""
        return SmallCNN(self.num_classes, tuple(self.features), self.hidden)


# ----------------------------------------------------------------------------- training


def _check_images(images, image_shape=None, what="images") -> np.ndarray:
    images = np.asarray(images, np.float32)
    if images.ndim != 4:
        raise ValueError(f"{what}: expected [N, H, W, C], got shape {images.shape}")
    if image_shape is not None and tuple(images.shape[1:]) != tuple(image_shape):
        raise ValueError(f"{what}: shape {images.shape[1:]} differs from the classifier's {tuple(image_shape)}")
    if not np.isfinite(images).all():
        raise ValueError(f"{what}: contain NaN or infinite values")
    return images


def shifted_copies(images, labels, shifts: int) -> tuple[np.ndarray, np.ndarray]:
    """Returns the images with their copies moved by ``1..shifts`` pixels up, down, left and right.

    A copy moved by ``s`` pixels repeats its edge row or column into the ``s`` rows or columns it
    uncovers (``np.pad(mode="edge")``), so a background of any value stays the background. The
    result holds ``1 + 4 * shifts`` copies: the originals first, then for ``s = 1, 2, ...`` the
    moves down, up, right and left. ``shifts = 0`` returns the inputs.

    Args:
      images: ``[N, H, W, C]`` images.
      labels: ``[N]`` labels, repeated with their images.
      shifts: the largest move in pixels, ``>= 0``.

    Returns:
      ``(images [(1 + 4 * shifts) * N, H, W, C], labels [(1 + 4 * shifts) * N])``.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if shifts < 0:
        raise ValueError(f"shifts must be >= 0, got {shifts}")
    h, w = images.shape[1:3]
    padded = np.pad(images, ((0, 0), (shifts, shifts), (shifts, shifts), (0, 0)), mode="edge")
    copies = [images]
    for s in range(1, shifts + 1):
        for dy, dx in ((s, 0), (-s, 0), (0, s), (0, -s)):  # the content moves by (dy, dx)
            copies.append(padded[:, shifts - dy : shifts - dy + h, shifts - dx : shifts - dx + w])
    return np.concatenate(copies), np.tile(labels, len(copies))


@functools.lru_cache(maxsize=32)
def _jitted_train_step(num_classes: int, features: tuple[int, ...], hidden: int, learning_rate: float):
    module = SmallCNN(num_classes, features, hidden)
    optimizer = optax.adam(learning_rate)

    def loss_fn(params, x, y):
        logits, _ = module.apply({"params": params}, x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    def step(params, opt_state, images, labels, idx):
        loss, grads = jax.value_and_grad(loss_fn)(params, images[idx], labels[idx])
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return module, optimizer, jax.jit(step, donate_argnums=(0, 1))


def train_classifier(
    images,
    labels,
    num_classes: int,
    key: jax.Array,
    *,
    steps: int = DEFAULT_STEPS,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    features: Sequence[int] = (32, 64),
    hidden: int = 128,
    shifts: int = 0,
) -> Classifier:
    """Trains a :class:`SmallCNN` with Adam on softmax cross-entropy for ``steps`` steps.

    Step ``t`` uses batch ``b = t % m`` of epoch ``e = t // m`` (``m = n // batch_size``): the
    examples ``perm_e[b * batch_size : (b + 1) * batch_size]`` with
    ``perm_e = jax.random.permutation(fold_in(k, e), n)`` (``k`` split from ``key``). The number of
    steps, not of epochs, is what makes the classifier confident (and so the real-data score near
    the number of classes): small data sets get many epochs. The data live on the device.

    The steps run as one compiled step called from Python, not under ``lax.scan``: XLA:CPU runs
    convolution gradients inside a rolled ``scan``/``while`` loop many times slower
    (jax-ml/jax#12868).

    Args:
      images: ``[N, H, W, C]`` training images, finite.
      labels: ``[N]`` integer classes in ``[0, num_classes)``.
      num_classes: number of classes.
      key: PRNG key for the initialisation and the batch order.
      steps: training steps, at least 1.
      batch_size: examples per step (at most ``N``).
      learning_rate: Adam's step size.
      features: :class:`SmallCNN`'s ``features``.
      hidden: :class:`SmallCNN`'s ``hidden``.
      shifts: train on :func:`shifted_copies` of the data (``N * (1 + 4 * shifts)`` examples) so
        that a stroke a pixel off does not change the class; 0: the data as given.

    Returns:
      The trained :class:`Classifier`, its params on the host.

    Raises:
      ValueError: for images that are not ``[N, H, W, C]`` or not finite, labels of another length,
        ``steps < 1`` or ``shifts < 0``.
    """
    images = _check_images(images)
    labels = np.asarray(labels, np.int32)
    n = images.shape[0]
    if labels.shape != (n,):
        raise ValueError(f"{labels.shape} labels for {n} images")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    images, labels = shifted_copies(images, labels, shifts)
    n = images.shape[0]
    batch_size = min(batch_size, n)
    per_epoch = n // batch_size
    module, optimizer, step = _jitted_train_step(num_classes, tuple(features), hidden, float(learning_rate))
    init_key, order_key = jax.random.split(key)
    params = module.init(init_key, jnp.zeros((1, *images.shape[1:]), jnp.float32))["params"]
    opt_state = optimizer.init(params)
    x_all, y_all = jnp.asarray(images), jnp.asarray(labels)
    batches = None
    for t in range(steps):
        e, b = divmod(t, per_epoch)
        if b == 0:
            perm = jax.random.permutation(jax.random.fold_in(order_key, e), n)
            batches = perm[: per_epoch * batch_size].reshape(per_epoch, batch_size)
        params, opt_state, _ = step(params, opt_state, x_all, y_all, batches[b])
    return Classifier(jax.device_get(params), num_classes, tuple(images.shape[1:]), tuple(features), hidden)


@functools.lru_cache(maxsize=32)
def _jitted_outputs(num_classes: int, features: tuple[int, ...], hidden: int):
    module = SmallCNN(num_classes, features, hidden)

    def outputs(params, x):
        logits, feats = module.apply({"params": params}, x)
        return jax.nn.softmax(logits), feats

    return jax.jit(outputs)


def classifier_outputs(classifier: Classifier, images, batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Runs the classifier on ``images``: softmax probabilities and features.

    Runs in batches of ``min(batch_size, N)`` (the last one padded), so one compilation per shape.

    Args:
      classifier: a trained :class:`Classifier`.
      images: ``[N, H, W, C]`` images of the classifier's ``image_shape``, finite.
      batch_size: images per compiled call.

    Returns:
      ``(probs [N, K], features [N, hidden])`` as NumPy arrays.

    Raises:
      ValueError: for images of another shape or with non-finite values.
    """
    images = _check_images(images, classifier.image_shape)
    apply = _jitted_outputs(classifier.num_classes, tuple(classifier.features), classifier.hidden)
    n = images.shape[0]
    batch_size = max(1, min(batch_size, n))
    probs, feats = [], []
    for begin in range(0, n, batch_size):
        x = images[begin : begin + batch_size]
        m = x.shape[0]
        if m < batch_size:
            x = np.concatenate([x, np.zeros((batch_size - m, *x.shape[1:]), np.float32)])
        p, f = apply(classifier.params, x)
        probs.append(np.asarray(p)[:m])
        feats.append(np.asarray(f)[:m])
    return np.concatenate(probs), np.concatenate(feats)


def classifier_accuracy(classifier: Classifier, images, labels) -> float:
    """Computes the classifier's accuracy on labelled images.

    Args:
      classifier: a trained :class:`Classifier`.
      images: ``[N, H, W, C]`` images of the classifier's ``image_shape``.
      labels: ``[N]`` integer classes.

    Returns:
      The fraction of ``images`` whose arg-max class equals ``labels``.
    """
    probs, _ = classifier_outputs(classifier, images)
    return float(np.mean(probs.argmax(-1) == np.asarray(labels)))


# ----------------------------------------------------------------------------- caching


def save_classifier(path, classifier: Classifier) -> None:
    """Writes a classifier to one ``.npz`` file, atomically (temporary file, then rename).

    The params are stored under flattened ``params/a/b/c`` keys, the settings as JSON.

    Args:
      path: the file to write; its directory is created.
      classifier: the :class:`Classifier` to save.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    flat = {"/".join(k): np.asarray(v) for k, v in traverse_util.flatten_dict(classifier.params).items()}
    meta = {
        "num_classes": classifier.num_classes,
        "image_shape": list(classifier.image_shape),
        "features": list(classifier.features),
        "hidden": classifier.hidden,
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    os.close(fd)
    try:
        np.savez(tmp, __meta__=np.array(json.dumps(meta)), **{f"params/{k}": v for k, v in flat.items()})
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def load_classifier(path) -> Classifier:
    """Reads a classifier written by :func:`save_classifier`.

    Args:
      path: the ``.npz`` file.

    Returns:
      The :class:`Classifier`.
    """
    with np.load(path) as f:
        meta = json.loads(str(f["__meta__"]))
        flat = {tuple(k.split("/")[1:]): np.asarray(f[k]) for k in f.files if k.startswith("params/")}
    return Classifier(
        traverse_util.unflatten_dict(flat),
        int(meta["num_classes"]),
        tuple(meta["image_shape"]),
        tuple(meta["features"]),
        int(meta["hidden"]),
    )


def _fingerprint(images: np.ndarray, labels: np.ndarray, settings: dict) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(settings, sort_keys=True).encode())
    h.update(str(images.shape).encode())
    h.update(np.ascontiguousarray(images, np.float32).tobytes())
    h.update(np.ascontiguousarray(labels, np.int32).tobytes())
    return h.hexdigest()[:16]


def get_classifier(
    dataset,
    *,
    seed: int = 0,
    cache_dir=None,
    steps: int = DEFAULT_STEPS,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    features: Sequence[int] = (32, 64),
    hidden: int = 128,
    shifts: int = 0,
    verbose: bool = False,
) -> Classifier:
    """Returns the classifier of a labelled ``ImageDataset``, trained once and cached.

    It is trained on all of ``dataset``'s images and labels: pass the training split. The cache
    file is ``<cache_dir>/classifiers/<name>-<H>x<W>x<C>-<hash>.npz``, where the hash covers the
    images, the labels and every training setting (so changed data retrain). A cache file that
    cannot be read is retrained and overwritten.

    Args:
      dataset: an ``ImageDataset`` with ``labels`` and ``num_classes``.
      seed: seed of the training key.
      cache_dir: the cache's root (default ``jaxgan.data.images.default_cache_dir()``,
        ``~/.cache/jaxgan``).
      steps: as :func:`train_classifier`'s.
      batch_size: as :func:`train_classifier`'s.
      learning_rate: as :func:`train_classifier`'s.
      features: as :func:`train_classifier`'s.
      hidden: as :func:`train_classifier`'s.
      shifts: as :func:`train_classifier`'s.
      verbose: print a line when a classifier is trained.

    Returns:
      The :class:`Classifier`.

    Raises:
      ValueError: if the data set has no labels.
    """
    from jaxgan.data.images import default_cache_dir

    if dataset.labels is None or dataset.num_classes is None:
        raise ValueError(f"{dataset.name}: a classifier needs labels; this data set has none")
    settings = dict(
        seed=seed, steps=steps, batch_size=batch_size, learning_rate=learning_rate,
        features=list(features), hidden=hidden, num_classes=dataset.num_classes,
        **({"shifts": shifts} if shifts else {}),  # without shifts, the cache names of before
    )  # fmt: skip
    h, w, c = dataset.images.shape[1:]
    tag = _fingerprint(dataset.images, dataset.labels, settings)
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    path = root / "classifiers" / f"{dataset.name}-{h}x{w}x{c}-{tag}.npz"
    if path.is_file():
        try:
            return load_classifier(path)
        except Exception:  # a damaged cache entry: retrain and overwrite it
            pass
    if verbose:
        print(f"training the {dataset.name} classifier ({steps} steps) -> {path}")
    classifier = train_classifier(
        dataset.images, dataset.labels, dataset.num_classes, jax.random.key(seed),
        steps=steps, batch_size=batch_size, learning_rate=learning_rate, features=features, hidden=hidden,
        shifts=shifts,
    )  # fmt: skip
    save_classifier(path, classifier)
    return classifier


# ----------------------------------------------------------------------------- metrics


def evaluate_images(
    classifier: Classifier, generated, real_reference, *, splits: int = 1, batch_size: int = 1000
) -> dict[str, float]:
    """Judges generated images against real ones with the classifier's three metrics.

    The score is of ``generated`` alone; the Frechet distance is between the classifier features
    of the two sets; the class KL compares the classes the classifier predicts on each set (the real
    set's predictions rather than its labels, so that the classifier's errors cancel). Passing
    held-out real images as ``generated`` gives the real-data floor.

    Args:
      classifier: a trained :class:`Classifier`.
      generated: ``[N, H, W, C]`` images to judge.
      real_reference: ``[M, H, W, C]`` real images (e.g. the training split).
      splits: as :func:`classifier_score`'s.
      batch_size: as :func:`classifier_outputs`'s.

    Returns:
      ``{"classifier_score", "frechet_distance", "class_kl"}`` as floats.
    """
    probs_g, feats_g = classifier_outputs(classifier, generated, batch_size)
    probs_r, feats_r = classifier_outputs(classifier, real_reference, batch_size)
    return {
        "classifier_score": classifier_score(probs_g, splits),
        "frechet_distance": frechet_distance(feats_g, feats_r),
        "class_kl": class_histogram_kl(probs_g.argmax(-1), probs_r.argmax(-1), classifier.num_classes),
    }


def fidelity_and_diversity(
    classifier: Classifier, generated, real_reference, *, k: int = DEFAULT_K, batch_size: int = 1000
) -> dict[str, float]:
    """Computes precision, recall, density and coverage of generated images on the classifier's features.

    :func:`jaxgan.metrics.manifolds.precision_recall_density_coverage` of the features of
    ``real_reference`` (real) and ``generated`` (fake). Held-out real images as ``generated`` give
    the real-data floor (the numbers a perfect generator would get with these set sizes).

    Args:
      classifier: a trained :class:`Classifier`.
      generated: ``[M, H, W, C]`` images to judge, ``M > k``.
      real_reference: ``[N, H, W, C]`` real images, ``N > k`` (as many as ``generated``, ideally).
      k: the neighbour defining each feature's ball.
      batch_size: as :func:`classifier_outputs`'s.

    Returns:
      ``{"precision", "recall", "density", "coverage"}`` as floats.
    """
    feats_g = classifier_outputs(classifier, generated, batch_size)[1]
    feats_r = classifier_outputs(classifier, real_reference, batch_size)[1]
    result = precision_recall_density_coverage(feats_r, feats_g, k)
    return {name: float(value) for name, value in result.items()}


def real_data_floor(classifier: Classifier, heldout_real, train_real, *, splits: int = 1) -> dict[str, float]:
    """Computes the numbers a perfect generator would get: held-out real images judged as generated.

    Use the same ``train_real`` as the reference for the generated images.

    Args:
      classifier: a trained :class:`Classifier`.
      heldout_real: real images the classifier was not trained on.
      train_real: the real reference images.
      splits: as :func:`classifier_score`'s.

    Returns:
      ``{"real_classifier_score", "real_frechet_floor", "real_class_kl"}``: :func:`evaluate_images`'s
      three numbers under these names.
    """
    floor = evaluate_images(classifier, heldout_real, train_real, splits=splits)
    return {
        "real_classifier_score": floor["classifier_score"],
        "real_frechet_floor": floor["frechet_distance"],
        "real_class_kl": floor["class_kl"],
    }
