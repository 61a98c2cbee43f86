"""The benchmark's settings: its workloads, their reference and ``--quick`` sizes, and :class:`BenchConfig`.

Shared by ``python -m experiments.benchmark`` (which fills a :class:`BenchConfig` from its command
line) and the probes of :mod:`experiments.bench` that study one workload the same way.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from experiments.runner import UserError

__all__ = [
    "DCGAN_LAYERS",
    "PRECISIONS",
    "QUICK",
    "QUICK_VARIANTS",
    "REFERENCE",
    "VARIANT_NAMES",
    "WORKLOADS",
    "BenchConfig",
]

WORKLOADS = ("toy", "mixture", "dcgan", "cyclegan")
PRECISIONS = ("float32", "bfloat16")

# Per workload: the reference sizes (the default) and the --quick sizes. None = not applicable.
REFERENCE = {
    "toy": dict(batch_size=32, seeds=64),
    "mixture": dict(batch_size=128, seeds=64),  # the mixture experiment's default recipe
    "dcgan": dict(batch_size=128, image_size=64, width=64),
    "cyclegan": dict(batch_size=1, image_size=256, width=64, res_blocks=9),
}
QUICK = {
    "toy": dict(batch_size=32, seeds=4),
    "mixture": dict(batch_size=16, seeds=2, width=16),
    "dcgan": dict(batch_size=4, image_size=16, width=8),
    "cyclegan": dict(batch_size=1, image_size=32, width=4, res_blocks=1),
}
# --quick times these variants only (compiling a CycleGAN step takes ~10 s of CPU on XLA:CPU);
# ``--variants all`` with --quick exercises every one.
QUICK_VARIANTS = {"toy": None, "mixture": ("fused",), "dcgan": ("fused",), "cyclegan": ("fused",)}
VARIANT_NAMES = ("steps", "fused", "scan", "vmap", "kernel")  # kernel: toy, float32, GPUs
# DCGAN's (upsample, downsample) layers (jaxgan.speedups.layers): "auto" = experiments.dcgan's default, by
# platform (jaxgan.speedups.layers.auto_layers: winograd on CPU, matmul elsewhere); "matmul" = every
# convolution a matrix product of patches; "conv" = XLA's convolutions (sub-pixel G); "transpose" =
# XLA's transposed convolution in G; "winograd" = Winograd's F(m x m, 2 x 2) (fastest on CPU).
DCGAN_LAYERS = {"auto": ("auto", "auto"), "matmul": ("matmul", "matmul"), "conv": ("subpixel", "conv"),
                "transpose": ("transpose", "conv"), "winograd": ("winograd", "winograd")}


@dataclasses.dataclass(frozen=True)
class BenchConfig:
    """What one benchmark run times: which workloads and variants, at which sizes, how, and where it writes."""

    workloads: tuple[str, ...] = WORKLOADS
    compare_torch: bool = False
    precision: str = "float32"
    batch_size: Optional[int] = None  # None: each workload's reference batch
    image_size: Optional[int] = None  # dcgan / cyclegan
    width: Optional[int] = None  # ngf = ndf (dcgan, cyclegan); hidden width (mixture)
    res_blocks: Optional[int] = None  # cyclegan
    seeds: Optional[int] = None  # runs under vmap (toy, mixture; dcgan when given)
    iterations: Optional[int] = None  # per timed call; None: enough for --min-time
    min_time: float = 1.0  # seconds per timed call (when --iterations is not given)
    repeats: int = 5
    interleave: bool = True  # time the variants' repeats round by round (False: one variant after another)
    quick: bool = False
    torch_compile: bool = True
    torch_compile_timeout: float = 900.0
    torch_threads: Optional[int] = None  # torch.set_num_threads (None: PyTorch's default, one per core)
    variants: Optional[tuple[str, ...]] = None  # None: all (--quick: QUICK_VARIANTS); "vmap" = vmapN_scan
    unroll: int = 1  # lax.scan unroll of the scan variants (rows named e.g. scan_unroll8 when > 1)
    dcgan_layers: str = "auto"  # DCGAN's G / D layers: see DCGAN_LAYERS
    xla_option_set: Optional[str] = None  # the JAX programs' XLA compiler options (experiments.bench.xla_options)
    xla_options: Optional[dict] = None
    seed: int = 0
    out: str = "runs/benchmark"

    def validate(self) -> None:
        """``UserError`` for settings that cannot run (and for ``--compare torch`` without PyTorch)."""
        unknown = [w for w in self.workloads if w not in WORKLOADS]
        if unknown:
            raise UserError(f"unknown workload {unknown[0]!r}; known: {', '.join(WORKLOADS)}, all")
        if self.dcgan_layers not in DCGAN_LAYERS:
            raise UserError(f"unknown --dcgan-layers {self.dcgan_layers!r}; known: {', '.join(DCGAN_LAYERS)}")
        if self.precision not in PRECISIONS:
            raise UserError(f"unknown precision {self.precision!r}; known: {', '.join(PRECISIONS)}")
        if self.image_size is not None and (self.image_size < 8 or self.image_size & (self.image_size - 1)):
            raise UserError(f"--image-size must be a power of two >= 8, got {self.image_size}")
        if self.compare_torch:
            try:
                import torch  # noqa: F401
            except ImportError:
                raise UserError("--compare torch needs PyTorch: pip install 'jaxgan[bench]' "
                                "(or pip install torch)") from None

    def sizes(self, workload: str) -> dict:
        """The workload's sizes: reference (or --quick) values overridden by the command line."""
        sizes = dict((QUICK if self.quick else REFERENCE)[workload])
        for name in ("batch_size", "image_size", "width", "res_blocks", "seeds"):
            value = getattr(self, name)
            # dcgan has no vmap variant unless --seeds asks for one (its per-run sizes stay the reference's)
            if value is not None and (name in sizes or name == "width" or (name == "seeds" and workload == "dcgan")):
                sizes[name] = value
        return sizes

    def selected(self, workload: str, variant: str) -> bool:
        """Whether ``variant`` (e.g. ``vmap64_scan``, matched as ``vmap``) of ``workload`` is timed."""
        chosen = self.variants
        if chosen is None and self.quick:
            chosen = QUICK_VARIANTS[workload]
        if chosen is None:
            return True
        if variant.endswith("kernel"):  # kernel, vmapN_kernel: both chosen as "kernel"
            return "kernel" in chosen
        return variant in chosen or (variant.startswith("vmap") and "vmap" in chosen)

    def reduced(self, workload: str) -> bool:
        """Whether the sizes differ from the reference setting."""
        ref = REFERENCE[workload]
        return any(self.sizes(workload).get(k, v) != v for k, v in ref.items())
