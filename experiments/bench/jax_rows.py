"""The JAX rows of the benchmark: each variant compiled and warmed up (:func:`prepare_jax`), then,
once timed, its row (:func:`jax_row`). ``config`` is :class:`experiments.bench.config.BenchConfig`; the
workloads and variants are :mod:`experiments.bench.jax_workloads`'.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from experiments.bench.rows import base_row, error_text, fill_throughput
from experiments.bench.timing import Prepared, Timing, estimate_iterations

__all__ = ["JaxVariant", "prepare_jax", "jax_row", "variant_label"]


class JaxVariant(NamedTuple):
    """One JAX variant of a workload: compiled and warmed up (``prepared``), or why not (``error``)."""

    name: str
    variant: object = None  # experiments.bench.jax_workloads.CompiledVariant
    prepared: Optional[Prepared] = None
    error: Optional[str] = None


def _prepare(variant, config, iterations: Optional[int]) -> Prepared:
    """Warm-up (one granule) and the iterations per timed call: ``iterations`` when given, else an
    estimate for ``--min-time``; a multiple of the variant's granule."""
    from experiments.bench.jax_workloads import round_up

    variant.run(variant.granule)
    if iterations is None:
        iterations = estimate_iterations(variant.run, variant.granule, config.min_time)
    return Prepared(variant.run, round_up(iterations, variant.granule))


def prepare_jax(workload, config, log=None) -> tuple[list[JaxVariant], Optional[float]]:
    """Compiles and warms up every selected JAX variant; returns them (in the workload's order) and
    XLA's FLOPs of one iteration (from ``fused``).

    ``fused`` is prepared first: its iterations per timed call set the scan chunk (about one timed
    call's iterations, 2..1000) unless ``--iterations`` gives it.
    """
    from experiments.bench.jax_workloads import scan_chunk

    iterations = config.iterations or (2 if config.quick else None)
    chunk = 2 if config.quick else (scan_chunk(iterations) if iterations else None)
    flops = None
    names = [n for n in workload.variant_names() if config.selected(workload.name, n)]
    prepared = {}
    for name in sorted(names, key=lambda n: n != "fused"):
        try:
            length = chunk or 100
            if name.startswith("vmap") and name.endswith("scan") and not config.quick:
                # N runs per call: on a CPU a call costs ~N times a single run's, on a GPU about the
                # same; 1/8 of the scan chunk keeps CPU calls short and GPU calls long enough.
                length = max(2, length // 8)
            variant = workload.compile_variant(name, length, config.unroll, compiler_options=config.xla_options)
            ready = _prepare(variant, config, iterations)
            prepared[name] = JaxVariant(name, variant, ready)
            if log:
                log(f"  jax {variant_label(name, config.unroll)}: compiled in {variant.compile_seconds:.1f} s, "
                    f"{ready.iterations} iterations per timed call")
            if name == "fused":
                flops = variant.flops
                chunk = chunk or scan_chunk(ready.iterations)
        except Exception as err:  # noqa: BLE001 - one failing variant must not hide the others
            prepared[name] = JaxVariant(name, error=error_text(err))
    return [prepared[name] for name in names], flops


def jax_row(workload, config, jv: JaxVariant, timing: Optional[Timing], flops: Optional[float]) -> dict:
    """The result row of a JAX variant from its timing (``None`` where it failed to prepare)."""
    row = base_row(workload.name, "jax", variant_label(jv.name, config.unroll, config.xla_option_set), workload.device,
                   config.precision, workload.batch_size, workload.settings, config.reduced(workload.name))
    if config.xla_option_set is not None:
        row["xla_options"] = config.xla_options
    if jv.error is not None:
        row["status"] = f"failed: {jv.error}"
    else:
        variant = jv.variant
        fill_throughput(row, timing.iterations_per_second * variant.runs, workload.images,
                        flops, workload.device_kind, config.precision)
        looped = jv.name.endswith(("scan", "kernel"))
        row.update(compile_seconds=variant.compile_seconds, runs=variant.runs,
                   iterations_per_call=timing.iterations, repeats=len(timing.seconds),
                   seconds=list(timing.seconds), spread=timing.spread, scan_chunk=variant.granule if looped else None)
    row["flops_per_iteration"] = flops
    return row


def variant_label(name: str, unroll: int, xla_option_set: Optional[str] = None) -> str:
    """The row's variant name: the scan variants carry their unroll when it is not 1 (``scan_unroll8``),
    and every variant its XLA option set when one is given (``scan+graphs_whole_loop``)."""
    label = f"{name}_unroll{unroll}" if name.endswith("scan") and unroll > 1 else name
    return label if xla_option_set is None else f"{label}+{xla_option_set}"
