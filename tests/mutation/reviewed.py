"""The surviving mutants, reviewed: the test that now kills each, or why none can.

Keys are mutmut's names of the mutants (`python -m tests.mutation --reviewed` prints each with its
change and checks it against the last results: a mutant listed as killed that still survives, or a
survivor listed nowhere, is flagged).
"""

# The tests (in tests/jaxgan/).
_FLOAT32_INIT = ("test_gan.py::"
                 "test_init_state_initialises_both_networks_on_float32_inputs_even_with_64_bit_types_enabled")
_SWITCH = "test_user_api.py::test_every_step_passes_the_training_switch_to_a_network_written_by_hand"
_NONE_FOR_REAL = "test_steps.py::test_gan_loss_gives_an_objective_that_does_not_ask_for_ds_real_output_none"
_VMAPPED_FIT = "test_train.py::test_fit_vmapped_trains_each_stacked_run"
_COMPILE_TIME = "test_train.py::test_fit_times_its_compilation_apart_from_training"

# Mutants that survived a run and that a test written for them kills.
KILLED_BY = {
    "jaxgan.gan.x_init_state__mutmut_25": _FLOAT32_INIT,
    "jaxgan.gan.x_init_state__mutmut_27": _FLOAT32_INIT,
    "jaxgan.gan.x_init_state__mutmut_58": _FLOAT32_INIT,
    "jaxgan.gan.x_init_state__mutmut_60": _FLOAT32_INIT,
    "jaxgan.gan.x_init_state__mutmut_53": _SWITCH,
    "jaxgan.gan_loss.x_build_modular_train_step__mutmut_48": _SWITCH,
    "jaxgan.gan_loss.xǁGANLossǁgenerator_loss__mutmut_10": _SWITCH,
    "jaxgan.gan_loss.xǁGANLossǁgenerator_loss__mutmut_24": _SWITCH,
    "jaxgan.gan_loss.xǁGANLossǁgenerator_loss__mutmut_1": _NONE_FOR_REAL,
    "jaxgan.train.x_fit__mutmut_36": _VMAPPED_FIT,
    "jaxgan.train.x_fit__mutmut_42": _VMAPPED_FIT,
    "jaxgan.train.x_fit__mutmut_57": _COMPILE_TIME,
}

_SHAPE_ONLY = ("`jax.eval_shape` reads only the shape of G's output, which its training switch does not change "
               "(the steps call G in training mode on the same inputs)")
_TQDM_FILE = "tqdm writes to `sys.stderr` when `file` is `None`, its default"

# Mutants whose behaviour cannot differ from the code's (or that change only text for people).
EQUIVALENT = {
    "jaxgan.gan.x_init_state__mutmut_28": (
        "G and D are initialised on a batch of 2 zeros instead of 1: their parameters do not depend on the "
        "batch size (the steps call them on batches of every size) and the values are not used"),
    "jaxgan.gan.x_init_state__mutmut_49": _SHAPE_ONLY,
    "jaxgan.gan.x_init_state__mutmut_54": _SHAPE_ONLY,
    "jaxgan.gan_loss.x_build_modular_train_step__mutmut_36": (
        "without a penalty D's update never reads its key (only the penalty is given it)"),
    "jaxgan.losses.x_get_objective__mutmut_6": "`not False` and `not None` are both true",
    "jaxgan.losses.reduction.x_align_weights__mutmut_4": (
        "a scalar weight reshaped to `(1, ..., 1)` broadcasts to the losses' shape as the scalar does"),
    "jaxgan.losses.reduction.x_align_weights__mutmut_5": (
        "weights of the losses' rank are reshaped to their own shape: no change"),
    "jaxgan.train.x_fit__mutmut_5": "the progress bar's default label: text for people, not behaviour",
    "jaxgan.train.x_make_chunk_runner__mutmut_11": "`None` is the default of `lax.scan`'s `xs`",
    "jaxgan.train.x_progress_bar__mutmut_10": "`\"it\"` is the default of tqdm's `unit`",
    "jaxgan.train.x_progress_bar__mutmut_11": _TQDM_FILE,
    "jaxgan.train.x_progress_bar__mutmut_5": _TQDM_FILE,
}
