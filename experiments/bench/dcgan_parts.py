"""Where a DCGAN training iteration spends its time: each layer, each network, each step.

    python -m experiments.bench.dcgan_parts --precision bfloat16              # the 64x64 reference, batch 128
    python -m experiments.bench.dcgan_parts --batch-size 8 --image-size 16 --width 8   # a smoke run

The benchmark's DCGAN row (``experiments.benchmark --workload dcgan``) gives one number, the fused
iteration's FLOP/s and its fraction of the chip's peak. This splits it: every convolution layer
alone (forward and backward, the gradients of the input and of the kernel, ``sum(y * c)`` with a
fixed random ``c``), G's and D's forward and forward + backward passes, the D step, the G step
and the fused iteration (:func:`jaxgan.steps.build_d_then_g_step`). Each part is one compiled
program, timed as ``--calls`` calls dispatched back to back and waited for once (the median of
``--repeats`` such timings, after one warm-up), so the time is the device's where a call is longer
than its dispatch. FLOPs come from XLA's count of the traced program
(:func:`experiments.bench.timing.traced_flops`); ``peak`` is the fraction of the chip's dense peak
at ``--precision`` (:data:`experiments.bench.timing.PEAKS`; none on CPUs). What the layers leave of
a step is BatchNorm, activations, the losses and Adam.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Callable

__all__ = ["layer_specs", "layer_parts", "d_on_real_and_fake", "network_parts", "measure", "main"]


def layer_specs(image_size: int, width: int, channels: int, latent_dim: int) -> list[tuple[str, str, tuple, int]]:
    """``(name, kind, input shape without the batch, output channels)`` of every convolution of the
    DCGAN of :mod:`jaxgan.models.dcgan`; ``kind`` is ``project`` (G's 4x4 projection of ``z``), ``up``
    (4x4 stride-2 transposed), ``down`` (4x4 stride-2) or ``logit`` (D's last, covering its 4x4 input)."""
    from jaxgan.models.dcgan import num_stages

    stages = num_stages(image_size)
    top = width * 2 ** (stages - 1)
    specs = [("G project", "project", (latent_dim,), top)]
    side, cin = 4, top
    for i in range(1, stages):
        specs.append((f"G up{i}", "up", (side, side, cin), cin // 2))
        side, cin = 2 * side, cin // 2
    specs.append((f"G up{stages} (image)", "up", (side, side, cin), channels))
    side, cin, cout = image_size, channels, width
    for i in range(stages):
        specs.append((f"D down{i}", "down", (side, side, cin), cout))
        side, cin, cout = side // 2, cout, 2 * cout
    specs.append(("D logit", "logit", (4, 4, cin), 1))
    return specs


def _layer_module(kind: str, features: int, layers: tuple[str, str], dtype):
    import flax.linen as nn

    from jaxgan.speedups.layers import DownsampleConv, ProjectConv, UpsampleConv, conv_covering_input

    if kind == "project":
        return ProjectConv(features, 4, dtype=dtype)
    if kind == "up":
        return UpsampleConv(features, layers[0], dtype=dtype)
    if kind == "down":
        return DownsampleConv(features, layers[1], dtype=dtype)

    class Logit(nn.Module):  # D's last layer, as DCGANDiscriminator computes it
        @nn.compact
        def __call__(self, x):
            kernel = self.param("logit", nn.initializers.normal(0.02), (*x.shape[1:], features))
            return conv_covering_input(x.astype(dtype), kernel.astype(dtype))

    return Logit()


def layer_parts(sizes: dict, layers: tuple[str, str], dtype, channels: int = 3, latent_dim: int = 100):
    """``[(name, fn, args)]``: each layer's forward + backward, ``fn(params, x, c)`` returning the
    gradients of ``sum(y * c)`` with respect to the input and the parameters."""
    import jax
    import jax.numpy as jnp

    batch = sizes["batch_size"]
    parts = []
    for i, (name, kind, shape, features) in enumerate(layer_specs(sizes["image_size"], sizes["width"], channels, latent_dim)):
        module = _layer_module(kind, features, layers, dtype)
        kx, kp, kc = jax.random.split(jax.random.PRNGKey(i), 3)
        x = jax.random.normal(kx, (batch, *shape), jnp.float32).astype(dtype)
        params = module.init(kp, x)
        c = jax.random.normal(kc, jax.eval_shape(module.apply, params, x).shape, jnp.float32)

        def loss(params, x, c, module=module):
            return jnp.sum(module.apply(params, x).astype(jnp.float32) * c)

        parts.append((name, jax.grad(loss, argnums=(0, 1)), (params, x, c)))
    return parts


def d_on_real_and_fake(d: Callable, params, real, fake, *, paired: bool):
    """``(d(params, real), d(params, fake))``: two calls, or (``paired``) ONE call under ``vmap`` over
    the pair, whose convolutions XLA runs on both batches at once while BatchNorm still normalises
    each batch by its own statistics: the same function, with half the kernels and products twice as
    tall. A probe of what the D step could gain (the step makes two calls)."""
    import jax
    import jax.numpy as jnp

    if paired:
        both = jax.vmap(d, in_axes=(None, 0))(params, jnp.stack([real, fake.astype(real.dtype)]))
        return both[0], both[1]
    return d(params, real), d(params, fake)


def network_parts(workload):
    """``[(name, fn, args)]``: G's and D's passes and the three steps of ``workload``
    (:func:`experiments.bench.workloads.dcgan`), on its initial state and first batch."""
    import jax
    import jax.numpy as jnp

    from jaxgan.steps import build_d_step, build_d_then_g_step, build_g_step

    gan, state = workload.gan, workload.init_state()
    real = workload.batch_fn(workload.data, None, 0)
    z = jax.random.normal(jax.random.PRNGKey(1), (workload.batch_size, *gan.latent_shape))
    g = lambda p, z: gan.generator.apply(p, state.g.stats, z, True)[0]
    d = lambda p, x: gan.discriminator.apply(p, state.d.stats, x, True)[0]
    fake = jax.jit(g)(state.g.params, z)
    g_back = jax.grad(lambda p, z: jnp.sum(g(p, z).astype(jnp.float32) * fake))
    d_back = jax.grad(lambda p, x: jnp.sum(d(p, x).astype(jnp.float32)), argnums=(0, 1))
    pair_loss = lambda logits: jnp.sum(logits[0].astype(jnp.float32)) - jnp.sum(logits[1].astype(jnp.float32))  # noqa: E731
    two_back = jax.grad(lambda p, r, f: pair_loss(d_on_real_and_fake(d, p, r, f, paired=False)))
    paired_back = jax.grad(lambda p, r, f: pair_loss(d_on_real_and_fake(d, p, r, f, paired=True)))
    return [
        ("G forward", g, (state.g.params, z)),
        ("G forward + backward", g_back, (state.g.params, z)),
        ("D forward", d, (state.d.params, real)),
        ("D forward + backward (params, input)", d_back, (state.d.params, real)),
        ("D on real and fake, two calls: forward + backward (params)", two_back, (state.d.params, real, fake)),
        ("D on real and fake, one vmapped call: forward + backward (params)", paired_back, (state.d.params, real, fake)),
        ("D step (G forward, D on real and fake, Adam)", build_d_step(gan), (state, real, z)),
        ("G step (G and D forward + backward, Adam)", build_g_step(gan), (state, z)),
        ("fused iteration (D step, then G step on the same G(z))", build_d_then_g_step(gan), (state, real, z)),
    ]


def measure(name: str, fn: Callable, args: tuple, *, calls: int, repeats: int, peak) -> dict:
    """Compiles ``fn``, times ``calls`` back-to-back calls ``repeats`` times, counts its FLOPs."""
    import jax

    from experiments.bench.timing import traced_flops

    compiled = jax.jit(fn)
    t0 = time.perf_counter()
    jax.block_until_ready(compiled(*args))
    compile_s = time.perf_counter() - t0
    seconds = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = [compiled(*args) for _ in range(calls)]
        jax.block_until_ready(out)
        seconds.append((time.perf_counter() - t0) / calls)
    ms = 1e3 * statistics.median(seconds)
    flops = traced_flops(fn, *args)
    rate = None if flops is None else flops / (ms / 1e3)
    return {"part": name, "ms": ms, "ms_min": 1e3 * min(seconds), "compile_seconds": compile_s, "gflop": None if flops is None else flops / 1e9,
            "tflops_per_second": None if rate is None else rate / 1e12,
            "fraction_of_peak": None if rate is None or peak is None else rate / peak}


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(prog="python -m experiments.bench.dcgan_parts", description=__doc__.split("\n")[0])
    p.add_argument("--precision", choices=("float32", "bfloat16"), default="float32")
    p.add_argument("--dcgan-layers", default="auto", help="the benchmark's --dcgan-layers (auto, matmul, conv, transpose, winograd)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--width", type=int, default=64, help="ngf = ndf")
    p.add_argument("--calls", type=int, default=10, help="calls per timing")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", default=None, help="write <out>/dcgan_parts.json")
    args = p.parse_args(argv)

    import jax
    import jax.numpy as jnp

    from experiments.bench.timing import peak_flops_per_second
    from experiments.bench.workloads import dcgan
    from experiments.bench.config import DCGAN_LAYERS
    from experiments.runner import device_description, write_json

    if args.dcgan_layers not in DCGAN_LAYERS:
        p.error(f"--dcgan-layers must be one of {', '.join(DCGAN_LAYERS)}")
    sizes = {"batch_size": args.batch_size, "image_size": args.image_size, "width": args.width}
    workload = dcgan(sizes, precision=args.precision, layers=DCGAN_LAYERS[args.dcgan_layers])
    layers = (workload.settings["upsample"], workload.settings["downsample"])
    dtype = jnp.bfloat16 if args.precision == "bfloat16" else jnp.float32
    peak = peak_flops_per_second(jax.devices()[0].device_kind, args.precision)
    print(f"{device_description()}, jax {jax.__version__}; DCGAN {args.image_size}x{args.image_size}, batch "
          f"{args.batch_size}, width {args.width}, {args.precision}, layers {layers[0]} / {layers[1]}; "
          f"peak {'unknown' if peak is None else f'{peak / 1e12:.0f} TFLOP/s'}")
    print(f"{'part':<56} {'ms':>8} {'GFLOP':>8} {'TFLOP/s':>8} {'peak':>6}")
    rows = []
    for name, fn, fargs in layer_parts(sizes, layers, dtype) + network_parts(workload):
        row = measure(name, fn, fargs, calls=args.calls, repeats=args.repeats, peak=peak)
        rows.append(row)
        fmt = lambda v, f, scale=1: "-" if v is None else format(scale * v, f)
        print(f"{name:<56} {row['ms']:>8.3f} {fmt(row['gflop'], '8.2f'):>8} {fmt(row['tflops_per_second'], '8.2f'):>8} "
              f"{fmt(row['fraction_of_peak'], '5.1%'):>6}", flush=True)
    if args.out:
        write_json(Path(args.out) / "dcgan_parts.json", {"device": device_description(), "jax": jax.__version__,
                                                         "settings": {**vars(args), "layers": layers}, "rows": rows})
    return rows


if __name__ == "__main__":
    main()
