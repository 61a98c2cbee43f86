"""Device and multi-process flags shared by the experiments.

    add_device_args(parser)          # --devices N, --coordinator, --num-processes, --process-id
    args = parser.parse_args(argv)
    devices = setup_devices(args, global_batch=args.batch_size)

:func:`setup_devices` starts ``jax.distributed`` when the flags (or a Slurm / Open MPI / ``JAX_*``
environment, see :mod:`jaxgan.parallel.hosts`) ask for several processes, removes the three
multi-process flags from ``args`` (so that ``Config(**vars(args))`` keeps working), turns
``args.devices`` into a number (default: every device of every process) and checks that the global
batch splits evenly over it. Mistakes are :class:`~experiments.runner.cli.UserError` (one line, exit 2).
"""

from __future__ import annotations

import os
from typing import Optional

from experiments.runner.cli import UserError, nonnegative_int, positive_int

__all__ = [
    "add_device_args",
    "setup_devices",
    "check_splits_evenly",
    "DISTRIBUTED_FLAGS",
    "usable_cores",
    "auto_cpu_devices",
    "split_host_cpu",
]

DISTRIBUTED_FLAGS = ("coordinator", "num_processes", "process_id")


def add_device_args(parser) -> None:
    """Adds ``--devices`` and the multi-process flags to an argparse parser."""
    group = parser.add_argument_group("devices (see the README's sharding section)")
    group.add_argument(
        "--devices",
        type=positive_int,
        default=None,
        help="devices to split the batch (or the seeds) over, across all processes (default: all)",
    )
    group.add_argument("--coordinator", default=None, metavar="HOST:PORT", help="multi-process: process 0's address")
    group.add_argument("--num-processes", type=positive_int, default=None, help="multi-process: number of processes")
    group.add_argument("--process-id", type=nonnegative_int, default=None, help="multi-process: this process's id")


def check_splits_evenly(size: int, devices: int, flag: str) -> None:
    """``UserError`` unless ``size`` (given by ``flag``) is a multiple of ``devices``."""
    if size % devices:
        raise UserError(
            f"{flag} {size} does not split evenly over {devices} devices; "
            f"use a multiple of {devices} or pass --devices N with N dividing {size}"
        )


def _start_processes(coordinator, num_processes, process_id) -> None:
    from jaxgan.parallel import hosts as distributed

    given = [v is not None for v in (coordinator, num_processes, process_id)]
    if any(given) and not all(given):
        raise UserError("--coordinator, --num-processes and --process-id must be given together")
    if all(given) and process_id >= num_processes:
        raise UserError(f"--process-id {process_id} must be smaller than --num-processes {num_processes}")
    try:
        distributed.initialize(coordinator, num_processes, process_id)
    except (RuntimeError, ValueError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"could not start the multi-process job: {first_line}") from None


def setup_devices(args, *, global_batch: Optional[int] = None, batch_flag: str = "--batch-size") -> int:
    """Starts ``jax.distributed`` if asked, resolves ``args.devices`` and checks the global batch.

    Returns the number of devices (also left in ``args.devices``); the multi-process flags are
    removed from ``args``. ``global_batch`` is what gets split over the devices (the batch size for
    data-parallel training, the number of runs for seed-parallel training), named ``batch_flag``
    in error messages.
    """
    import jax

    _start_processes(*(getattr(args, name, None) for name in DISTRIBUTED_FLAGS))
    for name in DISTRIBUTED_FLAGS:
        if hasattr(args, name):
            delattr(args, name)
    available = jax.device_count()
    devices = available if args.devices is None else args.devices
    if devices > available:
        raise UserError(f"--devices {devices}: only {available} device(s) available ({jax.devices()[0].platform})")
    processes = jax.process_count()
    if devices % processes:
        raise UserError(f"--devices {devices} does not split evenly over {processes} processes")
    if global_batch is not None:
        check_splits_evenly(global_batch, devices, batch_flag)
    args.devices = devices
    return devices


# ------------------------------------------------------- one host CPU as several JAX devices


def usable_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def auto_cpu_devices(seeds: int, cores: int) -> int:
    """The largest ``d <= cores`` dividing ``seeds``: that many CPU devices, ``seeds / d`` runs each."""
    return max(d for d in range(1, max(1, min(cores, seeds)) + 1) if seeds % d == 0)


def split_host_cpu(count: int) -> bool:
    """Asks JAX for ``count`` CPU devices (``jax_num_cpu_devices``); True if that took effect.

    Must run before JAX starts its backends. It does nothing (False) when the backends are already
    running (e.g. inside a test process: their device count stays), when the environment already
    fixes the count (``XLA_FLAGS=--xla_force_host_platform_device_count``, ``JAX_NUM_CPU_DEVICES``),
    or for ``count < 1``. Only the CPU backend is affected; on a GPU machine ``--devices`` counts GPUs.
    """
    import jax

    if count < 1 or "JAX_NUM_CPU_DEVICES" in os.environ:
        return False
    if "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        return False
    try:
        jax.config.update("jax_num_cpu_devices", count)
    except RuntimeError:  # backends already initialised with another count
        return False
    return True
