"""Forward + backward time of single convolution layers: XLA's forms against Winograd's F(m, r).

    python -m experiments.bench.conv_layers --model cyclegan --image-size 256
    python -m experiments.bench.conv_layers --model dcgan --batch-size 128

Each layer is written as the stride-1 VALID convolution the models run (stride-2 layers after
space-to-depth, transposed ones in sub-pixel form; ``jaxgan.speedups.layers``, ``jaxgan.models.resnet_patchgan``);
the time is ``jax.value_and_grad`` of ``sum(y^2)`` with respect to the input and the kernel,
median of ``--repeats`` after one warm-up: what the Winograd tile sizes are chosen by.
"""

from __future__ import annotations

import argparse


def layer_shapes(model: str, size: int, batch: int) -> list[tuple[str, tuple[int, int, int, int], int, int]]:
    """``(name, input [N, H, W, C], kernel side r, output channels)`` of each layer's stride-1 form."""
    if model == "cyclegan":  # ngf = ndf = 64; PatchGAN with 3 layers
        s = size
        return [("G down1 (3x3 s2)", (batch, s // 2 + 1, s // 2 + 1, 256), 2, 128),
                ("G down2 (3x3 s2)", (batch, s // 4 + 1, s // 4 + 1, 512), 2, 256),
                ("G residual 3x3", (batch, s // 4 + 2, s // 4 + 2, 256), 3, 256),
                ("G up1 (sub-pixel)", (batch, s // 4 + 1, s // 4 + 1, 256), 2, 512),
                ("G up2 (sub-pixel)", (batch, s // 2 + 1, s // 2 + 1, 128), 2, 256),
                ("D layer1 (4x4 s2)", (batch, s // 2 + 1, s // 2 + 1, 12), 2, 64),
                ("D layer2 (4x4 s2)", (batch, s // 4 + 1, s // 4 + 1, 256), 2, 128),
                ("D layer3 (4x4 s2)", (batch, s // 8 + 1, s // 8 + 1, 512), 2, 256),
                ("D layer4 (4x4 s1)", (batch, s // 8 + 2, s // 8 + 2, 256), 4, 512)]
    if model == "dcgan":  # the 64x64 reference, ngf = ndf = 64
        return [("D1 3->64", (batch, 33, 33, 12), 2, 64), ("D2 64->128", (batch, 17, 17, 256), 2, 128),
                ("D3 128->256", (batch, 9, 9, 512), 2, 256), ("D4 256->512", (batch, 5, 5, 1024), 2, 512),
                ("G1 512->256", (batch, 6, 6, 512), 2, 4 * 256), ("G2 256->128", (batch, 10, 10, 256), 2, 4 * 128),
                ("G3 128->64", (batch, 18, 18, 128), 2, 4 * 64), ("G4 64->3", (batch, 34, 34, 64), 2, 4 * 3)]
    raise ValueError(f"unknown model {model!r}")


def time_ms(fn, *args, repeats: int) -> float:
    """Median milliseconds of one call of ``jax.jit(fn)(*args)`` (:func:`experiments.bench.timing.time_runs`)."""
    import jax

    from experiments.bench.timing import time_runs

    compiled = jax.jit(fn)

    def run(n):
        for _ in range(n):
            jax.block_until_ready(compiled(*args))

    return time_runs(run, iterations=1, repeats=repeats).median_seconds * 1e3


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m experiments.bench.conv_layers", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=("cyclegan", "dcgan"), default="cyclegan")
    p.add_argument("--image-size", type=int, default=256, help="CycleGAN image side")
    p.add_argument("--batch-size", type=int, default=None, help="default: 1 (CycleGAN), 128 (DCGAN)")
    p.add_argument("--tiles", default="2,3,4", help="Winograd output tiles m to time")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)

    import jax
    import jax.numpy as jnp

    from jaxgan.speedups.layers import conv_matmul
    from jaxgan.speedups.translator_convs import conv_stride1
    from jaxgan.speedups.winograd import winograd_conv

    batch = args.batch_size or (1 if args.model == "cyclegan" else 128)
    tiles = [int(m) for m in args.tiles.split(",")]
    direct_name, direct = ("xla", lambda x, k: conv_stride1(x, k, ((0, 0), (0, 0))))
    if args.model == "dcgan":
        direct_name, direct = "patches", conv_matmul
    print(f"{'layer':22s} {'out':>4s} {'ch':>10s} {direct_name:>9s} " + " ".join(f"{'m=' + str(m):>8s}" for m in tiles))
    for name, shape, r, cout in layer_shapes(args.model, args.image_size, batch):
        x = jax.random.normal(jax.random.PRNGKey(0), shape)
        k = 0.02 * jax.random.normal(jax.random.PRNGKey(1), (r, r, shape[3], cout))
        forms = [direct] + [lambda x, k, m=m: winograd_conv(x, k, m) for m in tiles]
        ms = [time_ms(jax.value_and_grad(lambda x, k, f=f: jnp.sum(f(x, k) ** 2), (0, 1)), x, k, repeats=args.repeats)
              for f in forms]
        channels = f"{shape[3]}->{cout}"
        print(f"{name:22s} {shape[1] - r + 1:4d} {channels:>10s} " + " ".join(f"{t:8.1f}" for t in ms), flush=True)


if __name__ == "__main__":
    main()
