"""``python -m experiments.sample RUN_DIR``: samples from a trained run, or translates a folder with it."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from experiments.runner import check_out_dir, run_main, say
from experiments.sample.config import NAMES, PROG, TRANSLATORS, check_options, parse_args
from experiments.sample.run_dir import open_run
from experiments.sample.translate_paired import check_direction


def _sampler(experiment: str):
    from experiments.sample.images import sample_images
    from experiments.sample.points import sample_points
    from experiments.sample.translate import translate_folder
    from experiments.sample.translate_paired import translate_paired_folder

    return {"toy_gan": sample_points, "mixture_gan": sample_points, "dcgan": sample_images,
            "cyclegan": translate_folder, "pix2pix": translate_paired_folder}[experiment]  # fmt: skip


def main(argv=None) -> int:
    """Reads the run of the command line ``argv``, draws or translates, writes; returns the exit status."""
    t0 = time.perf_counter()
    options = parse_args(argv)
    run = open_run(options.run_dir)
    check_options(options, run.experiment, options.run_dir)
    if run.experiment == "pix2pix":  # one generator: the direction is the run's
        options = dataclasses.replace(options, direction=check_direction(run, options.direction))
    options = options.resolved(run.experiment)
    default_out = f"translated_{options.direction}" if run.experiment in TRANSLATORS else "generated"
    out = check_out_dir(options.out or run.path / default_out)
    options = dataclasses.replace(options, out=str(out))
    say(f"{NAMES[run.experiment]} run {options.run_dir}, checkpoint of step {run.step}")
    files = _sampler(run.experiment)(run, options)
    shown = ", ".join(map(str, files)) if len(files) <= 4 else f"{len(files)} images under {out}"
    say(f"wrote {shown} ({time.perf_counter() - t0:.1f} s in all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(PROG, main))
