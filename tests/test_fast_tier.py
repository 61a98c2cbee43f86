"""The fast tier's selection (``tests/conftest.py``): its files exist, and its exclusions name real tests."""

import ast
from pathlib import Path

from tests.conftest import FAST_FILES, NOT_FAST, TESTS, in_fast_file, is_fast


def test_every_fast_file_pattern_matches_a_test_file():
    for directory, pattern in FAST_FILES:
        assert sorted((TESTS / directory).glob(pattern)), (directory, pattern)


def test_every_excluded_test_is_a_test_function_of_a_fast_file():
    """A renamed or moved test would otherwise join the fast tier unnoticed."""
    for relative_path, names in NOT_FAST.items():
        assert in_fast_file(relative_path), relative_path
        tree = ast.parse((TESTS / relative_path).read_text())
        functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert names <= functions, (relative_path, sorted(names - functions))


def test_selection_by_path_and_name():
    assert is_fast("jaxgan/test_steps.py", "test_steps_compile_once")
    assert is_fast("test_architecture.py", "test_import_contracts_hold")
    assert not is_fast("jaxgan/test_train.py", "test_vmap_over_seeds_matches_separate_runs")
    assert not is_fast("jaxgan/test_cyclegan.py", "test_pool_of_size_zero_passes_fakes_through")
    assert not is_fast("jaxgan/speedups/test_winograd.py", "test_winograd_conv_rejects_kernels_that_do_not_fit")
    assert not is_fast("experiments/toy_gan/test_toy_gan.py", "test_lecture_setting_learns_the_gaussian_over_8_seeds")
    assert Path(TESTS / "jaxgan" / "test_steps.py").is_file()
