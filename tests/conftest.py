"""Test settings shared by the whole suite, and its fast tier.

The layout mirrors the code: ``tests/jaxgan/...`` tests the library (``tests/jaxgan/losses`` tests
``jaxgan.losses``, and so on), ``tests/experiments/<experiment>/`` the experiments. Every test
directory is a package, so helpers shared by tests are imported as ``tests.<path>``.

The fast tier, ``python -m pytest -m fast``: the tests of the core (``tests/jaxgan/test_steps.py``,
``test_step_references.py``, ``test_train.py``, ``test_conditional.py``, ... as ``FAST_FILES`` lists
them), of the losses (``tests/jaxgan/losses/``), of the layers (``tests/jaxgan/speedups/test_layers.py``,
``test_small_dense.py``), of the architecture and of this selection (``tests/test_architecture.py``,
``tests/test_fast_tier.py``), less those that compile the most (``NOT_FAST``); a ``slow`` test is
never ``fast``. The default run (``python -m pytest``) runs them all.

Compiling is most of the suite's time on CPU, so a run that leaves out the ``slow`` tests (the
default run, the fast tier) compiles more cheaply than a user's program (:func:`compile_cheaply`):
in the test processes, XLA:CPU generates its machine code at LLVM's optimisation level 0, and all
the run's processes (the xdist workers and the subprocesses the tests start) share one compilation
cache, removed at the end. The XLA programs are the same (XLA's own passes, its fusions, do not
depend on that level); their code is less optimised, and its floating-point rounding may differ from
the default level's (where multiplies and adds are fused). The programs the tests start (command
lines, notebooks, the multi-device checks), whose results are compared bit for bit or against
tight tolerances as users would see them, compile at the default level, and so do the ``slow``
tests, quality and speed runs.

Environment variables the tests read:
    JAXGAN_MNIST_DIR: the directory of the real MNIST test set's IDX files
        (``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``). The tests that check against
        the real data set are skipped, saying so, where it is not set (``tests/real_mnist.py``).
    JAXGAN_TEST_FULL_OPTIMIZATION: set to 1, every test compiles as users do (XLA's default
        optimisation level, no shared cache), as CI runs the fast tier once.
"""

import os
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import shutil  # noqa: E402
import tempfile  # noqa: E402

import jax  # noqa: E402
import pytest  # noqa: E402

# Exact float32 on CPU, reproducible across runs.
jax.config.update("jax_default_matmul_precision", "highest")

TESTS = Path(__file__).resolve().parent

# The XLA_FLAGS the test processes' backends started with, where :func:`compile_cheaply` changed them
TEST_PROCESS_XLA_FLAGS = "JAXGAN_TEST_PROCESS_XLA_FLAGS"

# The fast tier's files, as (directory under tests/, file name pattern): the core's (the CycleGAN
# algorithm's tests compile CycleGAN's networks, and test_gan_loss.py's properties are checked by
# test_step_references.py's GANLoss loop against the float64 reference), the losses', the layers'.
FAST_FILES = (
    ("", "test_architecture.py"),
    ("", "test_fast_tier.py"),
    ("jaxgan", "test_steps.py"),
    ("jaxgan", "test_step_references.py"),
    ("jaxgan", "test_n_critic_batches.py"),
    ("jaxgan", "test_penalty_in_d_step.py"),
    ("jaxgan", "test_train.py"),
    ("jaxgan", "test_gan.py"),
    ("jaxgan", "test_user_api.py"),
    ("jaxgan", "test_averaging.py"),
    ("jaxgan", "test_conditional.py"),
    ("jaxgan/losses", "test_*.py"),
    ("jaxgan/speedups", "test_layers.py"),
    ("jaxgan/speedups", "test_small_dense.py"),
)

# Tests of those files that stay out of the fast tier (the default run keeps them): those that compile
# many programs (more than about 5 s of CPU each; for the losses and layers, about 3.5 s), and those
# whose property a fast test checks too, against the float64 reference (test_step_references.py: the
# steps leave the other player untouched, D's update has no derivative with respect to G, the fused
# D-then-G step; test_n_critic_batches.py: n_critic).
NOT_FAST = {
    "jaxgan/test_steps.py": {
        "test_g_step_leaves_d_bit_identical_and_changes_g",
        "test_d_step_leaves_g_bit_identical_and_changes_d",
        "test_shared_forward_step_equals_d_step_then_g_step",
        "test_n_critic_runs_that_many_d_steps",
    },
    "jaxgan/test_train.py": {
        "test_vmap_over_seeds_matches_separate_runs",
        "test_unrolled_chunk_runner_does_the_same_steps",
        "test_same_seed_bit_identical_twice",
        "test_vmap_over_learning_rates",
        "test_fit_compiles_its_loop_with_the_given_xla_options",
    },
    "jaxgan/test_user_api.py": {
        "test_the_callers_state_stays_valid_after_fit_and_the_compiled_steps",
        "test_donation_is_asked_for_explicitly_and_then_deletes_the_old_state",
        "test_fit_gives_the_same_result_with_and_without_donation",
        "test_an_nnx_gan_trains_exactly_as_its_linen_twin_with_the_same_weights",
        "test_with_n_critic_d_schedule_makes_a_cosine_decay_end_for_d_when_it_ends_for_g",
        "test_metrics_name_ds_output_for_what_it_is",
    },
    "jaxgan/test_conditional.py": {
        "test_fused_and_modular_steps_equal_d_step_then_g_step_and_concat_equals_two_calls",
        "test_fit_resumed_from_a_checkpoint_is_bit_identical",
        "test_vmap_over_two_seeds_equals_separate_runs_and_generate_draws_labels",
    },
    "jaxgan/losses/test_losses.py": {
        "test_property_finite_and_sum_equals_mean_times_batch",
    },
    "jaxgan/losses/test_penalties.py": {
        "test_penalties_work_under_jit_vmap_and_grad",
        "test_make_penalty_plugs_into_a_gan_d_step",
    },
    "jaxgan/speedups/test_layers.py": {
        "test_winograd_layers_in_each_tile_form_equal_the_convolutions",
        "test_upsample_module_methods_and_flax_conv_transpose_agree",
        "test_subpixel_gradients_equal_the_transposed_convolution_gradients",
        "test_winograd_upsampling_picks_its_form_by_channels",
        "test_winograd_downsampling_picks_its_form_by_channels_and_side",
        "test_downsample_module_equals_flax_conv_with_gradients",
        "test_subpixel_equals_the_transposed_convolution_by_definition",
        "test_conv_matmul_is_the_convolution",
        "test_conv_covering_input_is_a_valid_convolution",
        "test_compute_dtype_is_separate_from_parameter_dtype",
    },
}


def in_fast_file(relative_path: str) -> bool:
    """Whether ``tests/<relative_path>`` is one of the fast tier's files."""
    directory, _, name = relative_path.rpartition("/")
    return any(directory == d and Path(name).match(pattern) for d, pattern in FAST_FILES)


def is_fast(relative_path: str, test_name: str) -> bool:
    """Whether the test function ``test_name`` of ``tests/<relative_path>`` is in the fast tier."""
    return in_fast_file(relative_path) and test_name not in NOT_FAST.get(relative_path, ())


def pytest_ignore_collect(collection_path, config):
    """``-m fast`` alone does not import the test files that hold no fast test (a shorter start)."""
    if (config.getoption("markexpr", "") or "").strip() != "fast":
        return None
    path = Path(collection_path).resolve()
    if path.suffix != ".py" or not path.name.startswith("test_") or TESTS not in path.parents:
        return None
    return True if not in_fast_file(path.relative_to(TESTS).as_posix()) else None


def pytest_collection_modifyitems(config, items):
    """Marks the fast tier's tests ``fast`` (never a ``slow`` one)."""
    for item in items:
        path = Path(str(item.path)).resolve()
        if TESTS not in path.parents or item.get_closest_marker("slow") is not None:
            continue
        name = getattr(item, "originalname", item.name)
        if is_fast(path.relative_to(TESTS).as_posix(), name):
            item.add_marker(pytest.mark.fast)


def pytest_configure(config):
    """Runs that select the ``slow`` tests (``pytest -m slow``) stay in one process.

    The default run spreads test files over worker processes (pytest-xdist, ``addopts`` in
    ``pyproject.toml``). The slow tests are quality and speed runs, some with a wall-time goal
    (the CycleGAN run in 15 minutes, the mixture runs' times): sharing the cores with another
    worker would measure the machine's load, not the run.
    """
    markexpr = (config.getoption("markexpr", "") or "").replace(" ", "")
    selects_slow = "slow" in markexpr and markexpr != "notslow"
    if selects_slow and getattr(config.option, "numprocesses", None):
        config.option.numprocesses = 0
        config.option.dist = "no"
        config.option.tx = []
    if not selects_slow and os.environ.get("JAXGAN_TEST_FULL_OPTIMIZATION", "0") in ("", "0"):
        compile_cheaply(config)
    # JAX's backends start with the test process, after the XLA flags are set. An experiment's entry
    # point run in-process by a test (experiments.runner.run_cli, which allows single-kernel CPU loops
    # through XLA_FLAGS) then changes nothing, as once the backends are up: how later tests compile,
    # and the environment of the subprocesses they start, do not depend on which test ran first.
    jax.devices()


def compile_cheaply(config) -> None:
    """This test process compiles at LLVM's level 0, and shares one compilation cache with the other
    processes of the run (see the module's docstring).

    XLA's backend starts with ``--xla_backend_optimization_level=0`` added to ``XLA_FLAGS`` (about
    40% less CPU time for the tests that mostly compile), and the variable is put back at once: the
    programs the tests start (an experiment's command line, a notebook's kernel, the multi-device
    checks) compile at XLA's default level, as users run them. Each xdist worker does the same in
    its own ``pytest_configure``. The process that starts the run makes a cache directory for
    ``JAX_COMPILATION_CACHE_DIR`` (every program, however quick to compile), which the workers and
    subprocesses inherit, and removes it when the run ends; a cache directory given in the
    environment is used and kept.
    """
    flags = os.environ.get("XLA_FLAGS")
    if "xla_backend_optimization_level" not in (flags or ""):
        os.environ["XLA_FLAGS"] = f"{flags or ''} --xla_backend_optimization_level=0".strip()
        # for a test whose subprocess must compile as this process does (its bits compared with ours)
        os.environ[TEST_PROCESS_XLA_FLAGS] = os.environ["XLA_FLAGS"]
        try:
            jax.devices()  # XLA reads XLA_FLAGS once, as its backend starts
        finally:  # the programs the tests start (CLIs, notebooks' kernels) compile as users do
            if flags is None:
                del os.environ["XLA_FLAGS"]
            else:
                os.environ["XLA_FLAGS"] = flags
    if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
        directory = tempfile.mkdtemp(prefix="jaxgan-tests-xla-cache-")
        os.environ["JAX_COMPILATION_CACHE_DIR"] = directory
        config.add_cleanup(lambda: shutil.rmtree(directory, ignore_errors=True))
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
    jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
    jax.config.update("jax_persistent_cache_min_compile_time_secs",
                      float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]))
    jax.config.update("jax_persistent_cache_min_entry_size_bytes",
                      int(os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"]))
