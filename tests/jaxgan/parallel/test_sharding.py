"""Data-parallel and seed-parallel training on 8 virtual CPU devices, and a two-process job.

This pytest process keeps its single device: the multi-device checks run in subprocesses
(``sharding_checks.py``, beside this file) with ``XLA_FLAGS=--xla_force_host_platform_device_count=N``, all
started at once by one fixture; the tests assert on the numbers they report.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.device_env import device_env as _env

CHECKS = Path(__file__).with_name("sharding_checks.py")
TOL = 1e-5
TIMEOUT = 900  # seconds; generous because the CPU is shared


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Starts the 8-device checks and a 2-process x 2-device job together; waits for all three."""
    out = tmp_path_factory.mktemp("sharding")
    mesh_json = out / "mesh.json"
    coordinator = f"localhost:{_free_port()}"
    procs = {
        "mesh": subprocess.Popen(
            [sys.executable, str(CHECKS), "mesh", str(mesh_json)],
            env=_env(8), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
    }
    for pid in range(2):
        procs[f"worker{pid}"] = subprocess.Popen(
            [sys.executable, str(CHECKS), "worker", str(out / f"worker{pid}.npz"), coordinator, "2", str(pid)],
            env=_env(2), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
    logs, codes = {}, {}
    for name, proc in procs.items():
        try:
            logs[name], _ = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            logs[name], _ = proc.communicate()
        codes[name] = proc.returncode
    return {"dir": out, "mesh_json": mesh_json, "logs": logs, "codes": codes}


@pytest.fixture(scope="module")
def mesh(runs):
    assert runs["codes"]["mesh"] == 0, runs["logs"]["mesh"][-3000:]
    return json.loads(runs["mesh_json"].read_text())


def test_mesh_has_eight_devices_with_explicit_axis_type(mesh):
    assert mesh["devices"] == 8 and mesh["mesh_size"] == 8
    assert mesh["axis_types"] == "(Auto,)"


def test_toy_gan_fit_on_eight_devices_equals_one_device(mesh):
    r = mesh["toy_fit"]
    assert r["max_state_diff"] <= TOL and r["max_metric_diff"] <= TOL
    assert r["state_replicated"] and r["state_on_mesh"]
    assert r["step"] == 12


def test_d_and_g_steps_on_sharded_batches_equal_one_device(mesh):
    r = mesh["toy_steps"]
    assert r["max_state_diff"] <= TOL and r["max_metric_diff"] <= TOL
    assert r["state_replicated"] and r["batch_split"] and r["tree_batch_split"]
    assert r["all_reduce_in_hlo"], "the compiled D step should all-reduce per-device partial gradients"


def test_dcgan_with_batchnorm_on_eight_devices_equals_one_device(mesh):
    r = mesh["dcgan_fit"]
    assert r["has_batch_stats"] and r["params_changed"] and r["batch_stats_changed"]
    assert r["max_params_diff"] <= TOL and r["max_batch_stats_diff"] <= TOL and r["max_state_diff"] <= TOL
    assert r["state_replicated"]


def test_batchnorm_statistics_are_over_the_global_batch(mesh):
    r = mesh["batchnorm"]
    assert r["global_vs_sharded"] <= TOL
    # per-device statistics (one shard's) would be visibly different: the check can fail
    assert r["global_vs_first_shard"] > 100 * TOL
    assert r["stats_replicated"] and r["logits_split"]


def test_cyclegan_on_eight_devices_equals_one_device(mesh):
    """Parameters, translations, metrics and image pools agree; the conv biases that instance
    normalisation cancels (true gradient 0, Adam steps on rounding noise) only within Adam's step
    bound (``sharding_checks.check_cyclegan``)."""
    r = mesh["cyclegan_fit"]
    assert r["params_changed"] and r["pool_filled"]
    assert r["max_param_diff"] <= TOL and r["max_translation_diff"] <= TOL
    assert r["max_metric_diff"] <= TOL and r["max_pool_diff"] <= TOL
    assert r["max_pre_norm_bias_diff"] <= r["adam_step_bound"]
    assert r["state_replicated"]


def test_seed_parallel_on_eight_devices_equals_plain_vmap(mesh):
    r = mesh["seed_parallel"]
    assert r["max_state_diff"] <= TOL and r["max_metric_diff"] <= TOL
    assert r["runs_split"] and r["runs_differ"]


def test_two_processes_end_with_identical_replicated_state(runs):
    logs = runs["logs"]
    unsupported = ("not implemented on the CPU backend", "collectives are not supported", "UNIMPLEMENTED")
    for name in ("worker0", "worker1"):
        if runs["codes"][name] != 0 and any(s in logs[name] for s in unsupported):
            pytest.skip(f"this jaxlib cannot run multi-process CPU collectives: {logs[name].strip().splitlines()[-1]}")
    for name in ("worker0", "worker1"):
        assert runs["codes"][name] == 0, logs[name][-3000:]
    w = [np.load(runs["dir"] / f"worker{i}.npz") for i in range(2)]
    for i in range(2):
        assert int(w[i]["process_index"]) == i and int(w[i]["process_count"]) == 2
        assert int(w[i]["global_devices"]) == 4
        assert bool(w[i]["replicated"])
        assert bool(w[i]["main"]) == (i == 0)
        assert int(w[i]["data_rows_here"]) == 256  # each process holds its half of the 512 rows
    leaves = sorted(k for k in w[0].files if k.startswith("arr_"))
    assert leaves and leaves == sorted(k for k in w[1].files if k.startswith("arr_"))
    for k in leaves:
        np.testing.assert_array_equal(w[0][k], w[1][k])
    # and it is the one-device result (computed by the 8-device subprocess on a single device)
    assert runs["codes"]["mesh"] == 0, logs["mesh"][-3000:]
    ref = np.load(str(runs["mesh_json"]) + ".worker_reference.npz")
    assert sorted(ref.files) == leaves
    for k in leaves:
        np.testing.assert_allclose(w[0][k], ref[k], rtol=0, atol=TOL)


# --- in-process: this process has one device ---------------------------------------------------


def test_process_rows_split_evenly_and_cover_everything():
    from jaxgan.parallel.hosts import process_rows

    rows = [process_rows(12, p, 3) for p in range(3)]
    assert [(s.start, s.stop) for s in rows] == [(0, 4), (4, 8), (8, 12)]
    with pytest.raises(ValueError, match="evenly"):
        process_rows(10, 0, 3)


def test_multi_process_environment_detection(monkeypatch):
    from jaxgan.parallel.hosts import requested_from_environment

    for name in list(os.environ):
        if name.startswith(("SLURM_", "OMPI_", "JAX_COORDINATOR")):
            monkeypatch.delenv(name)
    assert not requested_from_environment()
    slurm = {"SLURM_JOB_ID": "7", "SLURM_STEP_NODELIST": "n1", "SLURM_PROCID": "0", "SLURM_LOCALID": "0"}
    for k, v in slurm.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("SLURM_NTASKS", "1")
    assert not requested_from_environment()  # a one-task Slurm job is a single process
    monkeypatch.setenv("SLURM_NTASKS", "4")
    assert requested_from_environment()
    for k in [*slurm, "SLURM_NTASKS"]:
        monkeypatch.delenv(k)
    monkeypatch.setenv("JAX_COORDINATOR_ADDRESS", "host:1234")
    assert requested_from_environment()


def test_sharding_helpers_on_one_device_are_plain_placements():
    import jax
    import jax.numpy as jnp

    from jaxgan.parallel import sharding

    mesh = sharding.make_mesh()
    assert sharding.mesh_size(mesh) == jax.device_count() == 1
    x = jnp.arange(6.0).reshape(3, 2)
    assert sharding.is_replicated(sharding.replicate({"x": x}, mesh))
    np.testing.assert_array_equal(sharding.gather(sharding.shard_batch(x, mesh)), np.asarray(x))
    placed = sharding.place_dataset(np.asarray(x), mesh)  # one process: a copy on every device
    pair = jax.jit(lambda t: sharding.constrain_batch(t, mesh))((x, x[:1]))  # pytrees of batches
    np.testing.assert_array_equal(pair[0], x)
    assert placed.sharding.is_fully_replicated and placed.shape == x.shape
    with pytest.raises(ValueError, match="asked for 2 devices"):
        sharding.make_mesh(2)


def test_sharded_batch_fn_keeps_the_batch_functions_key_declaration():
    from jaxgan.parallel import sharding
    from jaxgan.data import contiguous_batches, random_batches

    mesh = sharding.make_mesh()
    for make in (contiguous_batches, random_batches):
        plain = make(4)
        wrapped = sharding.sharded_batch_fn(plain, mesh)
        assert getattr(wrapped, "uses_key", True) == getattr(plain, "uses_key", True)
