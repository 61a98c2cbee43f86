"""A tiny DCGAN run's logs: the fixed-noise grid and every metric in TensorBoard, the same numbers in metrics.jsonl."""

import io

import numpy as np
import pytest
from PIL import Image

from experiments.dcgan.__main__ import main
from experiments.dcgan.config import PROG
from experiments.runner import run_main
from jaxgan.metric_writers import read_metrics
from tests.tensorboard_events import logged_hparams, read_events

# 8x8 digits, tiny networks, 4 steps in chunks of 2; --holdout 0: no judge to train
TINY = ["--dataset", "digits", "--image-size", "8", "--steps", "4", "--batch-size", "16", "--g-features", "8",
        "--d-features", "8", "--sample-every", "2", "--holdout", "0", "--no-progress", "--no-plot"]  # fmt: skip


def test_tensorboard_gets_scalars_sample_grids_and_settings_matching_the_jsonl(tmp_path, capsys, monkeypatch):
    pytest.importorskip("tensorboardX")
    monkeypatch.setenv("JAXGAN_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "run"
    argv = [*TINY, "--log-every", "1", "--lr-decay-steps", "2", "--tensorboard", "--out", str(out)]
    assert run_main(PROG, main, argv) == 0
    assert f"TensorBoard: tensorboard --logdir {out / 'tensorboard'}\n" in capsys.readouterr().out
    records = read_metrics(out / "metrics.jsonl")
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    # the learning rate of each step's update: constant for 2 steps, then linearly to 0 (update 3 at half)
    assert [r["g_lr"] for r in records] == pytest.approx([2e-4, 2e-4, 2e-4, 1e-4])
    assert [r["d_lr"] for r in records] == [r["g_lr"] for r in records]
    assert "images_per_second" not in records[1] and records[2]["images_per_second"] == pytest.approx(
        16 * records[2]["steps_per_second"])  # fmt: skip
    acc = read_events(out / "tensorboard")
    names = set(records[2]) - {"step"}
    assert {"d_loss", "g_loss", "d_real", "d_fake"} <= names and set(acc.Tags()["scalars"]) == names
    for name in names - {"steps_per_second", "images_per_second"}:
        assert [e.step for e in acc.Scalars(name)] == [1, 2, 3, 4]
        assert [e.value for e in acc.Scalars(name)] == pytest.approx([r[name] for r in records], rel=1e-6)
    grids = acc.Images("samples")  # the fixed noise's 8x8 grid of 8x8 digits, 2-pixel gaps, at each chunk end
    assert [(g.step, g.width, g.height) for g in grids] == [(2, 8 * 10 + 2, 8 * 10 + 2), (4, 82, 82)]
    pixels = np.asarray(Image.open(io.BytesIO(grids[1].encoded_image_string)))
    assert pixels[:2].min() == 255 and pixels[2:10, 2:10].std() > 0  # the white frame, then a digit that varies
    assert logged_hparams(acc)["dataset"] == "digits" and logged_hparams(acc)["steps"] == 4
