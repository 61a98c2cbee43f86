#!/usr/bin/env bash
# The prepared accelerator run (issue 7): every workload at the reference sizes, JAX against PyTorch,
# float32 then bfloat16, in one go. Needs a CUDA build of jax (jax[cuda12]) and of torch 2.13.0.
#
#   bash experiments/bench/gpu.sh [OUT_DIR]          # default runs/bench_gpu
#
# Each command writes <OUT_DIR>/<precision>/results.json and prints its table; a workload or
# variant that fails is reported in its row (status), never hidden. torch.compile runs in a child
# process cut after 600 s. Record the tables in docs/benchmarks.md with the card's name
# (nvidia-smi --query-gpu=name --format=csv,noheader).
set -u
OUT=${1:-runs/bench_gpu}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python -c "import jax, torch; print('jax', jax.__version__, jax.devices()); print('torch', torch.__version__, torch.cuda.is_available())"
for precision in float32 bfloat16; do
  python -m experiments.benchmark --workload all --compare torch --precision "$precision" \
      --torch-compile-timeout 600 --out "$OUT/$precision" || echo "benchmark ($precision) exited with status $?"
done
