#!/usr/bin/env bash
# The prepared accelerator run (issue 7): the workloads at the reference sizes, JAX against PyTorch,
# float32 then bfloat16. Needs a CUDA build of jax (jax[cuda12]) and of torch 2.13.0.
#
#   bash experiments/bench/gpu.sh [OUT_DIR] [WORKLOADS] [PRECISIONS]
#       OUT_DIR     default runs/bench_gpu
#       WORKLOADS   default all; or a comma-separated list, e.g. toy,mixture
#       PRECISIONS  default "float32 bfloat16"
#   env: TORCH_COMPILE_TIMEOUT (s, default 600; 0 = skip torch.compile), REPEATS (default 5)
#
# Everything at once takes longer than one 10-minute call on a lent machine; split it, e.g.
#   TORCH_COMPILE_TIMEOUT=120 REPEATS=3 bash experiments/bench/gpu.sh runs/bench_gpu toy,mixture float32
#   TORCH_COMPILE_TIMEOUT=120 REPEATS=3 bash experiments/bench/gpu.sh runs/bench_gpu dcgan "float32 bfloat16"
#   TORCH_COMPILE_TIMEOUT=120 REPEATS=3 bash experiments/bench/gpu.sh runs/bench_gpu cyclegan "float32 bfloat16"
#
# Each command writes <OUT_DIR>/<workloads>_<precision>/results.json and prints its table; a
# workload or variant that fails is reported in its row (status), never hidden. Record the tables
# in docs/benchmarks.md with the card's name (printed first).
set -u
OUT=${1:-runs/bench_gpu}
WORKLOADS=${2:-all}
PRECISIONS=${3:-"float32 bfloat16"}
COMPILE_TIMEOUT=${TORCH_COMPILE_TIMEOUT:-600}
REPEATS=${REPEATS:-5}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python -c "import jax, torch; print('jax', jax.__version__, jax.devices()); print('torch', torch.__version__, torch.cuda.is_available())"
compile_flags=(--torch-compile-timeout "$COMPILE_TIMEOUT")
if [ "$COMPILE_TIMEOUT" = "0" ]; then compile_flags=(--no-torch-compile); fi
for precision in $PRECISIONS; do
  python -m experiments.benchmark --workload "$WORKLOADS" --compare torch --precision "$precision" \
      --repeats "$REPEATS" "${compile_flags[@]}" --out "$OUT/${WORKLOADS//,/_}_$precision" \
      || echo "benchmark ($WORKLOADS, $precision) exited with status $?"
done
