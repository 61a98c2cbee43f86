"""Which compiled loop trains the toy GAN (``--loop auto|scan|kernel``).

``scan`` is :func:`jaxgan.fit`'s own ``lax.scan`` loop; ``kernel`` is the lecture recipe's whole
chunk of iterations as one GPU kernel (:mod:`jaxgan.speedups.toy_gan_kernel`), handed to ``fit`` as its
``chunk_runner``. ``config`` is the experiment's :class:`~experiments.toy_gan.config.ToyConfig`.
"""

from __future__ import annotations

from experiments.runner import UserError

__all__ = ["choose_loop", "kernel_unavailable"]


def kernel_unavailable(config, states, data, devices: int):
    """Why the loop-as-one-kernel (:mod:`jaxgan.speedups.toy_gan_kernel`) cannot train this run, or ``None``.

    The kernel computes the lecture recipe's update (Adam with a constant step, no penalty) for the
    non-modular step, on one device; :func:`jaxgan.speedups.toy_gan_kernel.toy_gan_loop_unavailable` checks
    the shapes (powers of two, whole batches)."""
    import jax

    from jaxgan.speedups.toy_gan_kernel import toy_gan_loop_unavailable

    if config.recipe != "lecture":
        return f"it computes the lecture recipe (recipe {config.recipe!r} has R1 and a decaying step size)"
    if config.modular:
        return "--modular trains through GANLoss, which the kernel does not call"
    if devices != 1:
        return f"it runs on one device ({devices} in the mesh)"
    return toy_gan_loop_unavailable(jax.tree.map(lambda x: x[0], states), data[0], config.batch_size)


def choose_loop(config, states, data, devices: int):
    """``(loop, chunk_runner)``: ``("kernel", length -> make_toy_gan_loop(...))`` or ``("scan", None)``
    (``fit``'s own ``lax.scan`` loop).

    ``--loop auto`` takes the kernel on a GPU where it applies: there the ``scan`` loop's ~69 tiny
    kernels per iteration are bound by their launches, which the one kernel does not pay. Its
    products are full float32 (XLA:GPU's are TF32 by default), so the two agree to float32
    rounding, not bit for bit. ``--loop kernel`` off a GPU runs the same kernel in Pallas's
    interpreter: slow, for checking."""
    import jax

    from jaxgan.speedups.toy_gan_kernel import AdamSettings, make_toy_gan_loop

    on_gpu = jax.default_backend() == "gpu"
    if config.loop == "scan" or (config.loop == "auto" and not on_gpu):
        return "scan", None
    why = kernel_unavailable(config, states, data, devices)
    if why is not None:
        if config.loop == "auto":
            return "scan", None
        raise UserError(f"--loop kernel: the toy GAN kernel cannot train this: {why}; use --loop scan")

    def chunk_runner(length):
        return make_toy_gan_loop(length, batch_size=config.batch_size, adam=AdamSettings(lr=config.lr),
                                 vmapped=True, vmap_data=True, interpret=not on_gpu)

    return "kernel" if on_gpu else "kernel (interpreted)", chunk_runner
