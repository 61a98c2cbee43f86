"""What the tests of the translation experiments (CycleGAN, pix2pix) share: a tiny run trained in the
test process, its held-out digits as PNG files, the bit-identical-resume check, one-line errors."""

import contextlib
import io

import jax
import numpy as np
import pytest
from PIL import Image

from experiments.runner import run_main
from jaxgan.reliability.checkpoint import Checkpointer


@pytest.fixture(scope="module", autouse=True)
def classic_threefry():
    """Every test of a module that imports this fixture on the classic (non-partitionable) threefry,
    which XLA:CPU compiles several times faster: the runs' steps and their networks' initialisation
    draw random numbers."""
    with jax.threefry_partitionable(False):
        yield


def train_in_process(prog: str, main, argv, cache) -> tuple[int, str]:
    """Runs an experiment's ``main`` on ``argv`` here, classifiers cached in ``cache``; returns
    ``(exit status, what it printed)``.

    In this process, not a new one: no second interpreter and imports to pay for. The classic
    (non-partitionable) threefry compiles the step's random draws several times faster on XLA:CPU.
    """
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as env, contextlib.redirect_stdout(printed), jax.threefry_partitionable(False):
        env.setenv("JAXGAN_CACHE", str(cache))
        status = run_main(prog, main, list(argv))
    return status, printed.getvalue()


def write_held_out_pngs(folder, task) -> None:
    """The task's held-out digits as 8-bit PNG files: ``x`` in ``folder/A``, their answers ``T(x)``
    in ``folder/B``, both named ``0000.png``, ``0001.png``, ... in the task's order."""
    from jaxgan.data.unpaired import to_uint8

    for domain, images in (("A", task.test_a.images), ("B", task.test_b.images)):
        (folder / domain).mkdir(parents=True)
        for i, image in enumerate(to_uint8(images)):
            Image.fromarray(image[..., 0]).save(folder / domain / f"{i:04d}.png")


def read_pngs(folder, n: int) -> np.ndarray:
    """``folder/0000.png`` ... as ``[n, H, W, 1]`` on the [0, 1] scale."""
    return np.stack([np.asarray(Image.open(folder / f"{i:04d}.png")) for i in range(n)])[..., None] / 255.0


def assert_resumed_bit_identical(full, resumed, step: int, earlier: int) -> None:
    """The ``step`` checkpoints of two run directories hold the same bits, and the ``earlier`` one of
    ``full`` differs from them in most arrays (the steps between did train: the equality is not trivial)."""
    leaves_full = jax.tree.leaves(Checkpointer(full / "checkpoints").restore(step=step).state)
    leaves_resumed = jax.tree.leaves(Checkpointer(resumed / "checkpoints").restore(step=step).state)
    assert len(leaves_full) == len(leaves_resumed) > 20
    for x, y in zip(leaves_full, leaves_resumed):
        assert np.asarray(x).tobytes() == np.asarray(y).tobytes()
    at_earlier = jax.tree.leaves(Checkpointer(full / "checkpoints").restore(step=earlier).state)
    changed = sum(np.asarray(x).tobytes() != np.asarray(y).tobytes() for x, y in zip(at_earlier, leaves_full))
    assert changed > len(at_earlier) // 2


def one_line_error(capsys, prog: str, main, argv) -> str:
    """Runs ``main`` on ``argv``, which must fail with exit status 2 and one line on stderr, starting
    ``"<prog>: error: "``; returns that line without the prefix."""
    assert run_main(prog, main, list(argv)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{prog}: error: "), err
    return err.strip()[len(f"{prog}: error: ") :]
