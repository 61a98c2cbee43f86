"""The environment of a test subprocess that sees ``N`` virtual CPU devices and no multi-process job."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def device_env(devices: int) -> dict:
    """``os.environ`` plus ``--xla_force_host_platform_device_count=devices``, CPU only, the repository
    on ``PYTHONPATH``, and without the ``JAX_*`` variables that would start ``jax.distributed``."""
    env = dict(os.environ)
    env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={devices}".strip()
    env["JAX_PLATFORMS"] = "cpu"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    for name in ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID"):
        env.pop(name, None)
    return env
