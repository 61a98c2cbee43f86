"""A data set's recorded recipe as its defaults: the preset applies, a flag given overrides it, one line says so."""

import pytest

from experiments.runner import Parser, apply_preset, format_flags, given_options, presets_epilog


def parser():
    p = Parser(prog="prog")
    p.add_argument("--dataset", default="digits")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--r1", type=float, default=0.0)
    p.add_argument("--g-ema", type=float, default=0.0)
    p.add_argument("--no-plot", dest="plot", action="store_false")
    return p


PRESET = {"r1": 1.0, "steps": 4000}


def test_given_options_are_the_ones_on_the_command_line_even_at_their_default_value():
    p = parser()
    assert given_options(p, []) == frozenset()
    assert given_options(p, ["--steps", "2000", "--no-plot"]) == {"steps", "plot"}  # 2000 is the default: given
    assert given_options(p, ["--r1=0.5", "--dataset", "mnist"]) == {"r1", "dataset"}


def test_the_preset_replaces_the_defaults_and_says_so_in_one_line():
    p = parser()
    args = p.parse_args([])
    line = apply_preset(p, [], args, PRESET, "preset for digits")
    assert (args.r1, args.steps, args.g_ema) == (1.0, 4000, 0.0)
    assert line == "preset for digits: --r1 1 --steps 4000; flags given override it"


def test_a_flag_given_overrides_the_preset_even_when_it_equals_the_plain_default():
    p = parser()
    argv = ["--steps", "2000", "--g-ema", "0.9"]
    args = p.parse_args(argv)
    line = apply_preset(p, argv, args, PRESET, "preset for digits")
    assert (args.r1, args.steps, args.g_ema) == (1.0, 2000, 0.9)
    assert line == "preset for digits: --r1 1 --steps 4000; flags given override it (here --steps)"


def test_no_preset_changes_nothing_and_prints_nothing():
    p = parser()
    args = p.parse_args(["--steps", "7"])
    assert apply_preset(p, ["--steps", "7"], args, {}, "preset for folder") is None
    assert vars(args) == vars(p.parse_args(["--steps", "7"]))


def test_flags_are_spelled_as_typed():
    assert format_flags({"g_features": 32, "g_ema": 0.999, "lr": 2e-4, "concat_real_fake": True}) == (
        "--g-features 32 --g-ema 0.999 --lr 0.0002 --concat-real-fake"
    )
    assert presets_epilog({"digits": PRESET, "cifar10": {}}) == (
        "Defaults by data set, over the ones shown (flags given override them): digits: --r1 1 --steps 4000."
    )


def test_a_bad_flag_is_still_argparses_one_line_error(capsys):
    p = parser()
    with pytest.raises(SystemExit) as exit_info:
        given_options(p, ["--steps", "many"])
    assert exit_info.value.code == 2 and capsys.readouterr().err.count("\n") == 1
