"""jaxgan.reliability.checkpoint: exact round trip, keep-last-K, refused mismatches, fallback past damaged checkpoints."""

import os
import shutil
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxgan
from jaxgan.reliability.checkpoint import (
    CheckpointCorruptError,
    CheckpointError,
    CheckpointFallbackWarning,
    CheckpointMismatchError,
    CheckpointNotFoundError,
    Checkpointer,
    abstract_like,
    fingerprint,
)


def make_state(seed=0, hidden=8):
    """A GANState as training has it: NamedTuples, optax Adam states (with an EmptyState), ``{}``
    model statistics, an int32 step and a uint32 key; distinct random values in every leaf (drawn
    with NumPy, so that building it compiles nothing), so a mix-up of leaves cannot go unnoticed."""
    rng = np.random.default_rng(seed)
    normal = lambda *shape: jnp.asarray(rng.normal(size=shape), jnp.float32)
    g = {"linear": {"kernel": normal(2, 2), "bias": normal(2)}}
    d = {"Dense_0": {"kernel": normal(2, hidden), "bias": normal(hidden)}, "Dense_1": {"kernel": normal(hidden, 2), "bias": normal(2)}}

    def player(params):
        adam, empty = optax.adam(1e-2).init(params)
        adam = adam._replace(count=jnp.asarray(seed + 3, jnp.int32), mu=jax.tree.map(lambda x: x * 0.5, params),
                             nu=jax.tree.map(lambda x: x * x, params))
        return jaxgan.PlayerState(params, {}, (adam, empty))

    key = jnp.asarray(rng.integers(0, 2**32, size=2, dtype=np.uint32))
    return jaxgan.GANState(player(g), player(d), jnp.asarray(seed * 7 + 1, jnp.int32), key)


def assert_same_bits(a, b):
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == y.dtype and x.shape == y.shape
        assert x.tobytes() == y.tobytes()


def step_files(directory: Path, step: int):
    return sorted(p for p in (directory / str(step)).rglob("*") if p.is_file() and p.name != "jaxgan_manifest.json")


@pytest.fixture(scope="module")
def three_saves(tmp_path_factory):
    """Checkpoints 1, 2, 3 (of different states) with max_to_keep=2, written once for the module."""
    root = tmp_path_factory.mktemp("ckpt")
    states = {s: make_state(seed=s) for s in (1, 2, 3)}
    with Checkpointer(root / "checkpoints", max_to_keep=2) as ck:
        for s, st in states.items():
            ck.save(s, st, config={"lr": 0.01, "loss": "softmax"}, extra={"note": s})
    return root / "checkpoints", states


@pytest.fixture
def saves(three_saves, tmp_path):
    """A private copy of the module's checkpoints, free to damage."""
    src, states = three_saves
    dst = tmp_path / "checkpoints"
    shutil.copytree(src, dst)
    return dst, states


def test_round_trip_is_exact_against_an_abstract_target(saves):
    directory, states = saves
    target = jax.eval_shape(lambda: make_state(seed=0))  # shapes only, nothing allocated
    ck = Checkpointer(directory)
    assert ck.steps() == [2, 3]  # max_to_keep=2: step 1 was dropped
    restored = ck.restore(target)
    assert restored.step == 3 and restored.skipped == ()
    assert type(restored.state) is jaxgan.GANState
    assert_same_bits(restored.state, states[3])
    assert restored.metadata["config"] == {"lr": 0.01, "loss": "softmax"}
    assert restored.metadata["extra"] == {"note": 3}
    older = ck.restore(make_state(seed=9), step=2)  # a concrete target works too
    assert_same_bits(older.state, states[2])


def test_fingerprint_sees_a_single_bit(saves):
    _, states = saves
    st = states[1]
    flipped = st._replace(step=st.step + 1)
    assert fingerprint(st) == fingerprint(jax.tree.map(jnp.copy, st))
    assert fingerprint(st) != fingerprint(flipped)


def test_other_shapes_are_refused_naming_path_and_both_shapes(saves):
    directory, _ = saves
    with pytest.raises(CheckpointMismatchError) as err:
        Checkpointer(directory).restore(make_state(hidden=16))
    msg = str(err.value)
    assert "d.params.Dense_0.kernel" in msg or "d.params.Dense_0.bias" in msg
    assert "float32[8]" in msg or "float32[2, 8]" in msg  # the checkpoint's shape
    assert "float32[16]" in msg or "float32[2, 16]" in msg  # the expected shape
    assert "\n" not in msg


def test_other_dtype_is_refused(saves):
    directory, _ = saves
    st = make_state()
    target = st._replace(step=st.step.astype(jnp.float32))
    with pytest.raises(CheckpointMismatchError, match=r"step: the checkpoint has int32\[\], expected float32\[\]"):
        Checkpointer(directory).restore(target)


def test_other_structure_is_refused(saves):
    directory, _ = saves
    st = make_state()
    target = {"state": st, "pool": jnp.zeros((4, 2))}  # e.g. an image pool this run expects
    with pytest.raises(CheckpointMismatchError, match="missing from the checkpoint"):
        Checkpointer(directory).restore(target)


def test_other_configuration_is_refused_naming_the_field(saves):
    directory, _ = saves
    with pytest.raises(CheckpointMismatchError, match=r"loss: the checkpoint has 'softmax', expected 'hinge'"):
        Checkpointer(directory).restore(make_state(), config={"lr": 0.01, "loss": "hinge"})
    # the matching config restores
    assert Checkpointer(directory).restore(make_state(), config={"loss": "softmax", "lr": 0.01}).step == 3


def test_a_field_added_since_the_save_is_accepted_only_at_its_default(saves):
    """A checkpoint written before the option ``r1`` existed resumes when the run leaves ``r1`` at
    its default (the old behaviour); at another value it is a different run, refused."""
    directory, _ = saves
    defaults = {"lr": 0.001, "loss": "softmax", "r1": 0.0}
    config = {"lr": 0.01, "loss": "softmax", "r1": 0.0}
    with pytest.raises(CheckpointMismatchError, match="r1: the checkpoint has '<absent>', expected 0.0"):
        Checkpointer(directory).restore(make_state(), config=config)  # without the defaults: refused
    assert Checkpointer(directory).restore(make_state(), config=config, config_defaults=defaults).step == 3
    with pytest.raises(CheckpointMismatchError, match="r1: the checkpoint has '<absent>', expected 10.0"):
        Checkpointer(directory).restore(make_state(), config={**config, "r1": 10.0}, config_defaults=defaults)
    # a stored field that differs from the run is still a mismatch, default or not
    with pytest.raises(CheckpointMismatchError, match=r"lr: the checkpoint has 0.01, expected 0.001"):
        Checkpointer(directory).restore(make_state(), config={**config, "lr": 0.001}, config_defaults=defaults)


@pytest.mark.parametrize("damage", ["truncate", "flip_bytes", "delete_file", "no_manifest", "bad_meta"])
def test_damaged_newest_falls_back_to_the_previous(saves, damage):
    directory, states = saves
    files = step_files(directory, 3)
    data_files = [p for p in files if "/d/" in p.as_posix()]
    if damage == "truncate":
        for p in data_files:
            os.truncate(p, p.stat().st_size // 2)
    elif damage == "flip_bytes":  # same size, different content: only a digest can tell
        p = max(data_files, key=lambda p: p.stat().st_size)
        b = bytearray(p.read_bytes())
        b[len(b) // 2] ^= 0xFF
        p.write_bytes(bytes(b))
    elif damage == "delete_file":
        data_files[0].unlink()
    elif damage == "no_manifest":  # the process died after orbax's rename, before the manifest
        (directory / "3" / "jaxgan_manifest.json").unlink()
    elif damage == "bad_meta":
        (directory / "3" / "meta" / "metadata").write_text('{"format": ')
    ck = Checkpointer(directory)
    with pytest.warns(CheckpointFallbackWarning, match=r"checkpoint step 3 .* restored step 2 instead"):
        restored = ck.restore(make_state())
    assert restored.step == 2
    assert [s for s, _ in restored.skipped] == [3]
    assert_same_bits(restored.state, states[2])
    moved = ck.quarantine(3)
    assert moved.is_dir() and ck.steps() == [2]


def test_killed_save_leaves_a_temporary_directory_that_is_ignored(saves):
    directory, states = saves
    partial = directory / "4.orbax-checkpoint-tmp-1700000000"  # what a save killed mid-way leaves
    (partial / "state").mkdir(parents=True)
    (partial / "state" / "half_written").write_bytes(b"\0" * 10)
    ck = Checkpointer(directory)
    assert ck.steps() == [2, 3]
    assert_same_bits(ck.restore(make_state()).state, states[3])
    assert partial.is_dir()  # a reader leaves it: it may be a save in progress in another process
    ck.save(5, states[3])
    assert not partial.exists()  # a writer tidies what a killed save left
    ck.close()


def test_nothing_readable_is_an_error_listing_each_step(saves):
    directory, _ = saves
    for s in (2, 3):
        (directory / str(s) / "jaxgan_manifest.json").unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback warning when nothing could be restored
        with pytest.raises(CheckpointCorruptError, match=r"no readable checkpoint .*step 3: .*step 2: "):
            Checkpointer(directory).restore(make_state())


def test_missing_checkpoint_and_stale_step(saves, tmp_path):
    with pytest.raises(CheckpointNotFoundError, match="no checkpoint in"):
        Checkpointer(tmp_path / "nothing_here").restore(make_state())
    assert not (tmp_path / "nothing_here").exists()  # reading never creates directories
    directory, _ = saves
    with pytest.raises(CheckpointNotFoundError, match=r"no checkpoint at step 7 .*\[2, 3\]"):
        Checkpointer(directory).restore(make_state(), step=7)
    with pytest.raises(CheckpointError, match="already holds step 3"):
        Checkpointer(directory).save(3, make_state())


def test_abstract_like_keeps_shapes_dtypes_and_sharding():
    st = make_state()
    ab = abstract_like(st)
    for a, x in zip(jax.tree.leaves(ab), jax.tree.leaves(st)):
        assert isinstance(a, jax.ShapeDtypeStruct)
        assert a.shape == x.shape and a.dtype == x.dtype and a.sharding == x.sharding
    assert jax.tree.structure(abstract_like(ab)) == jax.tree.structure(ab)
