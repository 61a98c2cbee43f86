"""The stability map: a grid of hyperparameter settings, every one trained at once in one compiled program.

    python -m experiments.mixture_gan --dataset ring --seeds 1 \\
        --sweep lr=1e-4,3e-4,1e-3,3e-3:penalty-weight=0,0.005,0.05,0.5

``--sweep`` names one or two axes, ``NAME=V1,V2,...`` separated by ``:``; the grid is every
combination (the first axis is the map's rows, the second its columns). The names are the recipe's
hyperparameters that change numbers and not shapes, so every cell is the same program on other values:

* ``lr``: both players' learning rate (``--g-lr`` and ``--d-lr`` together); ``g-lr``, ``d-lr``: one;
* ``penalty-weight``: the weight of D's penalty (R1: ``gamma / 2``; needs a recipe with a penalty);
* ``beta1``, ``beta2``: Adam's.

Each cell trains ``--seeds`` runs, and every cell trains the same seeds (the same initial networks
and random streams), so that cells differ by their hyperparameters only. How the settings reach one
program: the swept values are per-run *data* of the vmapped train step (``fit(vmap_data=True)``);
inside the step they are traced arrays from which the step builds its GAN, its optimizers (the
learning rate, cosine decay included, and Adam's betas) and its penalty (``weight * R1``). A cell
trained this way computes what the same setting trained alone computes, up to float32 rounding.

A weight-0 cell keeps the penalty term, multiplied by 0: the same update as no penalty, but its
random stream differs from a run without a penalty (a penalty takes a key from the state). A run
whose training reaches a non-finite value is reported as diverged (0 modes, 0% HQ); the others go on.
A run with no high-quality sample has no reverse KL (``null``); a cell's is the mean of its seeds' others.
A sweep is not checkpointed (``--resume`` is refused). Outputs: ``<out>/results.json``,
``<out>/samples.npy`` ``(cells * seeds, eval_samples, 2)`` and ``<out>/sweep.png`` (heatmaps of modes
covered and HQ %, the recipe's own cell outlined), drawn by :mod:`experiments.mixture_gan.sweep_report`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Optional

import numpy as np

from experiments.mixture_gan.config import MixtureConfig, Recipe, validate_recipe
from experiments.mixture_gan.sweep_spec import SWEEPABLE, Axis, cell_settings, parse_sweep
from experiments.runner import (
    UserError,
    check_out_dir,
    check_splits_evenly,
    device_description,
    host_description,
    write_json,
)

__all__ = [
    "SWEEPABLE",
    "Axis",
    "best_cell",
    "cell_settings",
    "check_sweep",
    "finite_runs",
    "parse_sweep",
    "run_sweep",
    "swept_recipe",
    "sweep_train_step",
]

def check_sweep(axes: tuple[Axis, ...], config: MixtureConfig, recipe: Recipe) -> None:
    """``UserError`` when the sweep does not fit the run: a swept value also given as a flag, a
    penalty-weight axis without a penalty, or ``--resume``."""
    for axis in axes:
        for field in SWEEPABLE[axis.name]:
            if getattr(config, field) is not None:
                raise UserError(f"--sweep sets {axis.name}; drop --{field.replace('_', '-')}")
    if any(a.name == "penalty-weight" for a in axes) and recipe.penalty == "none":
        raise UserError("--sweep penalty-weight needs a penalty: the recipe has none (pass e.g. --penalty r1)")
    if config.resume:
        raise UserError("--resume does not apply to --sweep (a sweep is not checkpointed)")


def swept_recipe(recipe: Recipe, setting) -> Recipe:
    """``recipe`` with a cell's values (``{sweep name: value}``; values may be traced arrays)."""
    return dataclasses.replace(recipe, **{f: v for name, v in setting.items() for f in SWEEPABLE[name]})


def sweep_train_step(recipe: Recipe, mixture):
    """``train_step(state, data)`` of one cell: ``data = {"means": (K, 2), "setting": {name: scalar}}``.

    The GAN is built inside the step from the cell's traced values (:func:`swept_recipe`), so under
    ``vmap`` each run trains with its own learning rate, betas and penalty weight.
    """
    import jaxgan
    from jaxgan.data.mixtures import mixture_batches

    from experiments.mixture_gan.train import build_gan

    batches = mixture_batches(recipe.batch_size, mixture.std)

    def train_step(state, data):
        gan = build_gan(swept_recipe(recipe, data["setting"]))
        return jaxgan.build_train_step(gan, batches)(state, data["means"])

    return train_step


def finite_runs(state) -> np.ndarray:
    """Per run of stacked states: True when every float leaf of its state is finite.

    Args:
      state: a pytree whose leaves have a leading run axis.

    Returns:
      bool ``(runs,)``.
    """
    import jax
    import jax.numpy as jnp

    leaves = [x for x in jax.tree.leaves(state) if jnp.issubdtype(x.dtype, jnp.floating)]
    per_leaf = [jnp.all(jnp.isfinite(x.reshape(x.shape[0], -1)), axis=1) for x in leaves]
    return np.asarray(jnp.all(jnp.stack(per_leaf), axis=0))


def _cell_summary(setting: dict, rows: list[dict]) -> dict:
    """A cell's means over its seeds (reverse KL: over the seeds that have one), and its seeds' rows."""
    kls = [r["reverse_kl"] for r in rows if r["reverse_kl"] is not None]
    return {
        "setting": setting,
        "modes_mean": float(np.mean([r["modes"] for r in rows])),
        "hq_percent_mean": float(np.mean([r["hq_percent"] for r in rows])),
        "reverse_kl_mean": float(np.mean(kls)) if kls else None,
        "diverged": sum(r["diverged"] for r in rows),
        "per_seed": rows,
    }


def _recipe_cell(axes, cells: list[dict], recipe: Recipe) -> Optional[int]:
    """The index of the cell holding the recipe's own values, or ``None`` if the grid lacks them."""
    own = {a.name: float(getattr(recipe, SWEEPABLE[a.name][0])) for a in axes}
    for i, cell in enumerate(cells):
        if all(math.isclose(cell["setting"][k], v, rel_tol=1e-9) for k, v in own.items()):
            return i
    return None


def best_cell(cells: list[dict]) -> int:
    """The cell with the most modes (mean over seeds), then the highest HQ %, then the lowest reverse KL."""
    def rank(i):
        kl = cells[i]["reverse_kl_mean"]
        return cells[i]["modes_mean"], cells[i]["hq_percent_mean"], -(math.inf if kl is None else kl)

    return max(range(len(cells)), key=rank)


def run_sweep(config: MixtureConfig) -> dict:
    """Trains every cell of ``config.sweep`` (``config.seeds`` runs each) in one program, scores them,
    writes ``results.json``, ``samples.npy`` and ``sweep.png`` into ``config.out``; returns the results.

    Args:
      config: the run; ``config.sweep`` is the spec (see :func:`parse_sweep`).

    Returns:
      The results: the axes, each cell's means over seeds and per-seed rows, the ``(rows, cols)`` grids
      ``modes`` and ``hq_percent``, the recipe's cell and the best cell, timings.
    """
    axes = parse_sweep(config.sweep)
    recipe = config.validate()
    check_sweep(axes, config, recipe)
    for axis in axes:  # every value must make a valid recipe
        for value in axis.values:
            validate_recipe(swept_recipe(recipe, {axis.name: value}))
    check_out_dir(config.out)
    t_start = time.perf_counter()

    import jax
    import jax.numpy as jnp

    import jaxgan
    from jaxgan.data.mixtures import get_mixture
    from jaxgan.parallel import sharding
    from jaxgan.parallel.hosts import is_main_process

    from experiments.mixture_gan.sweep_report import plot_sweep
    from experiments.mixture_gan.train import build_gan, make_evaluator, run_keys

    settings = cell_settings(axes)
    n_cells, seeds = len(settings), config.seeds
    runs = n_cells * seeds
    mixture = get_mixture(config.dataset)
    gan = build_gan(recipe)  # the states' structure and the evaluator (G only) do not depend on the values
    mesh = sharding.make_mesh(config.devices)
    check_splits_evenly(runs, sharding.mesh_size(mesh), "the sweep's settings x --seeds =")
    keys = jnp.tile(run_keys(config.seed, seeds), (n_cells, 1))  # run c * seeds + s is seed s of cell c
    states = jaxgan.init_states(lambda k: jaxgan.init_state(gan, jax.random.fold_in(k, 1)), keys)
    data = {
        "means": jnp.broadcast_to(jnp.asarray(mixture.means), (runs, *np.shape(mixture.means))),
        "setting": {a.name: jnp.repeat(jnp.asarray([s[a.name] for s in settings], jnp.float32), seeds)
                    for a in axes},
    }
    keys, states, data = sharding.shard_runs((keys, states, data), mesh)
    result = jaxgan.fit(
        sweep_train_step(recipe, mixture), states, data, recipe.steps, chunk_size=config.chunk_size,
        vmapped=True, vmap_data=True, progress=config.progress and is_main_process(),
        desc=f"{config.dataset} sweep x{runs}",
    )
    finite = finite_runs(sharding.gather(result.state))
    samples, metrics = sharding.gather(make_evaluator(gan, mixture, config.eval_samples)(result.state, keys))
    total_seconds = time.perf_counter() - t_start

    cells = []
    for c, setting in enumerate(settings):
        rows = []
        for s in range(seeds):
            r = c * seeds + s
            ok = bool(finite[r])
            kl = float(metrics["reverse_kl"][r])
            rows.append({
                "seed": s,
                "modes": int(metrics["modes"][r]) if ok else 0,
                "hq_percent": float(metrics["hq_percent"][r]) if ok else 0.0,
                "reverse_kl": kl if ok and math.isfinite(kl) else None,  # None: no HQ sample
                "diverged": not ok,
            })
        cells.append(_cell_summary(setting, rows))
    shape = (len(axes[0].values), len(axes[1].values)) if len(axes) == 2 else (1, len(axes[0].values))
    results = {
        "sweep": config.sweep,
        "axes": [{"name": a.name, "values": list(a.values)} for a in axes],
        "dataset": config.dataset,
        "recipe_name": config.recipe,
        "recipe": dataclasses.asdict(recipe),
        "seeds": seeds,
        "seed": config.seed,
        "cells": n_cells,
        "runs": runs,
        "steps": result.steps_done,
        "batch_size": recipe.batch_size,
        "eval_samples": config.eval_samples,
        "num_modes": int(len(mixture.means)),
        "mode_std": mixture.std,
        "cell_results": cells,
        "modes": np.reshape([c["modes_mean"] for c in cells], shape).tolist(),
        "hq_percent": np.reshape([c["hq_percent_mean"] for c in cells], shape).tolist(),
        "recipe_cell": _recipe_cell(axes, cells, recipe),
        "best_cell": best_cell(cells),
        "compile_seconds": result.compile_seconds,
        "train_seconds": result.train_seconds,
        "total_seconds": total_seconds,
        "device": device_description(),
        "host": host_description(),
        "devices": sharding.mesh_size(mesh),
    }
    if not is_main_process():
        return results
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "samples.npy", samples)
    write_json(out / "results.json", results)
    if config.plot:
        plot_sweep(out / "sweep.png", results)
    return results
