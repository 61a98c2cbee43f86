#!/usr/bin/env bash
# The GPU measurements in one script: the benchmark, its probes and the tests whose numbers depend on
# the GPU's matrix-product precision, run as stages in the order of PLAN below. Each stage runs under
# its own time cap and all of them under an overall time limit; a stage that fails or is cut is
# reported and the next one runs. Every stage's table is printed and its results are written to
# <OUT_DIR>/<stage>/; after each stage, the whole of OUT_DIR is packed into $ARCHIVE when set (so
# what finished is kept even if the script itself is stopped).
#
#   bash experiments/bench/gpu.sh [OUT_DIR] [TOTAL_SECONDS]
#       OUT_DIR          default runs/bench_gpu
#       TOTAL_SECONDS    default 550: no stage starts, or runs, past it
#   env: PYTHON (default python3), STAGES (space-separated stage names, default all, in the order below), EXTRA (extra
#        benchmark flags for every stage, e.g. "--quick" to try the script on a CPU), TOOL_EXTRA (the same for the
#        experiments.bench tools' stages, e.g. "--quick --iterations 2" for xla_options and device_trace), ARCHIVE
#
# A stage's table as Markdown (the card's name is printed first):
#   python -m experiments.benchmark --markdown OUT_DIR/<stage>/results.json
#   python -m experiments.bench.xla_options --markdown OUT_DIR/<stage>/xla_options.json
#   python -m experiments.bench.device_trace --markdown OUT_DIR/<stage>/device_trace.json
set -u
PY=${PYTHON:-python3}
OUT=${1:-runs/bench_gpu}
LIMIT=${2:-550}
EXTRA=${EXTRA:-}
TOOL_EXTRA=${TOOL_EXTRA:-}
COMMON="--repeats 3 --min-time 0.5"
# stage name | cap (s) | arguments of experiments.benchmark, or "TOOL ARGS" for python -m experiments.bench.TOOL, or
# "pytest ARGS", or "module NAME ARGS" for python -m NAME ARGS --out <OUT_DIR>/<stage> | environment
# The DCGAN stages come first: whether XLA's options for CUDA graphs and kernels change its speed (xla_options:
# every set in one process, checked to train alike), with the matmul and with the conv layers; where the
# iteration's time goes, kernel by kernel (device_trace); the DCGAN row against PyTorch under the sweep's fastest
# set; 4 DCGAN runs in one program; then the precision-sensitive tests; layer by layer (dcgan_parts); then the
# other workloads. The first seven stages' caps add up to 545 s.
# (the launch sets first; cudnn_gemm_fusion, whose autotuning may compile longest, last)
DCGAN_SETS="--set default --set default_again --set graphs_while --set graphs_whole_loop --set graphs_whole_loop_concurrent --set no_graphs --set concurrent_regions --set no_triton_gemm --set cudnn_gemm_fusion"
CONV_SETS="--set default --set graphs_convolution --set graphs_whole_loop --set graphs_whole_loop_concurrent"
PLAN=(
  "dcgan_xla_options_bf16|120|xla_options --workload dcgan --precision bfloat16 --compile-budget 75 $DCGAN_SETS|"
  "dcgan_conv_xla_options_bf16|60|xla_options --workload dcgan --precision bfloat16 --dcgan-layers conv --compile-budget 35 $CONV_SETS|"
  "dcgan_trace_bf16|45|device_trace --workload dcgan --precision bfloat16|"
  "dcgan_bf16_fastest_options|90|--workload dcgan --precision bfloat16 --compare torch --no-torch-compile --variants scan --xla-options best:$OUT/dcgan_xla_options_bf16/xla_options.json|"
  "dcgan_vmap4_bf16|60|--workload dcgan --precision bfloat16 --seeds 4 --variants fused,scan,vmap|"
  "tests_gpu_precision|90|pytest -q -n 0 -p no:cacheprovider --tb=short tests/jaxgan/test_train.py::test_vmap_over_seeds_matches_separate_runs tests/jaxgan/test_cyclegan.py::test_generator_step_is_the_reference_update_and_leaves_discriminators_and_pools_bit_identical tests/experiments/benchmark/test_benchmark.py::test_quick_run_writes_well_formed_results tests/experiments/cyclegan/test_cyclegan_experiment.py::test_resume_from_a_mid_run_checkpoint_is_bit_identical tests/jaxgan/parallel/test_sharding.py::test_cyclegan_on_eight_devices_equals_one_device|JAX_DEFAULT_MATMUL_PRECISION=highest XLA_PYTHON_CLIENT_PREALLOCATE=false"
  "dcgan_parts_bf16|80|dcgan_parts --precision bfloat16|"
  "dcgan_trace_op_by_op_bf16|40|device_trace --workload dcgan --precision bfloat16 --no-graphs-in-trace|"
  "dcgan_trace_conv_bf16|45|device_trace --workload dcgan --precision bfloat16 --dcgan-layers conv|"
  "toy_gan_kernel_cli|60|module experiments.toy_gan --seeds 64 --steps 20000 --no-plot --no-progress|"
  "dcgan_bf16|130|--workload dcgan --precision bfloat16 --compare torch --torch-compile-timeout 80 --variants fused,scan|"
  "dcgan_parts_conv_bf16|70|dcgan_parts --precision bfloat16 --dcgan-layers conv|"
  "toy|90|--workload toy --compare torch --no-torch-compile --variants fused,scan,vmap,kernel|"
  "dcgan_conv_bf16|75|--workload dcgan --precision bfloat16 --dcgan-layers conv --compare torch --no-torch-compile --variants fused,scan|"
  "cyclegan_bf16|130|--workload cyclegan --precision bfloat16 --compare torch --no-torch-compile --variants scan|"
  "toy_kernel|100|toy_kernel --seeds 64,512 --warps 4|"
  "toy_unroll8|40|--workload toy --variants scan,vmap --unroll 8|"
  "toy_kernels|25|loop_kernels --workload toy --show|"
)
STAGES=${STAGES:-all}
mkdir -p "$OUT"
start=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
"$PY" -c "import jax, flax, optax, sys; print('python', sys.version.split()[0], '| jax', jax.__version__, jax.devices(), '| flax', flax.__version__, '| optax', optax.__version__)"
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" 2>/dev/null || echo "no torch"
for entry in "${PLAN[@]}"; do
  IFS='|' read -r name cap args envs <<< "$entry"
  if [ "$STAGES" != "all" ] && [[ " $STAGES " != *" $name "* ]]; then continue; fi
  left=$(( LIMIT - (SECONDS - start) ))
  if [ "$left" -lt 20 ]; then echo "== $name: skipped, ${left} s of the time limit left"; continue; fi
  limit=$(( cap < left ? cap : left ))
  echo "== $name (limit ${limit} s, $(( SECONDS - start )) s into the run): ${envs:+$envs }$args"
  t0=$SECONDS
  if [[ "$args" == pytest* ]]; then
    # shellcheck disable=SC2086  # the arguments are meant to split
    env $envs timeout -k 5 "$limit" "$PY" -m ${args} > "$OUT/$name.log" 2>&1
    status=$?
    cat "$OUT/$name.log"
    (exit $status)
  elif [[ "$args" == module* ]]; then
    # shellcheck disable=SC2086
    env $envs timeout -k 5 "$limit" "$PY" -m ${args#module } --out "$OUT/$name"
  elif [[ "$args" != --* ]]; then
    # shellcheck disable=SC2086
    env $envs timeout -k 5 "$limit" "$PY" -m experiments.bench.${args} $TOOL_EXTRA --out "$OUT/$name"
  else
    # shellcheck disable=SC2086
    env $envs timeout -k 5 "$limit" "$PY" -m experiments.benchmark $args $COMMON $EXTRA --out "$OUT/$name"
  fi
  status=$?
  echo "== $name: exit status $status after $(( SECONDS - t0 )) s"
  if [ -n "${ARCHIVE:-}" ]; then tar czf "$ARCHIVE" -C "$OUT" . 2>/dev/null; fi
done
echo "== done in $(( SECONDS - start )) s"
