"""``python -m experiments.sample`` on a CycleGAN run: held-out digits translated from PNG files err as
much as the run reported, and the images or folders the translator cannot take are one-line errors."""

import json

import numpy as np
import pytest
from PIL import Image

from experiments.runner import run_main
from experiments.sample.__main__ import main
from tests.experiments.translation_runs import read_pngs, write_held_out_pngs

PROG = "python -m experiments.sample"
TINY = ["--steps", "4", "--chunk-size", "2", "--batch-size", "2", "--image-size", "8", "--ngf", "2", "--n-blocks", "0",
        "--ndf", "2", "--n-layers", "1", "--pool-size", "3", "--classifier-steps", "2", "--no-progress", "--no-plot"]  # fmt: skip


@pytest.fixture(scope="module")
def cyclegan_run(tmp_path_factory):
    """A tiny CycleGAN run on digits-thick (8x8) and its held-out digits as PNG files: ``x`` in
    ``held_out/A``, their answers ``T(x)`` in ``held_out/B``, same names."""
    import jax

    from experiments.cyclegan.__main__ import main as train
    from jaxgan.data.translation_tasks import load_translation_task

    root = tmp_path_factory.mktemp("cyclegan")
    with jax.threefry_partitionable(False):  # compiles the step's draws faster on CPU, as the experiment's tests do
        assert run_main("python -m experiments.cyclegan", train, [*TINY, "--out", str(root / "run")]) == 0
    write_held_out_pngs(root / "held_out", load_translation_task("digits-thick", image_size=8, seed=0))
    return root / "run", root / "held_out"


def test_translating_held_out_digits_errs_as_much_as_the_run_reported(cyclegan_run, tmp_path):
    """``pixel_mae_ab`` of results.json is ``|G_AB(x) - T(x)|`` on the held-out digits and
    ``pixel_mae_ba`` is ``|G_BA(T(x)) - x|``, in float32; through 8-bit PNG files (input, output
    and answer each rounded to the nearest of 256 levels) each error moves by at most one level,
    1/255 on the [0, 1] scale."""
    run, held_out = cyclegan_run
    reported = json.loads((run / "results.json").read_text())
    a, b = read_pngs(held_out / "A", 360), read_pngs(held_out / "B", 360)
    assert run_main(PROG, main, [str(run), "--input", str(held_out / "A"), "--out", str(tmp_path / "ab")]) == 0
    fake_b = read_pngs(tmp_path / "ab", 360)
    assert fake_b.shape == (360, 8, 8, 1)  # at the trained size, one grayscale PNG each
    assert np.mean(np.abs(fake_b - b)) == pytest.approx(reported["pixel_mae_ab"], abs=1 / 255)
    argv = [str(run), "--input", str(held_out / "B"), "--direction", "BA", "--out", str(tmp_path / "ba")]
    assert run_main(PROG, main, argv) == 0
    fake_a = read_pngs(tmp_path / "ba", 360)
    assert np.mean(np.abs(fake_a - a)) == pytest.approx(reported["pixel_mae_ba"], abs=1 / 255)
    # Negative controls, outside that tolerance: doing nothing errs otherwise, and the two
    # translators' images differ (the direction picks the translator)
    assert abs(reported["pixel_mae_identity"] - reported["pixel_mae_ab"]) > 2 / 255
    assert np.mean(np.abs(fake_b - a)) != pytest.approx(reported["pixel_mae_ab"], abs=1 / 255)
    assert run_main(PROG, main, [*argv[:2], str(held_out / "A"), "--direction", "BA", "--out", str(tmp_path / "aba")]) == 0
    assert np.mean(np.abs(read_pngs(tmp_path / "aba", 360) - fake_b)) > 2 / 255


def test_the_default_output_folder_keeps_the_inputs_relative_paths(cyclegan_run):
    run, held_out = cyclegan_run
    nested = held_out.parent / "nested"
    (nested / "sub").mkdir(parents=True)
    Image.open(held_out / "A" / "0000.png").convert("RGB").save(nested / "sub" / "x.jpg")  # colour in: read as grayscale
    assert run_main(PROG, main, [str(run), "--input", str(nested)]) == 0
    with Image.open(run / "translated_AB" / "sub" / "x.png") as image:
        assert image.size == (8, 8) and image.mode == "L"


def one_line_error(capsys, argv):
    assert run_main(PROG, main, argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{PROG}: error: ")
    return err.strip()


def test_images_the_translator_cannot_take_are_one_line_errors(cyclegan_run, tmp_path, capsys):
    run = str(cyclegan_run[0])
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "broken.png").write_bytes(b"not a png")
    Image.new("L", (8, 8)).save(tmp_path / "bad" / "fine.png")
    assert one_line_error(capsys, [run, "--input", str(tmp_path / "bad"), "--out", str(tmp_path / "o")]) == (
        f"{PROG}: error: 1 image in {tmp_path / 'bad'} cannot be read: broken.png; remove or replace them")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images here")
    err = one_line_error(capsys, [run, "--input", str(tmp_path / "empty"), "--out", str(tmp_path / "o")])
    assert err.startswith(f"{PROG}: error: --input: image folder {tmp_path / 'empty'} has no image files (1 other files")
    assert one_line_error(capsys, [run, "--input", str(tmp_path / "bad" / "fine.png")]) == (
        f"{PROG}: error: --input {tmp_path / 'bad' / 'fine.png'} is a file, not a folder; pass a folder of images to translate")
    assert one_line_error(capsys, [run, "--input", str(tmp_path / "missing")]) == (
        f"{PROG}: error: --input {tmp_path / 'missing'} does not exist; pass a folder of images to translate")
    assert not (tmp_path / "o").exists()  # nothing written


def test_a_cyclegan_run_needs_input_and_takes_no_sampling_options(cyclegan_run, capsys):
    run = str(cyclegan_run[0])
    assert one_line_error(capsys, [run]) == (
        f"{PROG}: error: {run} is a CycleGAN run: it translates images; pass --input DIR (a folder of images) "
        "and --direction AB or BA")
    assert one_line_error(capsys, [run, "--num", "10", "--input", run]) == (
        f"{PROG}: error: --num applies to toy GAN and mixture GAN and DCGAN runs; {run} is a CycleGAN run "
        "(experiments.cyclegan): leave --num out")
