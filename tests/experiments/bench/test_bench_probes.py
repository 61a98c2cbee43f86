"""The probes that study one training loop: XLA option sets (experiments.bench.xla_options) and the
kernel-by-kernel device trace (experiments.bench.device_trace). Run on CPU at the benchmark's
--quick sizes; their GPU use is in experiments/bench/gpu.sh."""

import json

import jax
import jax.numpy as jnp
import pytest

from experiments.bench import device_trace, xla_options
from experiments.bench.device_trace import Kernel, busy_nanoseconds, category, summarise
from experiments.bench.xla_options import GPU_OPTION_SETS, parse_option_set, state_difference


def test_option_sets_parse_presets_and_typed_values():
    assert parse_option_set("graphs_while") == ("graphs_while", GPU_OPTION_SETS["graphs_while"])
    name, options = parse_option_set("mine=xla_gpu_graph_min_graph_size=1;xla_gpu_enable_triton_gemm=false;"
                                     "xla_gpu_enable_command_buffer=FUSION,WHILE")
    assert name == "mine"
    assert options == {"xla_gpu_graph_min_graph_size": 1, "xla_gpu_enable_triton_gemm": False,
                       "xla_gpu_enable_command_buffer": "FUSION,WHILE"}
    assert parse_option_set("off=xla_gpu_enable_command_buffer=") == ("off", {"xla_gpu_enable_command_buffer": ""})
    with pytest.raises(ValueError, match="unknown option set"):
        parse_option_set("no_such_preset")
    with pytest.raises(ValueError, match="not key=value"):
        parse_option_set("x=just_a_key")


def test_every_gpu_preset_is_an_option_this_xla_accepts():
    """XLA:CPU checks the names and enum values of GPU options too (and ignores them), so a typo in
    a preset fails here, not on a lent GPU."""

    lowered = jax.jit(lambda a: a * 2).lower(1.0)
    for name, options in GPU_OPTION_SETS.items():
        assert float(lowered.compile(compiler_options=options)(3.0)) == 6.0, name
    with pytest.raises(Exception, match="not a valid enum value"):
        lowered.compile(compiler_options={"xla_gpu_enable_command_buffer": "FUSION,NOT_A_TYPE"})


def test_state_difference_is_relative_to_each_leaf_and_skips_integers():
    ref = {"w": jnp.array([1.0, -4.0]), "b": jnp.array([0.5]), "count": jnp.array(3)}
    assert state_difference(ref, ref) == 0.0
    moved = {"w": jnp.array([1.0, -3.0]), "b": jnp.array([0.5]), "count": jnp.array(9)}
    assert state_difference(moved, ref) == pytest.approx(0.25)  # 1 / max|w| = 1 / 4; the int ignored
    assert state_difference({**ref, "b": jnp.array([0.75])}, ref) == pytest.approx(0.5)


@pytest.mark.parametrize("name, op, expected", [
    ("sm90_xmma_fprop_implicit_gemm_bf16bf16_bf16f32_f32_nhwckrsc_nhwc", "", "convolution"),
    ("sm90_xmma_wgrad_implicit_gemm_indexed", "", "convolution"),
    ("kernel_x", "cudnn-conv.3", "convolution"),
    ("nvjet_hsh_128x256_64x4_2x1_v_bz_coopA_NTN", "", "matrix product"),
    ("triton_gemm_dot_fusion_12", "", "matrix product"),
    ("dot_general.170", "dot_general.170", "matrix product"),
    ("convert_bitcast_fusion.6", "", "other fused"),  # "conv" of "convert" is not a convolution
    ("loop_multiply_fusion_3", "multiply_fusion.3", "other fused"),
    ("input_reduce_fusion_7", "", "reduction"),
    ("transpose_fusion", "", "copy / transpose"),
    ("Memset", "", "memset / memcpy"),
])
def test_kernel_categories(name, op, expected):
    assert category(name, op) == expected


def test_busy_time_is_the_union_of_the_kernels_intervals():
    ks = [Kernel("a", "", 0, 10), Kernel("b", "", 5, 10), Kernel("c", "", 30, 5), Kernel("d", "", 31, 2)]
    assert busy_nanoseconds(ks) == 15 + 5  # [0, 15) and [30, 35)
    assert busy_nanoseconds([]) == 0


def test_summary_per_iteration_and_shares():
    ks = [Kernel("nvjet_gemm", "", 0, 4e6), Kernel("loop_add_fusion", "", 5e6, 1e6),
          Kernel("nvjet_gemm", "", 6e6, 4e6), Kernel("loop_add_fusion", "", 11e6, 1e6)]
    s = summarise(ks, iterations=2, traced_wall_s=0.02, top=5)
    assert s["kernels_per_iteration"] == 2
    assert s["kernel_ms"] == pytest.approx(5.0) and s["busy_ms"] == pytest.approx(5.0)
    assert s["traced_wall_ms"] == pytest.approx(10.0) and s["busy_fraction"] == pytest.approx(0.5)
    assert [c["category"] for c in s["categories"]] == ["matrix product", "other fused"]
    assert [k["name"] for k in s["top"]] == ["nvjet_gemm", "loop_add_fusion"]
    assert s["top"][0]["share"] == pytest.approx(0.8) and s["top"][0]["mean_us"] == pytest.approx(4000)


@pytest.mark.slow  # a benchmark tool's smoke run: it compiles many programs
@pytest.mark.skipif(jax.default_backend() != "cpu", reason="its arithmetic-changing option is XLA:CPU's")
def test_xla_options_sweep_on_cpu(tmp_path):
    """Every set trains the same call from the same state; a rejected option is a row, not a crash;
    an option that changes the arithmetic shows in state_diff."""
    rows = xla_options.main(["--quick", "--variant", "scan", "--iterations", "2", "--repeats", "2",
                             "--min-time", "0.01", "--set", "default", "--set", "default_again",
                             "--set", "bad=xla_gpu_enable_command_buffer=NOT_A_TYPE",
                             "--set", "fast=xla_cpu_enable_fast_math=true", "--out", str(tmp_path)])
    by = {r["set"]: r for r in rows}
    assert by["default"]["ratio_to_default"] == 1.0 and by["default"]["state_diff"] == 0.0
    assert by["default_again"]["state_diff"] == 0.0  # XLA:CPU compiles the same program alike
    assert by["fast"]["state_diff"] > 0  # XLA:CPU's fast math: approximate tanh, exp, reassociation
    assert by["bad"]["status"].startswith("failed") and "NOT_A_TYPE" in by["bad"]["status"]
    for r in (by["default"], by["default_again"], by["fast"]):
        assert r["status"] == "ok" and r["iterations_per_second"] > 0 and len(r["rounds"]) == 2
        assert r["images_per_second"] == pytest.approx(4 * r["iterations_per_second"])  # --quick batch 4
    saved = json.loads((tmp_path / "xla_options.json").read_text())
    assert [r["set"] for r in saved["rows"]] == ["default", "default_again", "bad", "fast"]
    assert saved["gflop_per_iteration"] > 0
    table = xla_options.markdown_table(saved).splitlines()
    assert len(table) == 2 + 4 and table[2].startswith("| default | ") and "XLA's defaults" in table[2]
    assert table[4].startswith("| bad | failed: ") and "`xla_cpu_enable_fast_math=True`" in table[5]


@pytest.mark.slow  # a benchmark tool's smoke run: it compiles many programs
def test_device_trace_smoke_run(tmp_path):
    result = device_trace.main(["--quick", "--iterations", "3", "--repeats", "1", "--top", "5",
                                "--out", str(tmp_path)])
    on_cpu = jax.default_backend() == "cpu"
    assert result["source"].startswith("host threads" if on_cpu else "device plane")  # no device plane on a CPU
    assert result["kernels_per_iteration"] > 10 and result["wall_ms"] > 0
    assert 0 < result["busy_fraction"] <= 1.0 and result["busy_ms"] <= result["traced_wall_ms"]
    assert sum(c["share"] for c in result["categories"]) == pytest.approx(1.0)
    if on_cpu:  # what XLA:CPU names its thunks; a GPU's kernels are named by their libraries
        assert any(c["category"] == "matrix product" for c in result["categories"])
        assert "hlo_op" in result["kernel_stats_seen"]
    ms = [k["ms"] for k in result["top"]]
    assert len(ms) == 5 and ms == sorted(ms, reverse=True)
    assert result["options"] == {"xla_enable_command_buffers_during_profiling": True}
    saved = json.loads((tmp_path / "device_trace.json").read_text())
    assert saved["kernels_per_iteration"] == result["kernels_per_iteration"]
    assert (tmp_path / "trace").is_dir() and saved["trace_file"].endswith(".xplane.pb")
    text = device_trace.markdown_summary(saved)
    assert f"{saved['kernels_per_iteration']:.1f} kernels per iteration" in text
    assert sum(line.startswith("| `") for line in text.splitlines()) == 5  # the top kernels


@pytest.mark.slow  # a benchmark tool's smoke run: it compiles many programs
def test_xla_options_stops_compiling_when_its_budget_is_spent(tmp_path):
    rows = xla_options.main(["--quick", "--variant", "fused", "--iterations", "2", "--repeats", "1",
                             "--min-time", "0.01", "--compile-budget", "0.001",
                             "--set", "default", "--set", "graphs_while"])
    assert rows[0]["status"] == "ok" and rows[0]["iterations_per_second"] > 0
    assert rows[1]["status"].startswith("skipped: the compile budget")


def test_fastest_set_of_a_sweep(tmp_path):
    def sweep(*rows):
        path = tmp_path / "xla_options.json"
        path.write_text(json.dumps({"rows": [dict(status="ok", **r) for r in rows]}))
        return path

    fast = {"xla_gpu_enable_command_buffer": "FUSION,WHILE"}
    path = sweep({"set": "default", "options": {}, "ratio_to_default": 1.0},
                 {"set": "graphs_while", "options": fast, "ratio_to_default": 1.7},
                 {"set": "no_graphs", "options": {"xla_gpu_enable_command_buffer": ""}, "ratio_to_default": 0.6})
    assert xla_options.fastest_set(path) == ("graphs_while", fast)
    assert parse_option_set(f"best:{path}") == ("graphs_while", fast)
    path = sweep({"set": "default", "options": {}, "ratio_to_default": 1.0},
                 {"set": "default_again", "options": {}, "ratio_to_default": 1.02},
                 {"set": "no_graphs", "options": {"xla_gpu_enable_command_buffer": ""}, "ratio_to_default": 0.6})
    assert xla_options.fastest_set(path) == ("default", {})  # noise between two compilations is no option
    path.write_text(json.dumps({"rows": [{"set": "bad", "status": "failed: x"}]}))
    with pytest.raises(ValueError, match="no option set"):
        xla_options.fastest_set(path)


@pytest.mark.slow  # a benchmark tool's smoke run: it compiles many programs
def test_benchmark_rows_carry_their_xla_options(tmp_path):
    from experiments import benchmark

    config = benchmark.parse_args(["--quick", "--workload", "toy", "--variants", "fused,scan",
                                   "--xla-options", "graphs_while", "--out", str(tmp_path)])
    results = benchmark.run_benchmark(config, log=lambda *a: None)
    rows = results["rows"]
    assert [r["variant"] for r in rows] == ["fused+graphs_while", "scan+graphs_while"]
    assert all(r["status"] == "ok" and r["xla_options"] == GPU_OPTION_SETS["graphs_while"] for r in rows)
    assert results["config"]["xla_option_set"] == "graphs_while"
    with pytest.raises(SystemExit):
        benchmark.parse_args(["--xla-options", "no_such_preset"])


def test_kernel_events_read_a_gpu_planes_stream_lines():
    """What a GPU trace looks like to the reader (planes of lines of events with stats): kernels
    come from the stream lines only, not from derived lines over the same time."""
    from types import SimpleNamespace as NS

    def event(name, start, dur, **stats):
        return NS(name=name, start_ns=start, duration_ns=dur, stats=list(stats.items()))

    gpu = NS(name="/device:GPU:0", lines=[
        NS(name="Stream #7(Compute)", events=[event("nvjet_gemm", 0, 50, hlo_op="dot.1"),
                                                event("loop_add_fusion", 60, 10, hlo_op="add_fusion")]),
        NS(name="XLA Ops", events=[event("dot.1", 0, 50), event("add_fusion", 60, 10)]),
    ])
    host = NS(name="/host:CPU", lines=[NS(name="python", events=[event("thunk", 0, 5, hlo_op="x")])])
    kernels, source, stats = device_trace.kernel_events(NS(planes=[host, gpu]), host_threads=False)
    assert [(k.name, k.hlo_op) for k in kernels] == [("nvjet_gemm", "dot.1"), ("loop_add_fusion", "add_fusion")]
    assert source.startswith("device plane") and "Stream #7(Compute)" in source and stats == {"hlo_op": "dot.1"}
    kernels, source, _ = device_trace.kernel_events(NS(planes=[host]), host_threads=False)
    assert kernels == [] and source.startswith("none: the trace has no device plane")
    kernels, source, _ = device_trace.kernel_events(NS(planes=[host]), host_threads=True)
    assert [k.name for k in kernels] == ["thunk"] and source.startswith("host threads")
