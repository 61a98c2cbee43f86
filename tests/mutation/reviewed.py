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
_FRESH_NOISE = "test_steps.py::test_fresh_noise_for_g_has_a_row_per_real_sample"
_SCORE_METRIC = "test_steps.py::test_a_critics_metric_is_its_mean_score_in_float32_named_score"
_D_PARAMS = "test_steps.py::test_ds_optimizer_is_given_ds_parameters"
_DONATION = "test_steps.py::test_make_d_and_g_steps_are_the_jitted_steps_donating_only_when_asked"
_LOOPS = "test_step_references.py::test_training_loops_match_the_reference"
_D_SCHEDULE = "test_gan.py::test_d_schedule_steps_once_per_iteration_of_n_critic_updates"
_RELATIVISTIC = "losses/test_losses.py::test_relativistic_g_loss_weighs_each_term_once_by_default"
_PENALTY_DTYPE = "losses/test_penalties.py::test_interpolating_penalties_give_d_inputs_of_the_datas_dtype"
_DRAGAN = "losses/test_penalties.py::test_dragan_neighbours_lie_above_the_real_points_within_scale_times_std"
_ROUTES = "losses/test_penalties.py::test_make_penalty_weights_and_routes_arguments"
_BAR = "test_train.py::test_fit_shows_a_progress_bar_labelled_training_when_asked"
_CALLBACK = "test_train.py::test_fit_stops_where_the_callback_returns_false_and_says_whether_that_was_early"
_HINGE = "losses/test_losses.py::test_hinge_d_loss_has_margins_of_one_by_default"
_TRAINING_MODE = "test_steps.py::test_every_call_of_g_and_d_in_the_steps_is_in_training_mode"
_REAL_FOR_G = "test_steps.py::test_train_step_with_fresh_noise_gives_the_g_step_the_last_d_steps_real_batch"
_CONCAT_IN_STEPS = ("test_steps.py::"
                    "test_the_gans_concat_real_fake_reaches_ds_update_in_the_d_step_and_the_fused_step")
_D_CALLS = ("test_steps.py::"
            "test_discriminator_update_calls_d_on_real_then_fake_or_once_split_after_the_real_rows")
_PENALTY_FLOAT32 = "test_steps.py::test_a_penalty_of_another_dtype_gives_a_float32_d_penalty_metric"
_PROB_REAL = "test_steps.py::test_prob_real_is_float32_and_takes_a_last_axis_of_two_as_the_two_logits"
_LOSS_DEFAULTS = "losses/test_losses.py::test_every_loss_given_only_logits_is_its_formula_with_its_defaults"
_TWO_CLASS_NAME = "losses/test_losses.py::test_two_class_losses_name_the_argument_that_is_not_two_logits"
_FLOAT32_PENALTIES = ("losses/test_penalties.py::"
                      "test_interpolating_penalties_compute_in_float32_with_64_bit_types_enabled_too")
_PENALTY_WEIGHTS = "losses/test_penalties.py::test_penalty_weights_are_one_per_example"
_FLAT_D = "losses/test_penalties.py::test_a_flat_d_gives_the_gradient_penalty_a_zero_gradient_not_nan"
_R1_R2 = "losses/test_penalties.py::test_r1_r2_of_linear_d_equal_squared_weight_norm_and_match_numpy"
_PENALTY_SIGNS = "losses/test_penalties.py::test_gradient_penalty_zero_for_unit_norm_linear_d_and_positive_otherwise"
_FUSED_KEY = "test_penalty_in_d_step.py::test_fused_step_gives_ds_penalty_the_key_split_from_the_state"
_CONDITIONAL_INIT = ("test_conditional.py::test_init_state_initialises_g_and_d_on_float32_samples_with_int32_labels_"
                     "even_with_64_bit_types_enabled")
_INT32_LABELS = ("test_conditional.py::"
                 "test_g_input_is_float32_noise_and_int32_labels_drawn_alike_with_64_bit_types_enabled")

# Mutants that survived a run and that a test written for them kills.
KILLED_BY = {
    # init_state's example inputs moved to example_noise (G's) and _zeros_like_struct (D's).
    **{f"jaxgan.gan.x_example_noise__mutmut_{n}": _FLOAT32_INIT for n in (3, 5)},
    **{f"jaxgan.gan.x__zeros_like_struct__mutmut_{n}": _FLOAT32_INIT for n in (9, 11)},
    # Reviewed as equivalent before the conditional GAN: a G given a batch of 2 noise vectors and 1 label fails.
    "jaxgan.gan.x_example_noise__mutmut_6": _CONDITIONAL_INIT,
    "jaxgan.gan.x_init_state__mutmut_49": _SWITCH,
    "jaxgan.gan.x_sample_labels__mutmut_7": _INT32_LABELS,
    # `jnp.issubdtype(dtype, None)` is `issubdtype(dtype, float64)`: float32 then, but bfloat16 images kept.
    "jaxgan.gan.x__zeros_like_struct__mutmut_5": _CONDITIONAL_INIT,
    "jaxgan.gan_loss.x_build_modular_train_step__mutmut_48": _SWITCH,
    "jaxgan.gan_loss.xǁGANLossǁgenerator_loss__mutmut_10": _SWITCH,
    "jaxgan.gan_loss.xǁGANLossǁgenerator_loss__mutmut_24": _SWITCH,
    "jaxgan.gan_loss.xǁGANLossǁgenerator_loss__mutmut_1": _NONE_FOR_REAL,
    "jaxgan.train.x_fit__mutmut_36": _VMAPPED_FIT,
    "jaxgan.train.x_fit__mutmut_42": _VMAPPED_FIT,
    "jaxgan.train.x_fit__mutmut_57": _COMPILE_TIME,
    "jaxgan.train.x_fit__mutmut_58": _COMPILE_TIME,
    "jaxgan.train.x_fit__mutmut_60": _BAR,
    "jaxgan.train.x_fit__mutmut_118": _VMAPPED_FIT,
    **{f"jaxgan.train.x_fit__mutmut_{n}": _CALLBACK for n in (69, 101, 106, 107, 108, 109, 127)},
    # `real.shape[1]` for the batch size, once in build_train_step and discriminator_logits: now batch_size_of's.
    "jaxgan.steps.x_batch_size_of__mutmut_3": _FRESH_NOISE,
    "jaxgan.steps.x_d_output_metrics__mutmut_6": _SCORE_METRIC,
    "jaxgan.steps.x_d_output_metrics__mutmut_8": _SCORE_METRIC,
    "jaxgan.steps.x_discriminator_update__mutmut_72": _D_PARAMS,
    "jaxgan.steps.x_make_d_step__mutmut_1": _DONATION,
    "jaxgan.steps.x_make_g_step__mutmut_3": _DONATION,
    **{f"jaxgan.steps.x__real_logits_for_g__mutmut_{n}": _TRAINING_MODE for n in (6, 11)},
    **{f"jaxgan.steps.x_discriminator_update__mutmut_{n}": _TRAINING_MODE for n in (37, 42)},
    **{f"jaxgan.steps.x_build_train_step__mutmut_{n}": _REAL_FOR_G for n in (63, 65, 66)},
    **{f"jaxgan.steps.x__update_d__mutmut_{n}": _CONCAT_IN_STEPS for n in (9, 18)},
    "jaxgan.steps.x_discriminator_update__mutmut_1": _D_CALLS,
    **{f"jaxgan.steps.x_discriminator_update__mutmut_{n}": _PENALTY_FLOAT32 for n in (46, 48)},
    **{f"jaxgan.steps.x_prob_real__mutmut_{n}": _PROB_REAL for n in (2, 6)},
    # On a JAX array an index past the end is clamped (`logits[..., 2]` reads `logits[..., 1]`); on
    # NumPy logits it fails.
    "jaxgan.steps.x_real_log_odds__mutmut_2": _PROB_REAL,
    "jaxgan.steps.x_build_d_then_g_step__mutmut_28": _FUSED_KEY,
    # A function new to the code: mutmut tries it against the tests that reach it once `--restat`.
    "jaxgan.steps.x_generator_update__mutmut_24": _LOOPS,
    # Tests mutmut had not recorded as reaching `d_schedule` (no tests): recorded again with `--restat`.
    **{f"jaxgan.gan.x_d_schedule__mutmut_{n}": _D_SCHEDULE for n in range(1, 6)},
    "jaxgan.losses.adversarial.x_wasserstein_hinge_discriminator_loss__mutmut_1": _HINGE,
    "jaxgan.losses.adversarial.x_relativistic_generator_loss__mutmut_1": _RELATIVISTIC,
    "jaxgan.losses.adversarial.x_wasserstein_generator_loss__mutmut_1": _LOSS_DEFAULTS,
    "jaxgan.losses.adversarial.x_wasserstein_hinge_generator_loss__mutmut_1": _LOSS_DEFAULTS,
    **{f"jaxgan.losses.adversarial.x_least_squares_generator_loss__mutmut_{n}": _LOSS_DEFAULTS for n in (1, 2)},
    "jaxgan.losses.adversarial.x_relativistic_discriminator_loss__mutmut_1": _LOSS_DEFAULTS,
    # The name of the argument that is not two logits, in the error (which of D's two is wrong).
    **{f"jaxgan.losses.adversarial.x_softmax_discriminator_loss__mutmut_{n}": _TWO_CLASS_NAME
       for n in (9, 13, 14, 15, 19, 20)},
    **{f"jaxgan.losses.adversarial.x_softmax_generator_loss__mutmut_{n}": _TWO_CLASS_NAME for n in (6, 10, 11)},
    "jaxgan.losses.penalties.x__input_dtype__mutmut_5": _PENALTY_DTYPE,
    "jaxgan.losses.penalties.x__r2__mutmut_5": _ROUTES,
    "jaxgan.losses.penalties.x_dragan_penalty__mutmut_32": _DRAGAN,
    "jaxgan.losses.penalties.x_make_penalty__mutmut_11": _ROUTES,
    "jaxgan.losses.penalties.x_make_penalty__mutmut_21": _ROUTES,
    **{f"jaxgan.losses.penalties.x_wasserstein_gradient_penalty__mutmut_{n}": _PENALTY_DTYPE for n in (18, 19, 25)},
    # `astype(None)` and a dtype left out are float32 unless 64-bit types are enabled.
    **{f"jaxgan.losses.penalties.x_wasserstein_gradient_penalty__mutmut_{n}": _FLOAT32_PENALTIES for n in (22, 23)},
    **{f"jaxgan.losses.penalties.x_dragan_penalty__mutmut_{n}": _FLOAT32_PENALTIES for n in (12, 21, 24)},
    **{f"jaxgan.losses.penalties.x__per_example_uniform__mutmut_{n}": _FLOAT32_PENALTIES for n in (3, 6)},
    **{f"jaxgan.losses.penalties.x__input_dtype__mutmut_{n}": _FLOAT32_PENALTIES for n in (3, 4, 8)},
    **{f"jaxgan.losses.penalties.x__reduce__mutmut_{n}": _FLOAT32_PENALTIES for n in (3, 45)},
    "jaxgan.losses.penalties.x__squared_norms__mutmut_6": _FLOAT32_PENALTIES,
    **{f"jaxgan.losses.penalties.x__reduce__mutmut_{n}": _PENALTY_WEIGHTS
       for n in (7, 10, 11, 12, 13, 19, 22, 48, 55, 56, 63, 64)},
    **{f"jaxgan.losses.penalties.x__safe_sqrt__mutmut_{n}": _FLAT_D for n in (2, 18)},
    "jaxgan.losses.penalties.x_r2_penalty__mutmut_9": _R1_R2,
    "jaxgan.losses.penalties.x_dragan_penalty__mutmut_1": _DRAGAN,
    "jaxgan.losses.penalties.x_dragan_penalty__mutmut_49": _PENALTY_SIGNS,
}

_SHAPE_ONLY = ("`jax.eval_shape` reads only the shape of G's output, which its training switch does not change "
               "(the steps call G in training mode on the same inputs)")
_REDRAW = "the bar is drawn once more after its figures change: output for people, not behaviour"
_TQDM_FILE = "tqdm writes to `sys.stderr` when `file` is `None`, its default"

# Mutants whose behaviour cannot differ from the code's (or that change only text for people).
EQUIVALENT = {
    "jaxgan.gan.x_init_state__mutmut_45": _SHAPE_ONLY,
    "jaxgan.gan.x_init_state__mutmut_50": _SHAPE_ONLY,
    "jaxgan.gan_loss.x_build_modular_train_step__mutmut_36": (
        "without a penalty D's update never reads its key (only the penalty is given it)"),
    "jaxgan.losses.x_get_objective__mutmut_6": "`not False` and `not None` are both true",
    "jaxgan.losses.acgan.x__softmax_cross_entropy__mutmut_23": (
        "`jax.nn.log_softmax`'s default axis is -1: the mutant leaves out the argument that says the default"),
    "jaxgan.losses.x_acgan_objective__mutmut_10": (
        "`shape[+1]`: the objective's labels are one per sample (`[batch]`), so their one-hot encoding is "
        "`[batch, n]`, which the loss checks against the class logits' shape: only `[batch, K]` class logits "
        "pass, and their axis 1 is their last"),
    "jaxgan.losses.reduction.x_align_weights__mutmut_4": (
        "a scalar weight reshaped to `(1, ..., 1)` broadcasts to the losses' shape as the scalar does"),
    "jaxgan.losses.reduction.x_align_weights__mutmut_5": (
        "weights of the losses' rank are reshaped to their own shape: no change"),
    "jaxgan.train.x_fit__mutmut_5": "the progress bar's default label: text for people, not behaviour",
    "jaxgan.train.x_fit__mutmut_92": _REDRAW,
    "jaxgan.train.x_fit__mutmut_94": _REDRAW,
    "jaxgan.train.x_fit__mutmut_95": _REDRAW,
    "jaxgan.train.x_fit__mutmut_110": (
        "the chunk's metrics, fetched before, come from the same program as its state: the state is ready "
        "and the wait does nothing"),
    "jaxgan.train.x_make_chunk_runner__mutmut_11": "`None` is the default of `lax.scan`'s `xs`",
    "jaxgan.train.x_progress_bar__mutmut_10": "`\"it\"` is the default of tqdm's `unit`",
    "jaxgan.train.x_progress_bar__mutmut_11": _TQDM_FILE,
    "jaxgan.train.x_progress_bar__mutmut_5": _TQDM_FILE,
    "jaxgan.losses.penalties.x_make_penalty__mutmut_34": "the penalty's docstring: text for people, not behaviour",
    "jaxgan.losses.penalties.x__reduce__mutmut_6": (
        "`w.ndim >= 1`: 1-D weights (the only other rank that passes) are reshaped to their own shape `(batch,)`"),
    "jaxgan.losses.penalties.x__reduce__mutmut_8": (
        "`w[1].size`: every row of a weight array has the size of row 0, and a JAX array clamps the index 1 of "
        "a batch of one to row 0"),
    "jaxgan.losses.penalties.x__safe_sqrt__mutmut_17": (
        "the stand-in for non-positive squares only keeps `sqrt` (and its derivative) finite where the outer "
        "`where` discards the value: 2 serves as 1 does, and `where` sends no gradient to the branch not taken"),
    "jaxgan.losses.penalties.x__input_gradients__mutmut_5": (
        "the sum of D's outputs is only differentiated: `jax.grad` seeds every output with exactly 1 whatever the "
        "sum's dtype (float64 with 64-bit types), so the input gradients are the same"),
    "jaxgan.losses.penalties.x_dragan_penalty__mutmut_38": (
        "`one_sided=None`: `_norm_penalty` tests it for truth, and `None` is false as `False` is: two-sided"),
}
