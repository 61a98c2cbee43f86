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

Environment variables the tests read:
    JAXGAN_MNIST_DIR: the directory of the real MNIST test set's IDX files
        (``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``). The tests that check against
        the real data set are skipped, saying so, where it is not set (``tests/real_mnist.py``).
"""

import os
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402
import pytest  # noqa: E402

# Exact float32 on CPU, reproducible across runs.
jax.config.update("jax_default_matmul_precision", "highest")

# JAX's backends start with the test process. An experiment's entry point run in-process by a test
# (experiments.runner.run_cli, which allows single-kernel CPU loops through XLA_FLAGS) then changes
# nothing, as once the backends are up: how later tests compile, and the environment of the
# subprocesses they start, do not depend on which test happened to run first in the process.
jax.devices()

TESTS = Path(__file__).resolve().parent

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
    if "slow" in markexpr and markexpr != "notslow" and getattr(config.option, "numprocesses", None):
        config.option.numprocesses = 0
        config.option.dist = "no"
        config.option.tx = []
