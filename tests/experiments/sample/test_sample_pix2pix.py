"""``python -m experiments.sample`` on a pix2pix run: held-out digits translated from PNG files err as
much as the run reported, in the one direction the run learned; the other direction and missing
inputs are one-line errors."""

import json

import numpy as np
import pytest
from PIL import Image

from experiments.runner import run_main
from experiments.sample.__main__ import main

PROG = "python -m experiments.sample"
TINY = ["--steps", "2", "--chunk-size", "2", "--batch-size", "2", "--image-size", "8", "--ngf", "2", "--ndf", "2",
        "--n-layers", "1", "--dropout-blocks", "1", "--classifier-steps", "2", "--no-progress", "--no-plot"]  # fmt: skip


@pytest.fixture(scope="module")
def pix2pix_run(tmp_path_factory):
    """A tiny pix2pix run on digits-thick (8x8, A to B) and its held-out digits as PNG files: ``x`` in
    ``held_out/A``, their answers ``T(x)`` in ``held_out/B``, same names, in the task's order."""
    import jax

    from experiments.pix2pix.__main__ import main as train
    from jaxgan.data.translation_tasks import load_translation_task
    from jaxgan.data.unpaired import to_uint8

    root = tmp_path_factory.mktemp("pix2pix")
    with jax.threefry_partitionable(False):  # compiles the step's draws faster on CPU, as the experiment's tests do
        assert run_main("python -m experiments.pix2pix", train, [*TINY, "--out", str(root / "run")]) == 0
    task = load_translation_task("digits-thick", image_size=8, seed=0)
    for domain, images in (("A", task.test_a.images), ("B", task.test_b.images)):
        (root / "held_out" / domain).mkdir(parents=True)
        for i, image in enumerate(to_uint8(images)):
            Image.fromarray(image[..., 0]).save(root / "held_out" / domain / f"{i:04d}.png")
    return root / "run", root / "held_out"


def read_folder(folder, n=360):
    return np.stack([np.asarray(Image.open(folder / f"{i:04d}.png")) for i in range(n)])[..., None] / 255.0


def test_translating_held_out_digits_errs_as_much_as_the_run_reported(pix2pix_run, tmp_path):
    """``pixel_mae`` of results.json is ``|G(x) - T(x)|`` on the held-out digits, G run with the
    evaluation's dropout keys on batches of 200 (their statistics); the same digits as 8-bit PNG
    files, translated by default in the run's direction and batches, err by the same to within one
    level (1/255) of rounding."""
    run, held_out = pix2pix_run
    reported = json.loads((run / "results.json").read_text())
    assert reported["direction"] == "AtoB"
    a, b = read_folder(held_out / "A"), read_folder(held_out / "B")
    assert run_main(PROG, main, [str(run), "--input", str(held_out / "A")]) == 0  # to RUN/translated_AB
    fake_b = read_folder(run / "translated_AB")
    assert fake_b.shape == (360, 8, 8, 1)  # at the trained size, one grayscale PNG each
    assert np.mean(np.abs(fake_b - b)) == pytest.approx(reported["pixel_mae"], abs=1 / 255)
    # Negative controls, outside that tolerance: doing nothing errs otherwise, and so does G on other
    # batches (its outputs depend on the statistics of the batch they are in)
    assert abs(reported["pixel_mae_identity"] - reported["pixel_mae"]) > 2 / 255
    assert np.mean(np.abs(fake_b - a)) != pytest.approx(reported["pixel_mae"], abs=1 / 255)
    argv = [str(run), "--input", str(held_out / "A"), "--direction", "AB", "--batch-size", "7", "--out", str(tmp_path)]
    assert run_main(PROG, main, argv) == 0  # AB, the run's own direction, may be named
    assert np.mean(np.abs(read_folder(tmp_path) - fake_b)) > 2 / 255


def one_line_error(capsys, argv):
    assert run_main(PROG, main, argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{PROG}: error: ")
    return err.strip()[len(f"{PROG}: error: ") :]


def test_the_direction_the_run_did_not_learn_and_missing_inputs_are_one_line_errors(pix2pix_run, tmp_path, capsys):
    run, held_out = pix2pix_run
    out = tmp_path / "o"
    assert one_line_error(capsys, [str(run), "--input", str(held_out / "B"), "--direction", "BA", "--out", str(out)]) == (
        f"--direction BA: the pix2pix run in {run} learned one direction, A to B (trained with --direction AtoB); "
        "pass --direction AB or leave it out")
    assert one_line_error(capsys, [str(run)]) == (
        f"{run} is a pix2pix run: it translates images in the direction it learned; pass --input DIR (a folder of images)")
    assert one_line_error(capsys, [str(run), "--input", str(held_out / "A"), "--seed", "3"]) == (
        f"--seed applies to toy GAN and mixture GAN and DCGAN runs; {run} is a pix2pix run (experiments.pix2pix): "
        "leave --seed out")
    assert one_line_error(capsys, [str(run), "--input", str(tmp_path / "missing"), "--out", str(out)]) == (
        f"--input {tmp_path / 'missing'} does not exist; pass a folder of images to translate")
    assert not out.exists()  # nothing written


def test_a_run_that_learned_b_to_a_translates_only_that_way():
    from experiments.sample.run_dir import Run
    from experiments.sample.translate_paired import check_direction
    from experiments.runner import UserError

    run = Run(path="runs/p", experiment="pix2pix", config={"direction": "BtoA"}, results=None, step=1)
    assert check_direction(run, None) == check_direction(run, "BA") == "BA"
    with pytest.raises(UserError, match=r"learned one direction, B to A \(trained with --direction BtoA\); pass --direction BA"):
        check_direction(run, "AB")
    assert check_direction(run._replace(config={"direction": "AtoB"}), None) == "AB"
