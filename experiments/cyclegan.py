"""CycleGAN: unpaired translation, on a task whose right answer is known or on image folders.

    python -m experiments.cyclegan                                   # digits <-> thick-stroked digits
    python -m experiments.cyclegan --dataset mnist-thick --data-dir /path/to/mnist
    python -m experiments.cyclegan --dataset folder --data-dir datasets/horse2zebra   # reference setup
    python -m experiments.cyclegan --resume          # continue the run saved in --out

Known-answer tasks (``digits-<transform>``, ``mnist-<transform>``, see
``jaxgan.data.translation_tasks``): domain A = digits, domain B = ``T`` of other digits; evaluation
on held-out digits ``x`` measures ``|G_AB(x) - T(x)|``, ``|G_BA(T(x)) - x|`` (on a [0, 1] pixel
scale), the cycle errors and label preservation (a classifier trained on each domain reads the
translations). ``folder``: the reference's setting (``trainA/ trainB/ testA/ testB/``, load 286, crop
256, flips, ResNet-9 generators, 70x70 PatchGANs, batch 1); only the cycle error is measurable.
Losses and schedule are the reference's: LSGAN, cycle lambda 10, identity 0.5 lambda, pool 50,
Adam 2e-4 beta1 0.5, constant learning rate then linear decay to 0 (``--decay-steps``).

Runs survive (``experiments/lifecycle.py``): checkpoints of the whole state (four players, both
image pools, step, key) every ``--checkpoint-every`` steps and at the end, ``--resume`` to
``--steps`` in total (bit-exact), a save on SIGINT/SIGTERM, the divergence guard. ``--devices N``
trains data-parallel (state replicated, each batch split over the devices; see the README's
sharding section).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Optional

import numpy as np

from experiments.runner import (
    Parser,
    UserError,
    device_description,
    nonnegative_int,
    positive_float,
    positive_int,
    print_results,
    use_headless_matplotlib,
    write_json,
)
from experiments.runner import add_device_args, check_splits_evenly, setup_devices
from experiments.runner import TrainingLifecycle, add_lifecycle_args
from experiments.runner import run_main as run_lifecycle_main

PROG = "python -m experiments.cyclegan"

# Model and batch defaults: (known-answer tasks at 16x16, the reference's folder setting).
SMALL = dict(ngf=16, n_blocks=3, ndf=16, n_layers=2, batch_size=8)
REFERENCE = dict(ngf=64, n_blocks=9, ndf=64, n_layers=3, batch_size=1)


@dataclasses.dataclass(frozen=True)
class CycleGANConfig:
    dataset: str = "digits-thick"
    data_dir: Optional[str] = None
    image_size: int = 16  # known-answer tasks
    load_size: int = 286  # folder
    crop_size: int = 256  # folder
    steps: int = 4000
    decay_steps: Optional[int] = None  # default: the second half of the run (reference: 100 + 100 epochs)
    batch_size: Optional[int] = None
    ngf: Optional[int] = None
    n_blocks: Optional[int] = None
    ndf: Optional[int] = None
    n_layers: Optional[int] = None
    lr: float = 2e-4
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5
    pool_size: int = 50
    seed: int = 0
    classifier_steps: int = 1000  # training steps of each evaluation classifier (cached on disk)
    chunk_size: int = 100
    out: str = "runs/cyclegan"
    plot: bool = True
    progress: bool = True
    devices: Optional[int] = None  # data-parallel: each batch is split over this many devices (None: all)
    checkpoint_every: int = 1000  # see experiments/lifecycle.py
    keep_checkpoints: int = 3
    resume: bool = False

    @property
    def is_folder(self) -> bool:
        return self.dataset == "folder"

    def resolved(self) -> "CycleGANConfig":
        """Fills the ``None`` model/batch settings from ``REFERENCE`` (folder) or ``SMALL``."""
        defaults = REFERENCE if self.is_folder else SMALL
        filled = {k: v if getattr(self, k) is None else getattr(self, k) for k, v in defaults.items()}
        decay = self.steps // 2 if self.decay_steps is None else self.decay_steps
        return dataclasses.replace(self, decay_steps=decay, **filled)

    def validate(self) -> None:
        if self.decay_steps is not None and self.decay_steps > self.steps:
            raise UserError(f"--decay-steps {self.decay_steps} exceeds --steps {self.steps}")
        if self.crop_size > self.load_size:
            raise UserError(f"--crop-size {self.crop_size} exceeds --load-size {self.load_size}")
        size = self.crop_size if self.is_folder else self.image_size
        if size % 4:
            raise UserError(f"image size {size} must be a multiple of 4 (two 2x down/upsamplings)")
        if self.lambda_cycle < 0 or self.lambda_identity < 0:
            raise UserError("--lambda-cycle and --lambda-identity must be >= 0")


def load_data(config: CycleGANConfig):
    """``(train UnpairedData-like pair, test pair, task or None)``; data errors become UserError."""
    from jaxgan.data.images import DatasetError, to_unit_range
    from jaxgan.data.translation_tasks import load_translation_task
    from jaxgan.data.unpaired import load_unpaired_folder

    try:
        if config.is_folder:
            train = load_unpaired_folder(config.data_dir, "train", load_size=config.load_size)
            try:
                test = load_unpaired_folder(config.data_dir, "test", load_size=config.crop_size)
            except DatasetError:  # no test folders: evaluate on training images
                test = load_unpaired_folder(config.data_dir, "train", load_size=config.crop_size)
            return train, tuple(to_unit_range(x) for x in test), None
        task = load_translation_task(config.dataset, data_dir=config.data_dir, image_size=config.image_size, seed=config.seed)
    except DatasetError as e:
        raise UserError(str(e)) from None
    train = (task.train_a.images, task.train_b.images)
    return train, (task.test_a.images, task.test_b.images), task


def build_model(config: CycleGANConfig, channels_a: int, channels_b: int):
    """ResNet generators and PatchGANs (``jaxgan.models.resnet_patchgan``) in a ``jaxgan.cyclegan.CycleGAN``."""
    import jax

    from jaxgan.cyclegan import CycleGAN, make_optimizer
    from jaxgan.models.resnet_patchgan import PatchDiscriminator, ResnetGenerator, reference_network

    opt = make_optimizer(config.lr, config.steps - config.decay_steps, config.decay_steps)
    # The networks' one speed choice: on CPU, the convolution forms fastest there (the same function).
    cpu_forms = jax.default_backend() == "cpu"
    gen = lambda out: reference_network(ResnetGenerator(out, config.ngf, config.n_blocks, cpu_forms=cpu_forms))
    disc = lambda: reference_network(PatchDiscriminator(config.ndf, config.n_layers, cpu_forms=cpu_forms))
    return CycleGAN(gen(channels_b), gen(channels_a), disc(), disc(), opt, opt,
                    lambda_cycle=config.lambda_cycle, lambda_identity=config.lambda_identity,
                    pool_size=config.pool_size)  # fmt: skip


def translate_all(model, state, images_a, images_b, batch: int = 200) -> dict:
    """Translations and reconstructions of the test images in both directions (NumPy, [-1, 1])."""
    import jax

    from jaxgan.cyclegan import translate

    ab = jax.jit(lambda s, x: translate(model.generator_ab, s.g_ab, x))
    ba = jax.jit(lambda s, x: translate(model.generator_ba, s.g_ba, x))

    def run(fn, x):
        return np.concatenate([np.asarray(fn(state, x[i : i + batch])) for i in range(0, len(x), batch)])

    fake_b, fake_a = run(ab, images_a), run(ba, images_b)
    return {"fake_b": fake_b, "rec_a": run(ba, fake_b), "fake_a": fake_a, "rec_b": run(ab, fake_a)}


def mae01(x, y) -> float:
    """Mean absolute error on the [0, 1] pixel scale of images given in [-1, 1]."""
    return float(np.mean(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64))) / 2.0)


def evaluate(out: dict, test, task, seed: int, classifier_steps: int) -> dict:
    """Pixel, cycle and label metrics (module notes); label/pixel ones only on known-answer tasks."""
    test_a, test_b = test
    res = {"cycle_mae_a": mae01(out["rec_a"], test_a), "cycle_mae_b": mae01(out["rec_b"], test_b)}
    res["cycle_mae"] = (res["cycle_mae_a"] + res["cycle_mae_b"]) / 2
    res.update(pixel_mae_ab=None, pixel_mae_ba=None, label_acc_ab=None, label_acc_ba=None)
    if task is None:
        return res
    from jaxgan.metrics.classifier import classifier_accuracy, get_classifier

    labels = task.test_a.labels
    clf_a = get_classifier(task.classify_a, seed=seed, steps=classifier_steps, verbose=True)
    clf_b = get_classifier(task.classify_b, seed=seed, steps=classifier_steps, verbose=True)
    res.update(
        pixel_mae_ab=mae01(out["fake_b"], test_b),  # G_AB(x) vs T(x)
        pixel_mae_ba=mae01(out["fake_a"], test_a),  # G_BA(T(x)) vs x
        pixel_mae_identity=mae01(test_a, test_b),  # doing nothing: x vs T(x)
        label_acc_ab=classifier_accuracy(clf_b, out["fake_b"], labels),
        label_acc_ba=classifier_accuracy(clf_a, out["fake_a"], labels),
        label_acc_real_a=classifier_accuracy(clf_a, test_a, labels),  # the classifiers' own floors
        label_acc_real_b=classifier_accuracy(clf_b, test_b, labels),
    )
    return res


def train_and_evaluate(config: CycleGANConfig) -> dict:
    """Trains on ``config.dataset``, evaluates, writes ``results.json`` (and the figure); returns results."""
    config.validate()
    config = config.resolved()
    import jax
    import jax.numpy as jnp

    from jaxgan.parallel import sharding
    from jaxgan.cyclegan import build_train_step, data_parallel, init_cyclegan
    from jaxgan.data.unpaired import unpaired_batches
    from jaxgan.parallel.hosts import is_main_process

    train, test, task = load_data(config)
    for name, images in zip("AB", train):
        if len(images) < config.batch_size:
            raise UserError(f"domain {name} has {len(images)} training images, fewer than --batch-size {config.batch_size}")
    crop = config.crop_size if config.is_folder else None
    shape_a = (crop or train[0].shape[1], crop or train[0].shape[2], train[0].shape[3])
    shape_b = (crop or train[1].shape[1], crop or train[1].shape[2], train[1].shape[3])
    model = build_model(config, shape_a[-1], shape_b[-1])
    mesh = sharding.make_mesh(config.devices)  # data-parallel: state on every device, batches split
    check_splits_evenly(config.batch_size, sharding.mesh_size(mesh), "--batch-size")
    try:
        state = init_cyclegan(model, jax.random.PRNGKey(config.seed), shape_a, shape_b)
    except ValueError as e:
        raise UserError(str(e)) from None
    state = sharding.replicate(state, mesh)
    batch_fn = unpaired_batches(config.batch_size, crop_size=crop, flip=config.is_folder, seed=config.seed)
    train_step = build_train_step(data_parallel(model, mesh), sharding.sharded_batch_fn(batch_fn, mesh))
    data = tuple(sharding.place_dataset(jnp.asarray(x), mesh) for x in train)
    # checkpoints, --resume (to --steps in total: the schedule spans the run), SIGINT/SIGTERM,
    # divergence guard: experiments/lifecycle.py
    lifecycle = TrainingLifecycle.from_config(
        config, prog=PROG, module="experiments.cyclegan", exclude=("devices", "data_dir", "classifier_steps"),
        include=("steps",),
    )  # fmt: skip
    result = lifecycle.fit(train_step, state, data, config.steps, chunk_size=config.chunk_size,
                           progress=config.progress and is_main_process(), desc=f"CycleGAN {config.dataset}")  # fmt: skip
    out = translate_all(model, result.state, *test)
    steps_here = result.steps_done
    results = {
        "dataset": config.dataset,
        "steps": lifecycle.start_step + steps_here,
        **{k: getattr(config, k) for k in ("batch_size", "image_size", "ngf", "n_blocks", "ndf", "n_layers", "lr",
                                           "decay_steps", "lambda_cycle", "lambda_identity", "pool_size", "seed")},
        "image_shape": list(shape_a),
        **evaluate(out, test, task, config.seed, config.classifier_steps),
        "final_losses": {k: float(v[..., -1]) for k, v in result.metrics.items() if "loss" in k},
        "compile_seconds": result.compile_seconds,
        "train_seconds": result.train_seconds,
        "images_per_second": steps_here * config.batch_size / result.train_seconds if steps_here else 0.0,
        "resumed_from_step": lifecycle.start_step,
        "devices": sharding.mesh_size(mesh),
        "device": device_description(),
    }  # fmt: skip
    if not is_main_process():  # multi-host: process 0 writes the files
        return results
    outdir = Path(config.out)
    write_json(outdir / "results.json", results)
    if config.plot:
        plot_translations(outdir / "translations.png", test, out, task is not None, config.dataset)
    return results


def plot_translations(path: Path, test, out: dict, known: bool, title: str, n: int = 8) -> None:
    """Rows per direction: input, translation, [target T(x) or x,] reconstruction; n columns."""
    plt = use_headless_matplotlib()
    test_a, test_b = test
    rows = [("A: x", test_a), ("G_AB(x)", out["fake_b"])] + ([("target T(x)", test_b)] if known else [])
    rows += [("G_BA(G_AB(x))", out["rec_a"]), ("B: y", test_b), ("G_BA(y)", out["fake_a"])]
    rows += ([("target x", test_a)] if known else []) + [("G_AB(G_BA(y))", out["rec_b"])]
    n = min(n, len(test_a), len(test_b))
    fig, axes = plt.subplots(len(rows), n, figsize=(1.2 * n + 1.6, 1.2 * len(rows)), squeeze=False)
    for r, (label, images) in enumerate(rows):
        for c in range(n):
            ax = axes[r, c]
            img = (np.clip(images[c], -1, 1) + 1) / 2
            ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(f"CycleGAN, {title} (held-out images)", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def format_report(r: dict) -> str:
    f = lambda v: "n/a" if v is None else f"{v:.4f}"
    lines = [f"{r['dataset']}: {r['steps']} iterations of batch {r['batch_size']} on {r['device']}"]
    if r["pixel_mae_ab"] is not None:
        lines.append(f"pixel MAE [0,1]: G_AB(x) vs T(x) {f(r['pixel_mae_ab'])}, G_BA(T(x)) vs x {f(r['pixel_mae_ba'])} "
                     f"(doing nothing: {f(r['pixel_mae_identity'])})")  # fmt: skip
        lines.append(f"label preservation: A->B {r['label_acc_ab']:.1%}, B->A {r['label_acc_ba']:.1%} "
                     f"(classifiers on real test images: A {r['label_acc_real_a']:.1%}, B {r['label_acc_real_b']:.1%})")  # fmt: skip
    lines.append(f"cycle MAE [0,1]: {f(r['cycle_mae'])} (A {f(r['cycle_mae_a'])}, B {f(r['cycle_mae_b'])})")
    lines.append(f"compile {r['compile_seconds']:.1f} s, train {r['train_seconds']:.1f} s, "
                 f"{r['images_per_second']:.1f} images/s")  # fmt: skip
    return "\n".join(lines)


def parse_args(argv=None) -> CycleGANConfig:
    p = Parser(prog="python -m experiments.cyclegan", description=__doc__.split("\n\n")[0])
    d = CycleGANConfig()
    p.add_argument("--dataset", default=d.dataset, help="digits-<transform>, mnist-<transform> or folder")
    p.add_argument("--data-dir", default=d.data_dir, help="MNIST IDX files, or the folder with trainA/ trainB/ ...")
    p.add_argument("--image-size", type=positive_int, default=d.image_size, help="known-answer tasks: image side")
    p.add_argument("--load-size", type=positive_int, default=d.load_size, help="folder: images resized to this")
    p.add_argument("--crop-size", type=positive_int, default=d.crop_size, help="folder: random crops of this size")
    p.add_argument("--steps", type=positive_int, default=d.steps, help="iterations (generator step + discriminator step)")
    p.add_argument("--decay-steps", type=nonnegative_int, default=d.decay_steps,
                   help="final iterations of linear learning-rate decay to 0 (default: half of --steps)")
    p.add_argument("--batch-size", type=positive_int, default=d.batch_size, help="default 8 (tasks), 1 (folder)")
    p.add_argument("--ngf", type=positive_int, default=d.ngf, help="generator width (default 16 tasks, 64 folder)")
    p.add_argument("--n-blocks", type=nonnegative_int, default=d.n_blocks, help="residual blocks (3 tasks, 9 folder)")
    p.add_argument("--ndf", type=positive_int, default=d.ndf, help="discriminator width (16 tasks, 64 folder)")
    p.add_argument("--n-layers", type=positive_int, default=d.n_layers, help="PatchGAN stride-2 layers (2, 3)")
    p.add_argument("--lr", type=positive_float, default=d.lr)
    p.add_argument("--lambda-cycle", type=float, default=d.lambda_cycle)
    p.add_argument("--lambda-identity", type=float, default=d.lambda_identity)
    p.add_argument("--pool-size", type=nonnegative_int, default=d.pool_size)
    p.add_argument("--seed", type=nonnegative_int, default=d.seed)
    p.add_argument("--classifier-steps", type=positive_int, default=d.classifier_steps,
                   help="training steps of the evaluation classifiers (cached under ~/.cache/jaxgan)")
    p.add_argument("--chunk-size", type=positive_int, default=d.chunk_size, help="iterations per compiled scan chunk")
    p.add_argument("--out", default=d.out, help="output directory")
    p.add_argument("--no-plot", dest="plot", action="store_false")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    add_device_args(p)
    add_lifecycle_args(p, checkpoint_every=CycleGANConfig.checkpoint_every, keep_checkpoints=CycleGANConfig.keep_checkpoints)
    args = p.parse_args(argv)
    batch = args.batch_size or (REFERENCE if args.dataset == "folder" else SMALL)["batch_size"]
    setup_devices(args, global_batch=batch)  # starts jax.distributed if asked
    return CycleGANConfig(**vars(args))


def main(argv=None) -> int:
    t0 = time.perf_counter()
    config = parse_args(argv)
    results = train_and_evaluate(config)
    out = Path(config.out)
    files = [out / "results.json"] + ([out / "translations.png"] if config.plot else [])
    return print_results(results, format_report, files, t0)


if __name__ == "__main__":
    raise SystemExit(run_lifecycle_main(PROG, main))
