"""``python -m experiments.dcgan --dataset folder --data-dir DIR``: DCGAN on one's own images.

Every image trains by default (the folder preset ``--holdout 0``) and the run says at start that
nothing judges it; its messages count what the user has (the images in the folder, the options
given); a file given as the directory is called a file; every unreadable image is named at once.
"""

import json

import numpy as np
import pytest
from PIL import Image

from experiments.dcgan import DCGANConfig
from experiments.dcgan.__main__ import main
from experiments.dcgan.config import PROG
from experiments.dcgan.report import format_report
from experiments.dcgan.train import holdout_size, judging_note, load_data
from experiments.runner import UserError, run_main

TINY = ["--image-size", "8", "--g-features", "4", "--d-features", "4", "--steps", "2", "--sample-every", "2",
        "--no-progress", "--no-plot"]  # fmt: skip
METRICS = ("classifier_score", "classifier_score_matched", "real_classifier_score", "frechet_distance",
           "real_frechet_floor", "class_kl", "real_class_kl", "classifier_accuracy", "score_samples",
           "improved_precision", "improved_recall", "density", "coverage", "real_coverage")  # fmt: skip


def image_folder(path, n: int, size: int = 8):
    """``n`` random ``size x size`` RGB PNGs in ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(n)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(path / f"image{i:03d}.png")
    return path


def one_line_error(argv, capsys) -> str:
    assert run_main(PROG, main, argv) == 2, argv
    captured = capsys.readouterr()
    err = captured.err
    assert err.startswith(f"{PROG}: error: ") and err.count("\n") == 1, err
    return err[len(f"{PROG}: error: ") :].strip()


def test_holdout_0_on_a_folder_trains_on_every_image_and_says_there_is_no_evaluation(tmp_path, capsys):
    data, out = image_folder(tmp_path / "images", 12), tmp_path / "run"
    argv = ["--dataset", "folder", "--data-dir", str(data), *TINY, "--batch-size", "4", "--holdout", "0"]
    assert run_main(PROG, main, [*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[:2] == [
        "preset for folder: --holdout 0; flags given override it (here --holdout)",
        "training on all 12 images, without evaluation: --holdout 0 keeps no images to judge against, "
        "and folder data have no labels to train a judging classifier on",
    ]
    report = "\n".join(printed[2:])
    assert printed[1] in report and "classifier score" not in report and "Frechet" not in report
    results = json.loads((out / "results.json").read_text())
    assert results["evaluated"] is False and results["not_evaluated"] == printed[1]
    assert results["train_images"] == 12 and results["holdout"] == 0 and results["steps"] == 2
    assert [name for name in METRICS if name in results] == []  # no metric that was not measured


def test_a_held_out_part_of_a_folder_is_said_to_be_unjudged(tmp_path):
    config = DCGANConfig(dataset="folder", data_dir=str(image_folder(tmp_path, 30)), image_size=8, holdout=5,
                         batch_size=8)  # fmt: skip
    train, held = load_data(config)
    assert (train.num_examples, held.num_examples) == (25, 5)
    assert judging_note(config, train, held) == (
        "no judge: folder data have no labels to train a judging classifier on, so no classifier score, "
        "Frechet distance or class KL; the 5 held-out images are only kept out of training "
        "(--holdout 0 trains on every image)"
    )


def test_holdout_0_on_labelled_data_skips_the_judge_and_the_report_shows_no_metric():
    config = DCGANConfig(dataset="digits", holdout=0)
    train, held = load_data(config)
    assert held is None and train.num_examples == 1437
    note = judging_note(config, train, held)
    assert note == "training on all 1437 images, without evaluation: --holdout 0 keeps no images to judge against"
    assert judging_note(DCGANConfig(), *load_data(DCGANConfig())) is None  # held-out digits: judged
    results = {"dataset": "digits", "image_size": 16, "steps": 3, "batch_size": 8, "precision": "float32",
               "train_seconds": 1.0, "compile_seconds": 2.0, "images_per_second": 24.0, "device": "cpu",
               "final_d_loss": 1.0, "final_g_loss": 1.0, "final_d_real": 0.5, "final_d_fake": 0.5,
               "evaluated": False, "not_evaluated": note}  # fmt: skip
    assert format_report(results).splitlines()[2:] == [note]


def test_holdout_messages_say_what_was_given_and_what_is_needed(tmp_path, capsys):
    digits = ["--dataset", "digits", *TINY, "--out", str(tmp_path / "run")]
    assert one_line_error([*digits, "--holdout", "1"], capsys) == (
        "--holdout 1: judging the run needs at least 2 held-out images; pass --holdout 2 or more, "
        "or --holdout 0 to train on all 1437 images without judging"
    )
    with pytest.raises(UserError) as err:
        holdout_size(2000, 8, judged=True)
    assert str(err.value) == (
        "--holdout 2000: at most a fifth of the 8 images is held out, 1 here, and 2 are needed; "
        "use 10 images or more, or --holdout 0 to train on all 8"
    )
    assert holdout_size(1, 200, judged=False) == 1 and holdout_size(2000, 200, judged=True) == 40


def test_holdout_1_on_200_images_of_a_folder_is_not_called_too_few(tmp_path):
    config = DCGANConfig(dataset="folder", data_dir=str(image_folder(tmp_path, 200)), image_size=8, holdout=1)
    train, held = load_data(config)
    assert (train.num_examples, held.num_examples) == (199, 1)


def test_a_batch_larger_than_the_images_is_said_in_the_users_counts(tmp_path, capsys):
    data = image_folder(tmp_path / "images", 10)
    folder = ["--dataset", "folder", "--data-dir", str(data), *TINY, "--out", str(tmp_path / "run")]
    assert one_line_error(folder, capsys) == "--batch-size 64 is more than the 10 images; pass --batch-size 10 or less"
    assert one_line_error([*folder, "--holdout", "5"], capsys) == (
        "--batch-size 64 is more than the 8 images left to train on (10 images, 2 held out by --holdout); "
        "pass --batch-size 8 or less, or --holdout 0 to train on all 10"
    )


def test_a_file_given_as_data_dir_is_called_a_file(tmp_path, capsys):
    (tmp_path / "images.zip").write_bytes(b"PK")
    argv = ["--dataset", "folder", "--data-dir", str(tmp_path / "images.zip"), *TINY, "--out", str(tmp_path / "run")]
    assert one_line_error(argv, capsys) == (
        f"--data-dir {tmp_path}/images.zip is a file, not a directory; pass the directory that holds the data"
    )


def test_every_unreadable_image_is_listed_in_one_message(tmp_path, capsys):
    data = image_folder(tmp_path / "images", 20)
    for i in range(12):
        (data / f"broken{i:02d}.png").write_bytes(b"not a png")
    argv = ["--dataset", "folder", "--data-dir", str(data), *TINY, "--out", str(tmp_path / "run")]
    listed = ", ".join(f"broken{i:02d}.png" for i in range(10))
    assert one_line_error(argv, capsys) == (
        f"12 images in {data} cannot be read: {listed} and 2 more; remove or replace them"
    )


def test_a_test_split_of_a_folder_is_refused_as_what_it_is(tmp_path, capsys):
    argv = ["--dataset", "folder", "--data-dir", str(tmp_path), "--split", "test", *TINY, "--out", str(tmp_path / "run")]
    assert one_line_error(argv, capsys) == (
        "--split test: a folder has no test split (every image under --data-dir is read); leave --split out"
    )
