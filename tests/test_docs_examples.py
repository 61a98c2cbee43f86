"""Every Python code block of the README and of docs/guide.md runs, as the reader would run it, and
the guide's programs do what it says they do.

The blocks of one file run in order as one program, in a fresh process (the guide's with four CPU
devices, so that its several-devices section splits the work), in a temporary directory. The
guide's program is followed by :data:`GUIDE_FACTS`, which prints what its tasks computed as JSON;
one test per task then checks it against a known answer or an independent computation: the
lecture's GAN learns the data's covariance, the modular (``GANLoss``) script computes what the
explicit steps compute, the moons GAN's D and G schedules end together and its samples lie on the
moons, the losses equal their formulas, a resumed run is bit-identical, the work is split over the
devices.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
DEVICES = 4

# Run after the guide's blocks, in the same namespace: what each task computed, for the tests below.
GUIDE_FACTS = '''
import json as _json

_facts = {}
# 1. The lecture's GAN: W^T W against A^T A, after fit and at the start.
_W0 = np.asarray(jaxgan.init_state(gan, 0).g.params["linear"]["kernel"], np.float64)
_target = A.T @ A
_facts["cov_err"] = float(np.linalg.norm(W.T @ W - _target) / np.linalg.norm(_target))
_facts["cov_err_at_start"] = float(np.linalg.norm(_W0.T @ _W0 - _target) / np.linalg.norm(_target))

# 2. The modular script against the library's explicit steps, on the same batches, noise and D.
_state = jaxgan.init_state(gan, 0)._replace(d=gan_loss.init(jax.random.PRNGKey(2), data[:32]))
_key = jax.random.PRNGKey(3)
for _i in range(100):
    _key, _sub = jax.random.split(_key)
    _state, _ = d_step(_state, data[(32 * _i) % 3200:][:32], jax.random.normal(_sub, (32, 2)))
    _state, _ = g_step(_state, jax.random.normal(_sub, (32, 2)))
_facts["modular_vs_steps"] = max(float(jnp.max(jnp.abs(a - b))) for a, b in
                                 zip(jax.tree_util.tree_leaves((g_state.params, d_state.params)),
                                     jax.tree_util.tree_leaves((_state.g.params, _state.d.params))))
_facts["modular_moved"] = max(float(jnp.max(jnp.abs(a - b))) for a, b in
                              zip(jax.tree_util.tree_leaves(g_state.params),
                                  jax.tree_util.tree_leaves(jaxgan.init_state(gan, 0).g.params)))

# 3. The moons GAN: each player's update count, and the learning rate of its last update.
_counts = lambda opt_state: [int(x) for x in jax.tree_util.tree_leaves(opt_state) if jnp.ndim(x) == 0]
_facts["g_counts"], _facts["d_counts"] = _counts(moons_result.state.g.opt_state), _counts(moons_result.state.d.opt_state)
_facts["g_last_lr"] = float(schedule(max(_facts["g_counts"]) - 1))
_facts["d_last_lr"] = float(jaxgan.d_schedule(schedule, n_critic)(max(_facts["d_counts"]) - 1))
_facts["lr_at_end"], _facts["lr_at_start"] = float(schedule(steps - 1)), float(schedule(0))
_facts["moons_distance"] = float(distance.mean())

# 4. The losses, for comparison with their formulas.
_facts["losses"] = {"d_loss": float(d_loss), "g_loss": float(g_loss), "per_example": np.asarray(per_example).tolist(),
                    "grad_fake": np.asarray(grad_fake).tolist(), "r1": float(r1)}

# 5. Resume.
_facts["resumed_step"] = int(restored.step)
_facts["bit_identical"] = bool(all(jax.tree_util.tree_leaves(same)))
_facts["resumed_differs_from_half"] = bool(not all(jax.tree_util.tree_leaves(
    jax.tree.map(lambda a, b: bool(jnp.array_equal(a, b)), first_half, resumed))))

# 6. Several devices: how many, and how many rows of a batch each holds inside the compiled step.
_facts["devices"] = n
_batch_fn = parallel.sharded_batch_fn(contiguous_batches(32 * n), mesh)
_batch = jax.jit(lambda d: _batch_fn(d, None, 0))(parallel.place_dataset(data, mesh))
_facts["batch_shards"] = [s.data.shape[0] for s in _batch.addressable_shards]
print("GUIDE_FACTS", _json.dumps(_facts))
'''


def python_blocks(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text())


def run_blocks(blocks: list[str], tmp_path: Path, devices: int) -> subprocess.CompletedProcess:
    program = tmp_path / "program.py"
    program.write_text("\n\n".join(blocks))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg",
           "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
    return subprocess.run([sys.executable, str(program)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=900)


def test_the_code_blocks_of_the_readme_run(tmp_path):
    blocks = python_blocks(ROOT / "README.md")
    assert blocks, "README.md has no python code block"
    out = run_blocks(blocks, tmp_path, 1)
    assert out.returncode == 0, out.stderr[-3000:]


@pytest.fixture(scope="module")
def guide(tmp_path_factory):
    """The guide's program and its facts: ``(stdout, facts)``."""
    blocks = python_blocks(ROOT / "docs/guide.md")
    assert blocks, "docs/guide.md has no python code block"
    out = run_blocks([*blocks, GUIDE_FACTS], tmp_path_factory.mktemp("guide"), DEVICES)
    assert out.returncode == 0, out.stderr[-3000:]
    facts = json.loads(re.search(r"^GUIDE_FACTS (.*)$", out.stdout, re.M).group(1))
    return out.stdout, facts


def test_the_guides_programs_run_and_print_what_it_says(guide):
    stdout, _ = guide
    assert "bit-identical: True" in stdout and f"{DEVICES} device(s):" in stdout
    assert (ROOT / "docs/guide.md").read_text().count("```python") == len(python_blocks(ROOT / "docs/guide.md"))


def test_task_1_the_lectures_gan_learns_the_datas_covariance(guide):
    _, facts = guide
    assert facts["cov_err"] < 0.1 < facts["cov_err_at_start"], facts  # 32 seeds at 2000 iterations: median 0.060


def test_task_2_the_modular_script_computes_what_the_explicit_steps_compute(guide):
    _, facts = guide
    assert facts["modular_vs_steps"] < 1e-5 and facts["modular_moved"] > 1e-2, facts


def test_task_3_the_moons_critic_and_generator_schedules_end_together(guide):
    _, facts = guide
    steps, n_critic = 2000, 5
    assert max(facts["g_counts"]) == steps and max(facts["d_counts"]) == n_critic * steps, facts
    assert facts["g_last_lr"] == facts["d_last_lr"] == facts["lr_at_end"] < facts["lr_at_start"], facts
    assert facts["moons_distance"] < 0.05, facts  # its samples lie on the moons


def test_task_4_the_losses_in_plain_jax_equal_their_formulas(guide):
    _, facts = guide
    real, fake = np.array([2.0, 1.5, 3.0]), np.array([-1.0, 0.5, -2.0])
    log_sigmoid = lambda x: -np.log1p(np.exp(-x))
    got = facts["losses"]
    np.testing.assert_allclose(got["d_loss"], np.mean(-log_sigmoid(real)) + np.mean(-log_sigmoid(-fake)), rtol=1e-6)
    np.testing.assert_allclose(got["g_loss"], np.mean(-log_sigmoid(fake)), rtol=1e-6)
    np.testing.assert_allclose(got["per_example"], np.maximum(0, 1 - real) + np.maximum(0, 1 + fake), rtol=1e-6)
    np.testing.assert_allclose(got["grad_fake"], -1 / (1 + np.exp(fake)) / 3, rtol=1e-6)
    np.testing.assert_allclose(got["r1"], 25.0, rtol=1e-6)


def test_task_5_a_run_resumed_through_the_checkpoint_api_is_bit_identical(guide):
    _, facts = guide
    assert facts["resumed_step"] == 200 and facts["bit_identical"] and facts["resumed_differs_from_half"], facts


def test_task_6_each_device_gets_its_share_of_the_batch(guide):
    _, facts = guide
    assert facts["devices"] == DEVICES and facts["batch_shards"] == [32] * DEVICES, facts


def test_the_guide_covers_the_tasks_in_order():
    headings = re.findall(r"^## \d\. (.*)$", (ROOT / "docs/guide.md").read_text(), re.M)
    assert [h.split(",")[0].split(" ")[0] for h in headings] == ["The", "The", "Your", "Losses", "Saving", "Several"]
