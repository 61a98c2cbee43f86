"""Seed-parallel mixture benchmark: ``--devices N`` splits the seeds over N devices, same numbers.

The multi-device run needs a process of its own (``XLA_FLAGS=--xla_force_host_platform_device_count=8``
is read when JAX starts), so one subprocess runs ``python -m experiments.mixture_gan``'s ``main``
twice on tiny settings, 8 seeds on 1 device and on 8 devices, and reports the samples, the
metrics and the layout of the trained states; the tests assert on that report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.device_env import device_env
from experiments import mixture_gan, runner

ROOT = Path(__file__).resolve().parents[3]
TOL = 1e-5
TINY = ["--dataset", "grid", "--seeds", "8", "--steps", "6", "--chunk-size", "3", "--batch-size", "16",
        "--eval-samples", "64", "--g-width", "8", "--g-depth", "2", "--d-width", "8", "--d-depth", "2",
        "--no-progress", "--no-plot", "--checkpoint-every", "0"]

# Runs in the 8-device subprocess: argv = [out_dir, *TINY]. Records, per device count, the layout of
# the trained states (spied from experiments.mixture_gan.train.train) and what main printed; then two
# user mistakes.
SCRIPT = r"""
import contextlib, io, json, sys
from pathlib import Path
import jax
from experiments.mixture_gan import __main__ as mixture_gan, train as training
from experiments.runner import run_cli as run_main, split_host_cpu

out, tiny = Path(sys.argv[1]), sys.argv[2:]
split = split_host_cpu(2)  # XLA_FLAGS fixes the count: must not override it
report = {"split_took_effect": split, "device_count": jax.device_count(), "layout": {}, "printed": {}}
train = training.train

def spy(config, recipe):
    trained = train(config, recipe)
    leaves = jax.tree.leaves(trained.result.state)
    report["layout"][str(config.devices)] = {
        "specs": sorted({str(tuple(x.sharding.spec)) for x in leaves}),
        "devices": sorted({len(x.sharding.device_set) for x in leaves}),
        "rows_per_device": sorted({s.data.shape[0] for x in leaves for s in x.addressable_shards}),
    }
    return trained

training.train = spy
for n in ("1", "8"):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert mixture_gan.main([*tiny, "--devices", n, "--out", str(out / f"d{n}")]) == 0
    report["printed"][n] = printed.getvalue()
report["errors"] = {}
for name, extra in {"seeds_6_devices_4": ["--seeds", "6", "--devices", "4"], "seeds_6_all": ["--seeds", "6"]}.items():
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = run_main(mixture_gan.PROG, mixture_gan.main, [*tiny, *extra, "--out", str(out / name)])
    report["errors"][name] = {"code": code, "stderr": err.getvalue(), "wrote": (out / name).exists()}
(out / "report.json").write_text(json.dumps(report))
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("mixture_sharding")
    env = device_env(8)
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(out), *TINY], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    report = json.loads((out / "report.json").read_text())
    results = {n: json.loads((out / f"d{n}" / "results.json").read_text()) for n in ("1", "8")}
    samples = {n: np.load(out / f"d{n}" / "samples.npy") for n in ("1", "8")}
    return report, results, samples


def test_eight_seeds_on_eight_devices_give_the_one_device_samples_and_metrics(run):
    report, results, samples = run
    assert report["device_count"] == 8
    assert results["1"]["devices"] == 1 and results["8"]["devices"] == 8
    assert samples["8"].shape == samples["1"].shape == (8, 64, 2)
    np.testing.assert_allclose(samples["8"], samples["1"], atol=TOL, rtol=0)
    assert not np.allclose(samples["8"][0], samples["8"][1])  # eight different runs, not one copied
    for one, many in zip(results["1"]["per_seed"], results["8"]["per_seed"]):
        assert many["modes"] == one["modes"] and many["counts"] == one["counts"]
        assert many["hq_percent"] == pytest.approx(one["hq_percent"], abs=TOL)
        np.testing.assert_allclose(many["reverse_kl"], one["reverse_kl"], atol=TOL, equal_nan=True)


def test_an_explicit_device_count_in_xla_flags_is_kept(run):
    assert run[0]["split_took_effect"] is False and run[0]["device_count"] == 8


def test_the_seed_axis_of_the_states_is_split_one_run_per_device(run):
    layout = run[0]["layout"]
    assert layout["8"] == {"specs": ["('data',)"], "devices": [8], "rows_per_device": [1]}
    assert layout["1"]["devices"] == [1] and layout["1"]["rows_per_device"] == [8]


def test_only_one_report_is_printed_per_run(run):
    printed = run[0]["printed"]
    for n in ("1", "8"):
        assert printed[n].count("PacGAN4") == 1 and printed[n].count("wrote ") == 1


def test_seeds_that_do_not_split_over_the_devices_are_a_one_line_error(run):
    errors = run[0]["errors"]
    for name, devices in (("seeds_6_devices_4", 4), ("seeds_6_all", 8)):
        e = errors[name]
        assert e["code"] == 2 and not e["wrote"]
        lines = e["stderr"].strip().splitlines()
        assert len(lines) == 1
        assert f"--seeds 6 does not split evenly over {devices} devices" in lines[0]


def test_the_device_count_is_not_part_of_the_checkpoint_identity():
    config = mixture_gan.MixtureConfig(dataset="ring", devices=8)
    recipe = config.resolved()
    one = mixture_gan.run_identity(mixture_gan.MixtureConfig(dataset="ring", devices=1), recipe)
    assert mixture_gan.run_identity(config, recipe) == one and "devices" not in one
    # while what does change the numbers is
    assert mixture_gan.run_identity(mixture_gan.MixtureConfig(dataset="ring", seeds=8), recipe) != one


@pytest.mark.parametrize("seeds, cores, expected", [(10, 2, 2), (10, 16, 10), (9, 2, 1), (8, 6, 4), (1, 2, 1), (7, 1, 1)])
def test_auto_cpu_devices_is_the_largest_divisor_of_the_seeds_within_the_cores(seeds, cores, expected):
    assert runner.auto_cpu_devices(seeds, cores) == expected


def test_split_host_cpu_sets_the_device_count_only_before_jax_starts():
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAX_NUM_CPU_DEVICES")}
    env["JAX_PLATFORMS"] = "cpu"
    code = ("from experiments.runner import split_host_cpu; import jax; first = split_host_cpu(3); "
            "n = jax.device_count(); print(first, n, split_host_cpu(2), jax.device_count())")
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["True", "3", "False", "3"]
