"""The benchmark harness: --quick end to end, equal work in PyTorch and JAX, and its small pieces."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

import jaxgan
from experiments import benchmark
from experiments.benchmark import __main__ as benchmark_cli
from experiments.bench.rows import add_ratios, base_row, fill_throughput
from experiments.bench.timing import peak_flops_per_second
from experiments.bench.torch_rows import torch_rows

REPO = Path(__file__).resolve().parents[3]
REQUIRED_FIELDS = (
    "workload", "framework", "variant", "device", "precision", "batch_size", "iterations_per_second",
    "images_per_second", "compile_seconds", "ratio_to_torch_eager",
)


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def test_quick_run_writes_well_formed_results(tmp_path):
    """--quick (no PyTorch) runs every workload, or says it is not available, and writes the rows.

    Run as the command it is, in a fresh process: --quick's XLA flags (faster compilation) only
    apply before JAX's backend starts."""
    proc = subprocess.run([sys.executable, "-m", "experiments.benchmark", "--quick", "--workload", "all",
                           "--out", str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads((tmp_path / "results.json").read_text())
    rows, unavailable = results["rows"], results["unavailable"]
    out = proc.stdout
    for item in unavailable:
        assert f"workload {item['workload']}: not available" in out
    covered = {r["workload"] for r in rows} | {u["workload"] for u in unavailable}
    assert covered == set(benchmark.WORKLOADS)
    assert "toy" in {r["workload"] for r in rows}  # the toy workload's code is always here
    for row in rows:
        assert all(field in row for field in REQUIRED_FIELDS), row
        assert row["status"] == "ok", row
        assert row["framework"] == "jax" and row["ratio_to_torch_eager"] is None
        assert row["iterations_per_second"] > 0 and math.isfinite(row["iterations_per_second"])
        assert len(row["seconds"]) == row["repeats"] == 1  # --quick: one timed call per variant
        assert row["runs"] * row["iterations_per_call"] / row["seconds"][0] == pytest.approx(row["iterations_per_second"])
        assert row["compile_seconds"] > 0
        if row["workload"] in ("dcgan", "cyclegan"):
            assert row["images_per_second"] == pytest.approx(row["iterations_per_second"] * row["batch_size"])
        else:
            assert row["images_per_second"] is None
        # XLA's cost analysis of one fused iteration, and the FLOP/s it implies
        assert row["flops_per_iteration"] > 0
        assert row["achieved_flops_per_second"] == pytest.approx(row["flops_per_iteration"] * row["iterations_per_second"])
    jax_toy = {r["variant"]: r for r in rows if r["workload"] == "toy"}
    seeds = benchmark.QUICK["toy"]["seeds"]
    # on a GPU the toy also trains as one Pallas kernel (jaxgan.speedups.toy_gan_kernel), alone and under vmap
    kernels = {"kernel", f"vmap{seeds}_kernel"} if jax.default_backend() == "gpu" else set()
    assert set(jax_toy) == {"steps", "fused", "scan", f"vmap{seeds}_scan"} | kernels
    assert jax_toy["scan"]["scan_chunk"] == 2 and jax_toy["steps"]["scan_chunk"] is None
    # DCGAN's default layers are experiments.dcgan's: "auto", resolved for the platform (CPU: Winograd)
    from jaxgan.speedups.layers import auto_layers

    dcgan_layers = {(r["settings"]["upsample"], r["settings"]["downsample"]) for r in rows if r["workload"] == "dcgan"}
    assert dcgan_layers == {auto_layers(jax.default_backend())}


def test_torch_rows_and_ratios_for_the_toy():
    """The in-process PyTorch path: eager timed like the JAX variants, ratios against it."""
    if not _torch_available():
        pytest.skip("PyTorch is not installed (pip install 'jaxgan[bench]')")
    from experiments.bench import workloads

    config = benchmark.BenchConfig(workloads=("toy",), compare_torch=True, quick=True, repeats=1,
                                   torch_compile=False)
    workload = workloads.toy(config.sizes("toy"))
    rows = torch_rows(workload, config, flops=1000.0)
    assert [r["variant"] for r in rows] == ["eager"] and rows[0]["status"] == "ok", rows
    jax_row = base_row("toy", "jax", "scan", "cpu", "float32", 32, {}, False)
    fill_throughput(jax_row, 3 * rows[0]["iterations_per_second"], False, 1000.0, "cpu", "float32")
    rows.append(jax_row)
    add_ratios(rows)
    assert rows[0]["ratio_to_torch_eager"] == pytest.approx(1.0)
    assert jax_row["ratio_to_torch_eager"] == pytest.approx(3.0)
    assert jax_row["achieved_flops_per_second"] == pytest.approx(1000.0 * jax_row["iterations_per_second"])
    assert jax_row["peak_fraction"] is None  # no peak known for a CPU


def test_interleaved_toy_run_gives_each_rounds_ratio_to_pytorch_eager():
    """``run_workload`` with PyTorch: the in-process rows are timed in the same rounds and carry the
    ratio of each round, computed from their own seconds."""
    if not _torch_available():
        pytest.skip("PyTorch is not installed (pip install 'jaxgan[bench]')")
    config = benchmark.BenchConfig(workloads=("toy",), compare_torch=True, quick=True, repeats=3,
                                   torch_compile=False, variants=("fused", "scan"))
    results = {"rows": [], "unavailable": []}
    benchmark.run_workload("toy", config, results, log=lambda *_: None)
    rows = {(r["framework"], r["variant"]): r for r in results["rows"]}
    eager = rows[("torch", "eager")]
    assert eager["interleaved"] and "ratio_to_torch_eager_rounds" not in eager  # 1.0 in every round
    eager_ips = [eager["iterations_per_call"] / s for s in eager["seconds"]]
    for key in (("jax", "fused"), ("jax", "scan")):
        r = rows[key]
        assert r["interleaved"] and len(r["seconds"]) == 3
        ips = [r["runs"] * r["iterations_per_call"] / s for s in r["seconds"]]
        assert r["ratio_to_torch_eager_rounds"] == pytest.approx([a / b for a, b in zip(ips, eager_ips)])


def test_torch_and_jax_toy_gans_do_the_same_work():
    """Same parameters and inputs: the same D loss, G loss and updated parameters, iteration by iteration."""
    if not _torch_available():
        pytest.skip("PyTorch is not installed (pip install 'jaxgan[bench]')")
    import torch

    from experiments.bench.torch_models import ToyTorch
    from experiments.toy_gan import ToyConfig, build_gan

    gan = build_gan(ToyConfig())
    state = jaxgan.init_state(gan, jax.random.PRNGKey(3))
    d_step, g_step = jax.jit(jaxgan.build_d_step(gan)), jax.jit(jaxgan.build_g_step(gan))
    model = ToyTorch(np.zeros((32, 2), np.float32), 32, device=torch.device("cpu"))
    model.load_jax_params(state.g.params, state.d.params)
    rng = np.random.default_rng(0)
    for _ in range(3):
        real = (rng.normal(size=(32, 2)) @ np.array([[1.0, 2.0], [-0.2, 0.5]]) + [2.0, 1.0]).astype(np.float32)
        z = rng.normal(size=(32, 2)).astype(np.float32)
        state, d_metrics = d_step(state, real, z)
        state, g_metrics = g_step(state, z)
        d_loss, g_loss = model.iteration(torch.from_numpy(real), torch.from_numpy(z))
        np.testing.assert_allclose(float(d_loss), float(d_metrics["d_loss"]), rtol=1e-5)
        np.testing.assert_allclose(float(g_loss), float(g_metrics["g_loss"]), rtol=1e-5)
    g = state.g.params["linear"]
    np.testing.assert_allclose(model.G.weight.detach().numpy(), np.asarray(g["kernel"]).T, atol=1e-5)
    np.testing.assert_allclose(model.G.bias.detach().numpy(), np.asarray(g["bias"]), atol=1e-5)
    linears = [m for m in model.D if isinstance(m, torch.nn.Linear)]
    for j, lin in enumerate(linears):
        np.testing.assert_allclose(lin.weight.detach().numpy(), np.asarray(state.d.params[f"Dense_{j}"]["kernel"]).T, atol=1e-5)


def test_peak_table_matches_device_names():
    assert peak_flops_per_second("NVIDIA H100 80GB HBM3", "bfloat16") == pytest.approx(989e12)
    assert peak_flops_per_second("NVIDIA H100 PCIe", "bfloat16") == pytest.approx(756e12)
    assert peak_flops_per_second("NVIDIA H200", "bfloat16") == pytest.approx(989e12)
    assert peak_flops_per_second("NVIDIA H200 NVL", "bfloat16") == pytest.approx(835e12)
    assert peak_flops_per_second("NVIDIA A100-SXM4-80GB", "float32") == pytest.approx(156e12)
    assert peak_flops_per_second("cpu", "bfloat16") is None
    assert peak_flops_per_second("TPU v4", "float32") is None


def test_bad_arguments_are_one_line_errors(capsys):
    with pytest.raises(SystemExit) as exc:
        benchmark.parse_args(["--workload", "nope"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nope" in err


@pytest.mark.parametrize("workload", ["dcgan", "cyclegan"])
def test_torch_twins_have_the_same_parameter_counts(workload):
    """The PyTorch DCGAN / CycleGAN twins hold exactly as many parameters as jaxgan's models
    (at the reference sizes; counted from shapes, nothing is compiled)."""
    if not _torch_available():
        pytest.skip("PyTorch is not installed (pip install 'jaxgan[bench]')")
    import jax.numpy as jnp

    from experiments.bench import torch_models as tm

    def jax_count(network, x):
        shapes = jax.eval_shape(lambda k: network.init(k, x)[0], jax.random.PRNGKey(0))
        return sum(math.prod(s.shape) for s in jax.tree.leaves(shapes))

    def torch_count(module):
        return sum(p.numel() for p in module.parameters())

    if workload == "dcgan":
        from jaxgan.models.dcgan import dcgan_networks

        g, d = dcgan_networks(64, 3)
        assert jax_count(g, jnp.zeros((1, 100))) == torch_count(tm.DCGANGeneratorTorch(64, 100, 64, 3)) == 3_576_704
        assert jax_count(d, jnp.zeros((1, 64, 64, 3))) == torch_count(tm.DCGANDiscriminatorTorch(64, 64, 3)) == 2_765_568
    else:
        from jaxgan.models.resnet_patchgan import PatchDiscriminator, ResnetGenerator

        x = jnp.zeros((1, 64, 64, 3))
        g = jaxgan.from_linen(ResnetGenerator(3, 64, 9))
        d = jaxgan.from_linen(PatchDiscriminator(64))
        assert jax_count(g, x) == torch_count(tm.ResnetGeneratorTorch(3, 64, 9))
        assert jax_count(d, x) == torch_count(tm.PatchDiscriminatorTorch(3, 64))


@pytest.mark.slow
def test_quick_run_of_every_variant(tmp_path):
    """--quick --variants all: every JAX variant of every workload compiles and runs."""
    assert benchmark_cli.main(["--quick", "--variants", "all", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert rows and all(r["status"] == "ok" for r in rows)
    for workload in {r["workload"] for r in rows}:
        variants = {r["variant"] for r in rows if r["workload"] == workload}
        assert {"steps", "fused", "scan"} <= variants


def test_flops_come_from_the_lowered_program_and_count_convolutions():
    """``traced_flops`` counts products and convolutions as written (2 FLOPs per multiply-add),
    which is what the benchmark asks for on every backend."""
    from experiments.bench.timing import traced_flops

    a, b = jax.numpy.ones((8, 16)), jax.numpy.ones((16, 4))
    assert traced_flops(jax.numpy.dot, a, b) == pytest.approx(2 * 8 * 16 * 4)
    x, w = jax.numpy.ones((2, 10, 10, 3)), jax.numpy.ones((3, 3, 3, 5))

    def conv(x, w):
        return jax.lax.conv_general_dilated(x, w, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))

    assert traced_flops(conv, x, w) == pytest.approx(2 * (2 * 8 * 8 * 5) * (3 * 3 * 3))


def test_flops_where_the_backend_cannot_analyse_a_lowered_program(monkeypatch):
    """JAX's GPU plugin raises on ``Lowered.cost_analysis`` (so ``xla_flops`` gives ``None``; an H200
    run printed no GFLOP/s): ``traced_flops`` then lowers the same function for the host CPU from the
    arguments' shapes, a PRNG key among them, and counts the same products."""
    from experiments.bench import timing

    a, b = jax.numpy.ones((8, 16)), jax.numpy.ones((16, 4))
    args = ({"a": a, "key": jax.random.key(0)}, b)
    shapes = timing.host_shapes(args)
    leaves = jax.tree.leaves(shapes)
    assert all(isinstance(leaf, jax.ShapeDtypeStruct) for leaf in leaves)
    assert {leaf.sharding.device_set.pop().platform for leaf in leaves} == {"cpu"}
    assert leaves[1].dtype == args[0]["key"].dtype  # a typed key stays a key

    def product(p, b):  # the key rides along unused (a returned key adds a custom call, counted -1 FLOP)
        return jax.numpy.dot(p["a"], b)

    real = timing.xla_flops
    programs = []

    def unavailable_first(program):
        programs.append(program)
        return None if len(programs) == 1 else real(program)

    monkeypatch.setattr(timing, "xla_flops", unavailable_first)
    assert timing.traced_flops(product, *args) == pytest.approx(2 * 8 * 16 * 4)
    assert len(programs) == 2


def test_unroll_and_dcgan_layers_options(tmp_path):
    """--unroll names the scan rows (scan_unroll4) and --dcgan-layers conv builds DCGAN with XLA's
    convolutions (sub-pixel G), recorded in the rows' settings."""
    out = tmp_path / "r"
    assert benchmark_cli.main(["--quick", "--workload", "dcgan", "--variants", "fused,scan", "--unroll", "4",
                           "--dcgan-layers", "conv", "--out", str(out)]) == 0
    # main's --quick flags for XLA must not leak into this process's environment (child processes
    # of later tests would compile at optimisation level 0 and round differently)
    assert "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", "")
    rows = json.loads((out / "results.json").read_text())["rows"]
    assert [r["variant"] for r in rows] == ["fused", "scan_unroll4"]
    assert all(r["status"] == "ok" for r in rows)
    assert {(r["settings"]["upsample"], r["settings"]["downsample"]) for r in rows} == {("subpixel", "conv")}
    with pytest.raises(SystemExit):
        benchmark.parse_args(["--dcgan-layers", "cuda"])


def test_dcgan_seeds_add_a_vmap_variant_of_that_many_runs(tmp_path):
    """DCGAN has no vmap row at its reference setting; --seeds N adds vmapN_scan (N runs of the same
    per-run sizes in one program, its throughput the sum over runs, its FLOPs N times one run's)."""
    assert "seeds" not in benchmark.BenchConfig(workloads=("dcgan",)).sizes("dcgan")
    config = benchmark.parse_args(["--quick", "--workload", "dcgan", "--seeds", "2", "--variants", "fused,vmap",
                                   "--out", str(tmp_path)])
    assert not benchmark.BenchConfig(workloads=("dcgan",), seeds=4).reduced("dcgan")  # the runs keep their sizes
    rows = benchmark.run_benchmark(config, log=lambda *a: None)["rows"]
    fused, vmapped = rows
    assert [fused["variant"], vmapped["variant"]] == ["fused", "vmap2_scan"] and vmapped["runs"] == 2
    assert vmapped["settings"]["seeds"] == 2 and vmapped["status"] == "ok"
    assert vmapped["achieved_flops_per_second"] == pytest.approx(fused["flops_per_iteration"] * vmapped["iterations_per_second"])


@pytest.mark.slow
def test_bfloat16_cyclegan_keeps_parameters_optimizer_state_and_losses_in_float32():
    """--precision bfloat16 for CycleGAN computes in bfloat16 through the models' own ``dtype``;
    parameters, optimizer states, pools and losses stay float32 (shapes and dtypes only: traced
    with ``jax.eval_shape``, nothing is compiled; tracing the step still takes ~10 s, hence slow)."""
    import jax.numpy as jnp

    from experiments.bench import workloads
    from jaxgan import cyclegan as cg

    sizes = dict(benchmark.QUICK["cyclegan"])
    workload = workloads.cyclegan(sizes, precision="bfloat16")
    step = cg.build_train_step(workload.model, workload.batch_fn)
    state0 = jax.eval_shape(lambda k: cg.init_cyclegan(workload.model, k, workload.image_shape, workload.image_shape),
                            workload.key)
    state1, metrics = jax.eval_shape(step, state0, workload.data)
    floats = [x for x in jax.tree.leaves((state0, state1)) if jnp.issubdtype(x.dtype, jnp.floating)]
    assert floats and all(x.dtype == jnp.float32 for x in floats)
    assert metrics and all(m.dtype == jnp.float32 for m in jax.tree.leaves(metrics))
    # ... while the networks really compute in bfloat16: the generator's jaxpr has bfloat16 values
    g = workload.model.generator_ab
    params = jax.eval_shape(lambda k: g.init(k, jnp.zeros((1,) + workload.image_shape))[0], workload.key)
    jaxpr = jax.make_jaxpr(lambda p, x: g.apply(p, {}, x, True)[0])(params, jnp.zeros((1,) + workload.image_shape))
    assert "bf16" in str(jaxpr)


@pytest.mark.parametrize("kernel,padding,cin,cout", [(7, 0, 8, 2), (4, 1, 12, 1)])
def test_cyclegan_few_output_convolution_equals_xla_convolution(kernel, padding, cin, cout):
    """CycleGAN's stride-1 layers with few outputs (the 7x7 head, the PatchGAN logits) take the
    output-side matrix product on CPU (a speed change of the benchmark's work): same values and
    gradients as XLA's convolution (one compiled function per case)."""
    import jax.numpy as jnp
    from jax import lax

    from jaxgan.speedups.translator_convs import conv2d, conv_output_side
    from jaxgan.speedups.output_side_conv import few_outputs

    rng = np.random.default_rng(kernel)
    x = jnp.asarray(rng.normal(size=(2, 9, 10, cin)), jnp.float32)
    w = jnp.asarray(rng.normal(size=(kernel, kernel, cin, cout)), jnp.float32)
    assert few_outputs(cin, cout)
    size = 9 + 2 * padding - kernel + 1, 10 + 2 * padding - kernel + 1
    ct = jnp.asarray(rng.normal(size=(2, *size, cout)), jnp.float32)

    def reference(x, w):
        return lax.conv_general_dilated(x, w, (1, 1), ((padding, padding),) * 2,
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))

    @jax.jit
    def both(x, w):
        xp = jnp.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
        grads = jax.grad(lambda x, w: jnp.sum(conv2d(x, w, 1, padding) * ct), (0, 1))(x, w)
        grads_ref = jax.grad(lambda x, w: jnp.sum(reference(x, w) * ct), (0, 1))(x, w)
        return conv_output_side(xp, w), conv2d(x, w, 1, padding), reference(x, w), grads, grads_ref

    y_side, y, y_ref, grads, grads_ref = both(x, w)
    np.testing.assert_allclose(y_side, y_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-5)
    for g, g_ref in zip(grads, grads_ref):
        np.testing.assert_allclose(g, g_ref, rtol=1e-5, atol=1e-4)


def test_loop_kernels_counts_the_kernels_of_the_compiled_loop_body(tmp_path):
    """``experiments.bench.loop_kernels`` counts the kernel-running operations of the ``while`` body
    by kind (bookkeeping left out), and for the toy's real program an unrolled body holds about
    twice the kernels of one step."""
    from experiments.bench import loop_kernels

    text = """HloModule m

%body.1 (p: (s32[], f32[4])) -> (s32[], f32[4]) {
  %p = (s32[], f32[4]{0}) parameter(0)
  %i = s32[] get-tuple-element(%p), index=0
  %f = f32[4]{0} fusion(%p), kind=kLoop, calls=%fused
  %c = f32[4]{0} custom-call(%f), custom_call_target="__cublas$gemm"
  %t = (f32[4]{0}, s32[]) fusion(%c, %i), kind=kInput, calls=%fused2
  %k = f32[4]{0} copy(%c)
  ROOT %r = (s32[], f32[4]{0}) tuple(%i, %k)
}

ENTRY %main (a: (s32[], f32[4])) -> (s32[], f32[4]) {
  %a = (s32[], f32[4]{0}) parameter(0)
  ROOT %w = (s32[], f32[4]{0}) while(%a), condition=%cond, body=%body.1
}
"""
    ops = loop_kernels.loop_body_ops(text)
    assert [name for _, name in ops] == ["%f", "%c", "%t", "%k"]
    assert loop_kernels.count_kinds(ops) == {"fusion:kLoop": 1, "custom-call:__cublas$gemm": 1,
                                             "fusion:kInput": 1, "copy": 1}
    with pytest.raises(ValueError, match="no while loop"):
        loop_kernels.loop_body_ops(text.replace("while(%a), condition=%cond, body=%body.1", "copy(%a)"))

    counts = {}
    for unroll in (1, 2):
        assert loop_kernels.main(["--unroll", str(unroll), "--out", str(tmp_path / str(unroll))]) == 0
        report = json.loads((tmp_path / str(unroll) / "loop_kernels.json").read_text())
        assert report["kernels_per_trip"] == sum(report["by_kind"].values())
        counts[unroll] = report["kernels_per_trip"]
    assert 20 < counts[1] and 1.5 * counts[1] < counts[2] <= 2 * counts[1]
