"""What every experiment's command line shares: help texts that name only options it has, an ``--out``
that cannot be created refused at start, and the preset a data set takes printed at start."""

import importlib
import re

import pytest

from experiments.runner import run_cli, run_main

COMMANDS = (
    "toy_gan", "mixture_gan", "dcgan", "cyclegan", "pix2pix", "benchmark", "bench.conv_layers", "bench.dcgan_parts",
    "bench.loop_kernels", "bench.toy_kernel", "bench.xla_options", "bench.device_trace", "bench.state_copy", "sample",
    "plot",
)  # fmt: skip
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*(?![\w-])")
OTHER_COMMANDS_OPTION = re.compile(r"\S+'s --[a-z][a-z0-9-]*")  # "experiments.bench.xla_options's --set"


def help_text(module: str, capsys, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", "10000")  # argparse wraps at the terminal's width: one line per option
    with pytest.raises(SystemExit) as exit_info:
        importlib.import_module(f"experiments.{module}.__main__" if "." not in module else f"experiments.{module}").main(
            ["--help"]
        )
    assert exit_info.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("module", COMMANDS)
def test_help_names_only_options_the_command_has(module, capsys, monkeypatch):
    """Every ``--option`` a help text mentions is one of the command's own (its usage line lists
    them all), apart from another command's options named as such."""
    text = help_text(module, capsys, monkeypatch)
    usage, _, rest = text.partition("\n\n")
    declared = set(OPTION.findall(usage)) | {"--help"}  # the usage line shows -h
    assert len(declared) > 1 and "\n" not in usage.strip(), usage  # the whole usage, on one line
    mentioned = set(OPTION.findall(OTHER_COMMANDS_OPTION.sub("", rest)))
    assert mentioned - declared == set(), f"python -m experiments.{module} --help names options it does not have"


def test_the_help_check_would_see_an_option_that_does_not_exist(capsys, monkeypatch):
    """The check above is not vacuous: a help text naming ``--chunk-size`` in a parser without it fails it."""
    from experiments.runner import Parser, add_lifecycle_args

    p = Parser(prog="prog")
    add_lifecycle_args(p)  # its help says "use a multiple of --chunk-size"
    usage, _, rest = p.format_help().partition("\n\n")
    assert "--chunk-size" in set(OPTION.findall(rest)) - set(OPTION.findall(usage))


# ------------------------------------------------------------------------------------------ --out


def blocked_out(tmp_path):
    (tmp_path / "notes.txt").write_text("a file where a directory should go")
    return str(tmp_path / "notes.txt" / "run")


# Each command with a data source that would fail if it were read first (a missing --data-dir):
# the --out error proves the check comes before the data and before any training.
OUT_CASES = {
    "toy_gan": ["--steps", "1", "--no-progress"],
    "mixture_gan": ["--seeds", "1", "--devices", "1", "--steps", "1", "--no-progress"],
    "dcgan": ["--dataset", "folder", "--data-dir", "/nonexistent/images", "--no-progress"],
    "cyclegan": ["--dataset", "folder", "--data-dir", "/nonexistent/images", "--no-progress"],
    "pix2pix": ["--dataset", "folder", "--data-dir", "/nonexistent/images", "--no-progress"],
    "benchmark": ["--quick", "--workload", "toy"],
}


@pytest.mark.parametrize("module", sorted(OUT_CASES))
def test_an_out_that_cannot_be_created_is_a_one_line_error_at_start(module, tmp_path, capsys):
    main = importlib.import_module(f"experiments.{module}.__main__").main
    out = blocked_out(tmp_path)
    runner = run_cli if module == "benchmark" else run_main
    assert runner("prog", main, [*OUT_CASES[module], "--out", out]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"prog: error: --out {out} cannot be created: {tmp_path}/notes.txt is in the way (a file, not a "
        "directory); pick another --out\n"
    )


# ---------------------------------------------------------------------------------------- presets


def test_dcgan_takes_each_data_sets_recorded_recipe_unless_flags_say_otherwise(capsys):
    from experiments.dcgan import DCGANConfig, parse_args

    digits = parse_args(["--dataset", "digits"])
    assert (digits.r1, digits.steps, digits.g_ema, digits.g_features) == (1.0, 4000, 0.0, 64)
    assert capsys.readouterr().out == "preset for digits: --r1 1 --steps 4000; flags given override it\n"
    assert parse_args([]).steps == 4000  # digits is the default data set
    # the short commands are the recorded ones (docs/results.md), setting for setting
    assert digits == parse_args(["--dataset", "digits", "--r1", "1", "--steps", "4000"])
    recorded_mnist = "--dataset mnist --split test --g-features 32 --d-features 32 --r1 1 --g-ema 0.999 --steps 12000"
    assert parse_args(["--dataset", "mnist", "--split", "test"]) == parse_args(recorded_mnist.split())
    capsys.readouterr()

    mnist = parse_args(["--dataset", "mnist", "--steps", "20", "--r1", "0"])
    assert (mnist.g_features, mnist.d_features, mnist.g_ema, mnist.r1, mnist.steps) == (32, 32, 0.999, 0.0, 20)
    assert capsys.readouterr().out == (
        "preset for mnist: --g-features 32 --d-features 32 --r1 1 --g-ema 0.999 --steps 12000; "
        "flags given override it (here --r1 --steps)\n"
    )
    folder = parse_args(["--dataset", "folder", "--data-dir", "x"])
    assert folder.holdout == 0 and folder.steps == DCGANConfig.steps
    assert capsys.readouterr().out == "preset for folder: --holdout 0; flags given override it\n"
    cifar = parse_args(["--dataset", "cifar10"])  # no recorded recipe: the plain defaults, nothing said
    assert (cifar.r1, cifar.steps, cifar.holdout) == (DCGANConfig.r1, DCGANConfig.steps, DCGANConfig.holdout)
    assert capsys.readouterr().out == ""


def test_cyclegan_prints_the_preset_of_its_kind_of_data(capsys):
    from experiments.cyclegan.config import parse_args

    tasks = parse_args(["--ngf", "4"])
    assert (tasks.ngf, tasks.n_blocks, tasks.ndf, tasks.n_layers, tasks.batch_size) == (4, 3, 16, 2, 8)
    assert capsys.readouterr().out == (
        "preset for digits-thick (known-answer tasks): --ngf 16 --n-blocks 3 --ndf 16 --n-layers 2 --batch-size 8; "
        "flags given override it (here --ngf)\n"
    )
    folder = parse_args(["--dataset", "folder", "--data-dir", "x"])
    assert (folder.ngf, folder.n_blocks, folder.ndf, folder.n_layers, folder.batch_size) == (64, 9, 64, 3, 1)
    assert capsys.readouterr().out.startswith("preset for folder: --ngf 64 --n-blocks 9 ")


def test_pix2pix_prints_the_preset_of_its_kind_of_data(capsys):
    from experiments.pix2pix.config import PRESETS, parse_args

    tasks = parse_args(["--ngf", "4"])
    small = PRESETS["known-answer tasks"]
    assert (tasks.ngf, tasks.ndf, tasks.n_layers, tasks.batch_size) == (4, small["ndf"], 2, 8)
    assert capsys.readouterr().out.startswith("preset for digits-thick (known-answer tasks): --ngf ")
    folder = parse_args(["--dataset", "folder", "--data-dir", "x"])
    assert (folder.ngf, folder.ndf, folder.n_layers, folder.dropout_blocks, folder.batch_size) == (64, 64, 3, 3, 1)
    assert capsys.readouterr().out.startswith("preset for folder: --ngf 64 --ndf 64 --n-layers 3 --dropout-blocks 3 ")


def test_mixture_gan_prints_the_recipe_it_takes(capsys):
    from experiments.mixture_gan.config import parse_args

    config = parse_args(["--dataset", "grid", "--seeds", "1", "--devices", "1", "--steps", "30"])
    line = capsys.readouterr().out
    assert line.startswith("recipe default for grid: --loss nonsaturating --penalty r1 --penalty-weight 0.05 ")
    assert "--batch-size 128 --steps 16000 " in line and "--data-scale 4" in line
    assert line.endswith("; flags given override it (here --steps)\n") and line.count("\n") == 1
    assert config.resolved().steps == 30 and config.resolved().batch_size == 128
